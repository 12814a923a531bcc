"""2-D toy distributions: labelled Gaussian blobs, moons, swiss roll, ring, grid.

Randomness only comes from the `generator` argument: samples are drawn on the
generator's device (CPU when it is None) in float64, except on Apple MPS, which has no
float64 and works in float32; the result is cast to `dtype` once, at the end.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from gentorch._checks import check_choice, check_generator, check_int, check_number
from gentorch.data._common import (
    LabeledData,
    _as_cpu_float64,
    _check_dtype,
    _work_dtype,
)
from gentorch.utils import randn

__all__ = [
    "SWISS_ROLL_SCALE",
    "TOY_2D_NAMES",
    "gaussian_blobs",
    "grid",
    "grid_centers",
    "moons",
    "ring",
    "ring_centers",
    "swiss_roll",
    "toy_2d",
]

#: `swiss_roll` divides the classic roll (radius up to 4.5 pi) by 5, as in FFJORD.
SWISS_ROLL_SCALE = 1 / 5
#: Names accepted by `toy_2d`.
TOY_2D_NAMES = ("moons", "swiss_roll", "ring", "grid")


def _device(generator: torch.Generator | None) -> torch.device:
    return check_generator(generator)


def _randn(shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal draws in the working dtype, on the generator's device."""
    device = _device(generator)
    return randn(shape, generator=generator, device=device, dtype=_work_dtype(device))


def gaussian_blobs(
    n: int,
    *,
    means: Any,
    covs: Any = None,
    priors: Any = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> LabeledData:
    """Labelled Gaussian mixture: y ~ Cat(priors), x | y ~ N(mu_y, S_y).

    Args:
        n: number of samples.
        means: component means mu_k, array-like of shape (K, D). Like `covs` and
            `priors`, a list, NumPy array or tensor on any device.
        covs: None (identity for every class), one shared (D, D) covariance, or
            (K, D, D) per-class covariances; each symmetric positive definite.
        priors: class probabilities (K,), non-negative, summing to 1; None = uniform.
        generator: source of randomness.
        dtype: floating dtype of x.

    Returns:
        `LabeledData(x, y)` with x (n, D) in `dtype` and y (n,) int64 in [0, K).
    """
    n = check_int("n", n, minimum=1)
    device = _device(generator)
    _check_dtype(dtype, device)
    # Validate and factorise on the CPU in float64, whatever device the inputs are on.
    mu = _as_cpu_float64("means", means)
    if mu.ndim != 2 or mu.shape[0] < 1 or mu.shape[1] < 1 or not mu.isfinite().all():
        raise ValueError(f"means must be finite, shape (K, D); got {tuple(mu.shape)}")
    k, d = mu.shape
    if covs is None:
        sigma = torch.eye(d, dtype=torch.float64).expand(k, d, d)
    else:
        sigma = _as_cpu_float64("covs", covs)
        if sigma.shape == (d, d):
            sigma = sigma.expand(k, d, d)
        if sigma.shape != (k, d, d):
            raise ValueError(
                f"covs must be None, ({d}, {d}) or ({k}, {d}, {d}); "
                f"got {tuple(sigma.shape)}"
            )
    chol, info = torch.linalg.cholesky_ex(sigma)
    symmetric = torch.allclose(sigma, sigma.mT, atol=1e-8)
    if not symmetric or bool((info != 0).any()) or not sigma.isfinite().all():
        raise ValueError("covs must be symmetric positive definite (Cholesky failed)")
    if priors is None:
        pi = torch.full((k,), 1.0 / k, dtype=torch.float64)
    else:
        pi = _as_cpu_float64("priors", priors)
        if (
            pi.shape != (k,)
            or not pi.isfinite().all()
            or (pi < 0).any()
            or abs(float(pi.sum()) - 1.0) > 1e-6
        ):
            raise ValueError(
                f"priors must be None or {k} finite non-negative numbers summing to 1; "
                f"got {pi.tolist()}"
            )
    work = _work_dtype(device)
    y = torch.multinomial(pi.to(device, work), n, replacement=True, generator=generator)
    eps = _randn((n, d, 1), generator)
    # x = mu_y + L_y eps with L_y L_y^T = S_y; (n, D, D) @ (n, D, 1) -> (n, D)
    x = mu.to(device, work)[y] + (chol.to(device, work)[y] @ eps).squeeze(-1)
    return LabeledData(x.to(dtype), y)


def moons(
    n: int,
    *,
    noise: float = 0.1,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> LabeledData:
    """Two interleaving half circles, as `sklearn.datasets.make_moons`.

    Moon 0 is the upper half of the unit circle centred at (0, 0); moon 1 is the lower
    half centred at (1, 0.5). Moon 0 gets n // 2 points, moon 1 the rest, evenly spaced
    in angle; then N(0, noise^2 I) is added and the rows are shuffled.

    Args:
        n: number of samples.
        noise: standard deviation of the Gaussian noise.
        generator: source of randomness.
        dtype: floating dtype of x.

    Returns:
        `LabeledData(x, y)` with x (n, 2) and y (n,) int64 saying which moon.
    """
    n = check_int("n", n, minimum=1)
    noise = check_number("noise", noise, low=0)
    device = _device(generator)
    _check_dtype(dtype, device)
    work = _work_dtype(device)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = torch.linspace(0, math.pi, n_upper, dtype=work, device=device)
    t_lower = torch.linspace(0, math.pi, n_lower, dtype=work, device=device)
    upper = torch.stack([t_upper.cos(), t_upper.sin()], dim=1)
    lower = torch.stack([1 - t_lower.cos(), 0.5 - t_lower.sin()], dim=1)
    x = torch.cat([upper, lower])
    y = (torch.arange(n, device=device) >= n_upper).long()
    x = x + noise * _randn(x.shape, generator)
    order = torch.randperm(n, device=device, generator=generator)
    return LabeledData(x[order].to(dtype), y[order])


def swiss_roll(
    n: int,
    *,
    noise: float = 0.25,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """2-D swiss roll: x = s ((t cos t, t sin t) + noise eps), t ~ U[1.5 pi, 4.5 pi].

    The scale s = `SWISS_ROLL_SCALE` = 1/5, as in FFJORD's toy data, puts noise-free
    samples in about [-1.9, 2.6] x [-2.3, 2.9] (noise is in the unscaled units).

    Args:
        n: number of samples.
        noise: noise standard deviation in the unscaled roll's units.
        generator: source of randomness.
        dtype: floating dtype of the result.

    Returns:
        Samples of shape (n, 2).
    """
    n = check_int("n", n, minimum=1)
    noise = check_number("noise", noise, low=0)
    device = _device(generator)
    _check_dtype(dtype, device)
    u = torch.rand(n, dtype=_work_dtype(device), device=device, generator=generator)
    t = 1.5 * math.pi * (1 + 2 * u)
    x = torch.stack([t * t.cos(), t * t.sin()], dim=1)
    x = x + noise * _randn(x.shape, generator)
    return (x * SWISS_ROLL_SCALE).to(dtype)


def ring_centers(
    *, modes: int = 8, radius: float = 1.0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Centres of the ring mixture: radius * (cos 2 pi k / modes, sin 2 pi k / modes).

    Computed in float64 and cast once, so `dtype=torch.float64` gives the centres to
    float64 precision (cos 45 deg = 0.7071067811865476, not float32's 0.70710677).

    Returns:
        Tensor (modes, 2) in `dtype`; the first centre is (radius, 0).
    """
    modes = check_int("modes", modes, minimum=1)
    radius = check_number("radius", radius, low=0)
    _check_dtype(dtype)
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float64) / modes
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).to(dtype)


def grid_centers(*, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Centres of the grid mixture: all 25 points of {-4, -2, 0, 2, 4}^2.

    Returns:
        Tensor (25, 2) in `dtype`, x varying slowest.
    """
    _check_dtype(dtype)
    coords = torch.arange(-4.0, 5.0, 2.0, dtype=torch.float64)
    xx, yy = torch.meshgrid(coords, coords, indexing="ij")
    # (5, 5) -> (25, 2)
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(dtype)


def _mixture(centers: torch.Tensor, n: int, std: float, generator, dtype):
    device = _device(generator)
    k = torch.randint(len(centers), (n,), device=device, generator=generator)
    centers = centers.to(device=device, dtype=_work_dtype(device))
    return (centers[k] + std * _randn((n, 2), generator)).to(dtype)


def ring(
    n: int,
    *,
    modes: int = 8,
    radius: float = 1.0,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Uniform mixture of `modes` Gaussians N(c_k, std^2 I), c_k = `ring_centers`.

    The mode-collapse benchmark of Lin et al. 2018, "PacGAN: The power of two samples
    in generative adversarial networks" (8 modes, unit radius, std 0.01).

    Returns:
        Samples of shape (n, 2).
    """
    n = check_int("n", n, minimum=1)
    std = check_number("std", std, low=0)
    _check_dtype(dtype, _device(generator))
    centers = ring_centers(modes=modes, radius=radius, dtype=torch.float64)
    return _mixture(centers, n, std, generator, dtype)


def grid(
    n: int,
    *,
    std: float = 0.05,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Uniform mixture of 25 Gaussians N(c_k, std^2 I) at `grid_centers`.

    The 2-D grid benchmark of Lin et al. 2018, "PacGAN" (std 0.05).

    Returns:
        Samples of shape (n, 2).
    """
    n = check_int("n", n, minimum=1)
    std = check_number("std", std, low=0)
    _check_dtype(dtype, _device(generator))
    return _mixture(grid_centers(dtype=torch.float64), n, std, generator, dtype)


def toy_2d(
    name: Literal["moons", "swiss_roll", "ring", "grid"],
    n: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Samples (n, 2) float32 of a named toy distribution with its default parameters.

    Args:
        name: one of `TOY_2D_NAMES`: "moons" (labels dropped), "swiss_roll", "ring",
            "grid".
        n: number of samples.
        generator: source of randomness.
    """
    check_choice("name", name, TOY_2D_NAMES)
    if name == "moons":
        return moons(n, generator=generator).x
    samplers = {"swiss_roll": swiss_roll, "ring": ring, "grid": grid}
    return samplers[name](n, generator=generator)
