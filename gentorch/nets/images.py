"""Image encoders and decoders (8x8 and 28x28) and the discretized-logistic head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import nn

from gentorch._checks import (
    check_choice,
    check_int,
    check_number,
    check_tensor,
)
from gentorch.distributions import discretized_logistic_logits
from gentorch.nets.mlp import _LAYERS, MLP, Activation, _activation, _widths

__all__ = [
    "ConvDecoder",
    "ConvEncoder",
    "DiscretizedLogistic",
    "MLPDecoder",
    "MLPEncoder",
]

ImageOutput = Literal["tanh", "sigmoid", None]
ImageSize = Literal[8, 28]


def _conv_sizes(name: str, channels: Sequence[int], image_size: int) -> list[int]:
    """Check `channels` and return the spatial sizes, one halving per entry."""
    channels = _widths(name, channels, allow_empty=False)
    sizes = [image_size]
    while sizes[-1] % 2 == 0:
        sizes.append(sizes[-1] // 2)
    if len(channels) >= len(sizes):
        path = " -> ".join(str(s) for s in sizes)
        raise ValueError(
            f"{name} must have at most {len(sizes) - 1} entries for "
            f"image_size={image_size} (each halves the size: {path}); "
            f"got {len(channels)}"
        )
    return sizes[: len(channels) + 1]


class _ImageEncoder(nn.Module):
    """The input check and forward pass shared by the image encoders."""

    image_size: int
    in_channels: int

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.image_size
        check_tensor("x", x, shape=("B", self.in_channels, size, size), floating=True)
        return self.net(x)


class _ImageDecoder(nn.Module):
    """The input check and forward pass shared by the image decoders."""

    in_dim: int

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_tensor("z", z, shape=("B", self.in_dim), floating=True)
        return self.net(z)


class MLPEncoder(_ImageEncoder):
    """Flatten an image and map it through an `MLP`: an image to a vector.

    The encoder of the book's autoencoders on 8x8 digits, where a multilayer
    perceptron on the 64 pixels trains faster than convolutions and reconstructs
    better. The output is linear (a latent code, or a VAE's mean and log-variance).

    Args:
        out_dim: output features.
        image_size: height and width of the square input (8 for digits, 28 for MNIST).
        in_channels: input channels (1 for digits and MNIST).
        hidden: widths of the hidden layers.
        activation: as for `MLP`.

    Shapes:
        x: (B, in_channels, image_size, image_size); output: (B, out_dim).
    """

    def __init__(
        self,
        out_dim: int,
        *,
        image_size: int,
        in_channels: int = 1,
        hidden: Sequence[int] = (256, 128),
        activation: Activation = "relu",
    ) -> None:
        super().__init__()
        self.image_size = check_int("image_size", image_size, minimum=1)
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        pixels = self.in_channels * self.image_size**2
        mlp = MLP(pixels, out_dim, hidden=hidden, activation=activation)
        self.out_dim = mlp.out_dim
        # (B, C, H, W) -> (B, C*H*W), then the MLP's layers
        self.net = nn.Sequential(nn.Flatten(), *mlp.net)


class MLPDecoder(_ImageDecoder):
    """An `MLP` whose output is reshaped into an image: a vector to an image.

    The mirror of `MLPEncoder`; `output_activation` maps to the pixel range.

    Args:
        in_dim: input features (a latent code).
        image_size: height and width of the square output.
        out_channels: output channels (1 for digits and MNIST).
        hidden: widths of the hidden layers, narrowest first.
        activation: as for `MLP`.
        output_activation: ``"tanh"`` (the data range [-1, 1]), ``"sigmoid"``
            ([0, 1]) or None (raw values, e.g. a Gaussian mean or logits).

    Shapes:
        z: (B, in_dim); output: (B, out_channels, image_size, image_size).
    """

    def __init__(
        self,
        in_dim: int,
        *,
        image_size: int,
        out_channels: int = 1,
        hidden: Sequence[int] = (128, 256),
        activation: Activation = "relu",
        output_activation: ImageOutput = "tanh",
    ) -> None:
        super().__init__()
        self.image_size = check_int("image_size", image_size, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        check_choice("output_activation", output_activation, get_args(ImageOutput))
        size, channels = self.image_size, self.out_channels
        mlp = MLP(
            in_dim,
            channels * size**2,
            hidden=hidden,
            activation=activation,
            output_activation=output_activation,
        )
        self.in_dim = mlp.in_dim
        # the MLP's layers, then (B, C*H*W) -> (B, C, H, W)
        self.net = nn.Sequential(*mlp.net, nn.Unflatten(1, (channels, size, size)))


class ConvEncoder(_ImageEncoder):
    """Strided convolutions, then one linear layer: an image to a vector.

    Each entry of `channels` is a 4x4 convolution with stride 2 and padding 1 followed
    by `activation`; it halves the height and width (8 -> 4 -> 2, 28 -> 14 -> 7 with
    the default two entries). The final feature map is flattened and mapped to
    `out_dim` by a linear layer with no activation (logits, or a latent code).

    Args:
        out_dim: output features.
        image_size: height and width of the square input, 8 or 28.
        in_channels: input channels (1 for digits and MNIST).
        channels: output channels of each convolution; at most 3 entries for
            ``image_size=8`` and 2 for 28, so that every halving is exact.
        activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2, for discriminators),
            ``"silu"``, ``"gelu"`` or ``"tanh"``.

    Shapes:
        x: (B, in_channels, image_size, image_size); output: (B, out_dim).
    """

    def __init__(
        self,
        out_dim: int,
        *,
        image_size: ImageSize,
        in_channels: int = 1,
        channels: Sequence[int] = (32, 64),
        activation: Activation = "relu",
    ) -> None:
        super().__init__()
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        self.image_size = check_choice("image_size", image_size, get_args(ImageSize))
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        sizes = _conv_sizes("channels", channels, self.image_size)
        check_choice("activation", activation, get_args(Activation))
        widths = (self.in_channels, *_widths("channels", channels, allow_empty=False))
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
            conv = nn.Conv2d(width_in, width_out, kernel_size=4, stride=2, padding=1)
            layers += [conv, _LAYERS[activation]()]
        layers += [
            nn.Flatten(),  # (B, C, s, s) -> (B, C*s*s)
            nn.Linear(widths[-1] * sizes[-1] ** 2, self.out_dim),
        ]
        self.net = nn.Sequential(*layers)


class ConvDecoder(_ImageDecoder):
    """One linear layer, then transposed convolutions: a vector to an image.

    The mirror of `ConvEncoder`: a linear layer and `activation` give a feature map of
    ``channels[0]`` channels at ``image_size / 2**len(channels)`` pixels; each entry of
    `channels` is then a 4x4 transposed convolution with stride 2 and padding 1 that
    exactly doubles the size (2 -> 4 -> 8, 7 -> 14 -> 28), the last one producing
    `out_channels`. Activations sit between layers, `output_activation` at the end.

    Args:
        in_dim: input features (a latent code or generator noise).
        image_size: height and width of the square output, 8 or 28.
        out_channels: output channels (1 for digits and MNIST).
        channels: input channels of each transposed convolution, widest first; at
            most 3 entries for ``image_size=8`` and 2 for 28.
        activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2), ``"silu"``,
            ``"gelu"`` or ``"tanh"``.
        output_activation: ``"tanh"`` (the data range [-1, 1]), ``"sigmoid"``
            ([0, 1]) or None (raw values, e.g. a Gaussian mean or logits).

    Shapes:
        z: (B, in_dim); output: (B, out_channels, image_size, image_size).
    """

    def __init__(
        self,
        in_dim: int,
        *,
        image_size: ImageSize,
        out_channels: int = 1,
        channels: Sequence[int] = (64, 32),
        activation: Activation = "relu",
        output_activation: ImageOutput = "tanh",
    ) -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, minimum=1)
        self.image_size = check_choice("image_size", image_size, get_args(ImageSize))
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        size = _conv_sizes("channels", channels, self.image_size)[-1]
        check_choice("activation", activation, get_args(Activation))
        outputs = _activation(
            "output_activation", output_activation, get_args(ImageOutput)
        )
        widths = (*_widths("channels", channels, allow_empty=False), self.out_channels)
        layers: list[nn.Module] = [
            nn.Linear(self.in_dim, widths[0] * size**2),
            _LAYERS[activation](),
            nn.Unflatten(1, (widths[0], size, size)),  # (B, C*s*s) -> (B, C, s, s)
        ]
        for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
            up = nn.ConvTranspose2d(width_in, width_out, 4, stride=2, padding=1)
            layers += [up, _LAYERS[activation]()]
        layers.pop()  # the last convolution gets output_activation instead
        self.net = nn.Sequential(*layers, *outputs)


class DiscretizedLogistic(nn.Module):
    """A decoder's last layer: 3M numbers per pixel -> the logits of K grey levels.

    Reads its input's last dimension as M locations, M log-scales and M mixture
    logits of logistics in the model range [-1, 1], and returns
    `gentorch.distributions.discretized_logistic_logits`: a categorical distribution
    over the K levels in which neighbouring levels share probability mass (an
    ordinal likelihood; Salimans et al. 2017). Log-scales are clamped at
    `min_log_scale`, so that no level gets all the mass at once.

    Args:
        levels: K, the number of grey levels (17 for the bundled digits).
        components: M, the logistics in the mixture.
        min_log_scale: the smallest log-scale, in model-range units.

    Shapes:
        x: (..., 3 * components); output: (..., levels).
    """

    def __init__(
        self, levels: int, *, components: int = 1, min_log_scale: float = -7.0
    ) -> None:
        super().__init__()
        self.levels = check_int("levels", levels, minimum=2)
        self.components = check_int("components", components, minimum=1)
        self.min_log_scale = check_number("min_log_scale", min_log_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.components
        check_tensor("x", x, floating=True)
        if x.ndim == 0 or x.shape[-1] != 3 * m:
            raise ValueError(
                f"x must have shape (..., {3 * m}) (3 * components); "
                f"got {tuple(x.shape)}"
            )
        # (..., 3M) -> three (..., M)
        loc, log_scale, weight_logits = x.split(m, dim=-1)
        log_scale = log_scale.clamp(min=self.min_log_scale)
        return discretized_logistic_logits(
            loc, log_scale, weight_logits, levels=self.levels
        )

    def extra_repr(self) -> str:
        return f"levels={self.levels}, components={self.components}"
