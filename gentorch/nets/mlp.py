"""The multilayer perceptron and the activation names every network module shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import nn

from gentorch._checks import (
    check_choice,
    check_instance,
    check_int,
    check_number,
    check_tensor,
)

__all__ = ["MLP"]

Activation = Literal["relu", "leaky_relu", "silu", "gelu", "tanh"]
OutputActivation = Literal[
    None, "tanh", "sigmoid", "relu", "leaky_relu", "silu", "gelu"
]

_LAYERS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),  # the GAN convention (Radford et al. 2016)
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def _activation(name: str, value: str | None, choices: tuple) -> list[nn.Module]:
    """The layer for a checked activation name, as a list (empty for None)."""
    check_choice(name, value, choices)
    return [] if value is None else [_LAYERS[value]()]


def _widths(name: str, value: Sequence[int], *, allow_empty: bool) -> tuple[int, ...]:
    check_instance(name, value, (tuple, list), what="tuple of ints")
    widths = tuple(check_int(f"{name} entries", n, minimum=1) for n in value)
    if not widths and not allow_empty:
        raise ValueError(f"{name} must have at least one entry; got {value!r}")
    return widths


class MLP(nn.Module):
    """Multilayer perceptron: h_{l+1} = act(W_l h_l + b_l), no act after the last layer.

    Linear layers of widths ``in_dim -> *hidden -> out_dim`` with `activation` between
    them, an optional normalisation before each hidden activation, optional dropout
    after it, and an optional
    `output_activation` at the end. ``hidden=()`` is a single linear layer.

    Args:
        in_dim: input features.
        out_dim: output features.
        hidden: widths of the hidden layers (a tuple or list of positive ints).
        activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2), ``"silu"``, ``"gelu"``
            or ``"tanh"``.
        output_activation: None (raw outputs, e.g. logits), ``"tanh"`` (data in
            [-1, 1]), ``"sigmoid"``, or one of the hidden activations.
        dropout: drop probability in [0, 1) after each hidden activation.
        norm: None, or ``"batch"`` for a `BatchNorm1d` between each hidden linear
            layer and its activation (the DCGAN generator's recipe, Radford et al.
            2016); inputs must then be (B, in_dim).

    Shapes:
        x: (..., in_dim), usually (B, in_dim); output: (..., out_dim).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        hidden: Sequence[int] = (128, 128),
        activation: Activation = "relu",
        output_activation: OutputActivation = None,
        dropout: float = 0.0,
        norm: Literal[None, "batch"] = None,
    ) -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, minimum=1)
        check_choice("norm", norm, (None, "batch"))
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        hidden = _widths("hidden", hidden, allow_empty=True)
        check_choice("activation", activation, get_args(Activation))
        outputs = _activation(
            "output_activation", output_activation, get_args(OutputActivation)
        )
        dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        widths = (self.in_dim, *hidden)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
            layers.append(nn.Linear(width_in, width_out))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(width_out))
            layers.append(_LAYERS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers += [nn.Linear(widths[-1], self.out_dim), *outputs]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, floating=True)
        if x.ndim == 0 or x.shape[-1] != self.in_dim:
            raise ValueError(
                f"x must have shape (..., {self.in_dim}) (last dimension "
                f"in_dim={self.in_dim}); got {tuple(x.shape)}"
            )
        return self.net(x)
