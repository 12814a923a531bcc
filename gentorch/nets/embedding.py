"""The sinusoidal timestep embedding of diffusion models."""

from __future__ import annotations

import math

import torch
from torch import nn

from gentorch._checks import check_int, check_number, check_tensor

__all__ = ["SinusoidalEmbedding", "sinusoidal_embedding"]


def _check_embedding(dim: int, max_period: float) -> tuple[int, float]:
    dim = check_int("dim", dim, minimum=2)
    if dim % 2:
        raise ValueError(f"dim must be an even int >= 2; got {dim}")
    return dim, check_number("max_period", max_period, low=0.0, low_open=True)


def sinusoidal_embedding(
    t: torch.Tensor, dim: int, *, max_period: float = 10000.0
) -> torch.Tensor:
    """Timestep embedding emb(t) = [cos(t w_0), ..., cos(t w_{h-1}), sin(t w_0), ...].

    The positional encoding of Vaswani et al. (2017, sec. 3.5) used for diffusion
    timesteps by Ho et al. (2020): with ``h = dim // 2`` frequencies
    w_i = max_period^(-i / h), i = 0, ..., h - 1, the first half of the output holds
    the cosines and the second half the sines. This is the convention of Nichol &
    Dhariwal's improved-diffusion; Vaswani et al. interleave sin and cos, and Ho et
    al.'s code puts the sines first with w_i = max_period^(-i / (h - 1)): variants
    that permute the features or rescale the frequencies slightly.
    The dot product of emb(t) and emb(t + k) depends on the offset k only.

    Args:
        t: one timestep (or position) per example, integer or floating; integers
            are converted to torch's default floating dtype (float32 unless changed).
        dim: embedding size, even and >= 2.
        max_period: the longest wavelength's scale (10000 in both papers); > 0.

    Returns:
        The embeddings, on `t`'s device, with `t`'s dtype when it is floating.

    Shapes:
        t: (B,); output: (B, dim).
    """
    check_tensor("t", t, shape=("B",))
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"t must be an integer or floating tensor; got dtype {t.dtype}")
    dim, max_period = _check_embedding(dim, max_period)
    dtype = t.dtype if t.is_floating_point() else torch.get_default_dtype()
    half = dim // 2
    exponents = torch.arange(half, device=t.device, dtype=dtype) / half
    freqs = torch.exp(-math.log(max_period) * exponents)  # w_i, shape (half,)
    angles = t.to(dtype)[:, None] * freqs[None, :]  # (B, 1) * (1, half) -> (B, half)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)  # (B, dim)


class SinusoidalEmbedding(nn.Module):
    """`sinusoidal_embedding` as a module (no parameters), to put in an `nn.Sequential`.

    Args:
        dim: embedding size, even and >= 2.
        max_period: the longest wavelength's scale; > 0.

    Shapes:
        t: (B,); output: (B, dim).
    """

    def __init__(self, dim: int, *, max_period: float = 10000.0) -> None:
        super().__init__()
        self.dim, self.max_period = _check_embedding(dim, max_period)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return sinusoidal_embedding(t, self.dim, max_period=self.max_period)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, max_period={self.max_period:g}"
