"""Autoregressive models: p(x) = prod_d p(x_d | x_<d) with masked networks.

`MaskedLinear` is a linear layer with a fixed 0/1 mask on its weight; `MADE` stacks
them so that the outputs of dimension d depend only on the inputs before d (Germain
et al. 2015): the likelihood of every dimension in one pass. `sample` draws from any
such network over discrete tokens, one dimension per pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import get_args

import torch
import torch.nn.functional as F
from torch import nn

from gentorch._checks import (
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_tensor,
)
from gentorch.nets.mlp import _LAYERS, Activation, _widths
from gentorch.utils import rand

__all__ = ["MADE", "MaskedLinear", "sample"]


class MaskedLinear(nn.Linear):
    """y = (W * M) x + b: a linear layer whose weight is multiplied by a fixed 0/1 mask.

    Shapes:
        mask: (out_features, in_features); x: (..., in_features).
    """

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor) -> None:
        super().__init__(in_features, out_features)
        check_tensor("mask", mask, shape=(out_features, in_features))
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """An autoregressive network: output d depends only on inputs 0..d-1.

    A multilayer perceptron whose weights are masked (Germain et al. 2015): every
    unit gets a degree, inputs 1..D, hidden units cycling through 1..D-1; a hidden
    unit sees the units of the layer below with degree <= its own, and the outputs
    of dimension d (degree d) see hidden units of degree < d. So
    p(x) = prod_d p(x_d | x_<d) can be read off in one pass, for training; sampling
    needs D passes, one dimension at a time. The outputs of the first dimension
    depend on no input (only on biases): its marginal.

    Args:
        dim: D, the input dimensions, in their autoregressive order.
        out_per_dim: outputs per dimension (e.g. 17 logits, or a head's parameters).
        in_per_dim: input features per dimension (e.g. a one-hot token); with more
            than one, x has shape (B, dim, in_per_dim).
        hidden: widths of the hidden layers.
        activation: as for `MLP`.
        dropout: drop probability after each hidden activation.

    Shapes:
        x: (B, dim), or (B, dim, in_per_dim) when in_per_dim > 1;
        output: (B, dim, out_per_dim).
    """

    def __init__(
        self,
        dim: int,
        out_per_dim: int,
        *,
        in_per_dim: int = 1,
        hidden: Sequence[int] = (1024, 1024),
        activation: Activation = "silu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, minimum=2)
        self.out_per_dim = check_int("out_per_dim", out_per_dim, minimum=1)
        self.in_per_dim = check_int("in_per_dim", in_per_dim, minimum=1)
        widths = _widths("hidden", hidden, allow_empty=False)
        check_choice("activation", activation, get_args(Activation))
        dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        degrees = [torch.arange(1, dim + 1).repeat_interleave(in_per_dim)]
        for width in widths:
            degrees.append(torch.arange(width) % (dim - 1) + 1)
        layers: list[nn.Module] = []
        for below, above in zip(degrees[:-1], degrees[1:], strict=True):
            mask = (above[:, None] >= below[None, :]).float()
            layers += [MaskedLinear(len(below), len(above), mask)]
            layers.append(_LAYERS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        outputs = torch.arange(1, dim + 1).repeat_interleave(out_per_dim)
        mask = (outputs[:, None] > degrees[-1][None, :]).float()
        layers.append(MaskedLinear(len(degrees[-1]), len(outputs), mask))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = ("B", self.dim) + ((self.in_per_dim,) if self.in_per_dim > 1 else ())
        check_tensor("x", x, shape=shape, floating=True)
        # (B, D * out_per_dim) -> (B, D, out_per_dim)
        return self.net(x.flatten(1)).view(len(x), self.dim, self.out_per_dim)


@torch.no_grad()
def sample(
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    tokens: torch.Tensor,
    *,
    start: int = 0,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Ancestral sampling: x_j ~ p(x_j | x_<j) for j = start, ..., D - 1, in order.

    One call of `logits_fn` per dimension, each on the tokens drawn so far: D passes
    where the likelihood needed one. Tokens before `start` are kept (a prefix to
    condition on, such as a class label or the top of an image); those from `start`
    on are overwritten.

    Args:
        logits_fn: maps tokens (B, D), int64, to logits (B, D, K) whose row j depends
            only on tokens before j (an autoregressive network and its head).
        tokens: (B, D) int64, the prefix in the first `start` columns.
        start: the first dimension to draw, 0 <= start <= D.
        temperature: divides the logits; 1 samples the model, lower is greedier.
        generator: source of randomness (uniforms drawn on its device).

    Returns:
        A new (B, D) int64 tensor: the prefix, then the drawn tokens.
    """
    check_callable("logits_fn", logits_fn, signature="logits_fn(tokens)")
    check_tensor("tokens", tokens, shape=("B", "D"))
    if tokens.dtype != torch.int64:
        raise TypeError(f"tokens must be an int64 tensor; got dtype {tokens.dtype}")
    start = check_int("start", start, minimum=0)
    if start > tokens.shape[1]:
        raise ValueError(f"start must be <= D = {tokens.shape[1]}; got {start}")
    temperature = check_number("temperature", temperature, low=0.0, low_open=True)
    tokens = tokens.clone()
    for j in range(start, tokens.shape[1]):
        logits = logits_fn(tokens)
        check_tensor(
            "logits_fn(tokens)", logits, shape=(len(tokens), tokens.shape[1], None)
        )
        probs = torch.softmax(logits[:, j].float() / temperature, dim=-1)
        # inverse CDF: the first level whose cumulative probability exceeds u
        u = rand((len(tokens), 1), generator=generator, device=probs.device)
        level = (probs.cumsum(-1) < u).sum(-1)
        tokens[:, j] = level.clamp(max=probs.shape[-1] - 1)
    return tokens
