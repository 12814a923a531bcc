"""Data sets for the book: 2-D toy distributions, bundled 8x8 digits, MNIST.

Everything except `mnist` works offline. Images are returned in the model range
[-1, 1]; `to_pixel_range` maps them back. Randomness only comes from the `generator`
argument: samples are drawn on the generator's device (CPU when it is None) in
float64, except on Apple MPS, which has no float64 and works in float32.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import socket
from collections.abc import Iterable, Iterator
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import torch

from gentorch._checks import check_int

__all__ = [
    "DIGITS_SPLIT_SEED",
    "DIGITS_SPLIT_SIZES",
    "LabeledData",
    "MNIST_HOSTS",
    "SWISS_ROLL_SCALE",
    "TOY_2D_NAMES",
    "digits",
    "gaussian_blobs",
    "grid",
    "grid_centers",
    "infinite",
    "mnist",
    "moons",
    "ring",
    "ring_centers",
    "swiss_roll",
    "to_pixel_range",
    "toy_2d",
]

#: `digits` split sizes (train, val, test); they add up to the 1797 images.
DIGITS_SPLIT_SIZES: dict[str, int] = {"train": 1257, "val": 270, "test": 270}
#: Seed of the fixed permutation behind the `digits` split (independent of user seeds).
DIGITS_SPLIT_SEED = 1797
#: `swiss_roll` divides the classic roll (radius up to 4.5 pi) by 5, as in FFJORD.
SWISS_ROLL_SCALE = 1 / 5
#: Names accepted by `toy_2d`.
TOY_2D_NAMES = ("moons", "swiss_roll", "ring", "grid")
#: (host, port) torchvision downloads from; used when torchvision lists no mirrors.
MNIST_HOSTS: dict[str, tuple[str, int]] = {
    "mnist": ("ossci-datasets.s3.amazonaws.com", 443),
    "fashion": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
}


class LabeledData(NamedTuple):
    """Inputs and integer class labels.

    Shapes:
        x: (N, ...); y: (N,) int64.
    """

    x: torch.Tensor
    y: torch.Tensor


def _check_n(n: Any) -> int:
    return check_int("n", n, minimum=1)


def _check_dtype(dtype: Any, device: torch.device | None = None) -> None:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype; got {dtype!r}")
    no_float64 = device is not None and _work_dtype(device) != torch.float64
    if dtype == torch.float64 and no_float64:
        raise TypeError(
            f"dtype must not be torch.float64 on a {device.type} generator, which has "
            "no float64; use torch.float32 or a CPU generator"
        )


def _check_number(name: str, value: Any, *, positive: bool = False) -> float:
    """Python or NumPy real number (not bool), finite and >= 0 (> 0), as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}")
    return value


def _device(generator: torch.Generator | None) -> torch.device:
    if generator is None:
        return torch.device("cpu")
    if not isinstance(generator, torch.Generator):
        kind = type(generator).__name__
        raise TypeError(f"generator must be a torch.Generator or None; got {kind}")
    return generator.device


def _work_dtype(device: torch.device) -> torch.dtype:
    """Dtype the samplers compute in on `device`: float64, but float32 on MPS."""
    return torch.float32 if device.type == "mps" else torch.float64


def _as_cpu_float64(name: str, value: Any) -> torch.Tensor:
    """Array-like parameter -> detached CPU float64 tensor, for validation."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"{name} must hold real numbers; got dtype {value.dtype}")
        # Copy to the CPU first: MPS tensors cannot be cast to float64 where they are.
        return value.detach().to("cpu").to(torch.float64)
    try:
        # Parse Python floats straight into float64 (via float32 they would round).
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        kind = type(value).__name__
        raise TypeError(
            f"{name} must be an array-like of real numbers; got {kind}"
        ) from error


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
    n = _check_n(n)
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
    n = _check_n(n)
    noise = _check_number("noise", noise)
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
    n = _check_n(n)
    noise = _check_number("noise", noise)
    device = _device(generator)
    _check_dtype(dtype, device)
    u = torch.rand(n, dtype=_work_dtype(device), device=device, generator=generator)
    t = 1.5 * math.pi * (1 + 2 * u)
    x = torch.stack([t * t.cos(), t * t.sin()], dim=1)
    x = x + noise * _randn(x.shape, generator)
    return (x * SWISS_ROLL_SCALE).to(dtype)


def ring_centers(*, modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    """Centres of the ring mixture: radius * (cos 2 pi k / modes, sin 2 pi k / modes).

    Returns:
        float32 tensor (modes, 2); the first centre is (radius, 0).
    """
    modes = check_int("modes", modes, minimum=1)
    radius = _check_number("radius", radius)
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float64) / modes
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_centers() -> torch.Tensor:
    """Centres of the grid mixture: all 25 points of {-4, -2, 0, 2, 4}^2.

    Returns:
        float32 tensor (25, 2), x varying slowest.
    """
    coords = torch.arange(-4.0, 5.0, 2.0)
    xx, yy = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (5, 5) -> (25, 2)


def _randn(shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
    device = _device(generator)
    dtype = _work_dtype(device)
    return torch.randn(shape, dtype=dtype, device=device, generator=generator)


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
    n = _check_n(n)
    std = _check_number("std", std)
    _check_dtype(dtype, _device(generator))
    return _mixture(ring_centers(modes=modes, radius=radius), n, std, generator, dtype)


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
    n = _check_n(n)
    std = _check_number("std", std)
    _check_dtype(dtype, _device(generator))
    return _mixture(grid_centers(), n, std, generator, dtype)


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
    if name not in TOY_2D_NAMES:
        accepted = ", ".join(repr(v) for v in TOY_2D_NAMES)
        raise ValueError(f"name must be one of {accepted}; got {name!r}")
    if name == "moons":
        return moons(n, generator=generator).x
    samplers = {"swiss_roll": swiss_roll, "ring": ring, "grid": grid}
    return samplers[name](n, generator=generator)


@functools.lru_cache(maxsize=1)
def _load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float64)  # (1797, 8, 8), 0..16
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    return images, labels


def digits(
    split: Literal["train", "val", "test"] = "train",
    *,
    dtype: torch.dtype = torch.float32,
) -> LabeledData:
    """scikit-learn's bundled 8x8 handwritten digits, offline, in the model range.

    Pixels p in 0..16 become x = p / 8 - 1 in [-1, 1]. The split is fixed: a
    permutation drawn from `torch.Generator().manual_seed(DIGITS_SPLIT_SEED)` whose
    first 1257 indices are "train", next 270 "val", last 270 "test"
    (`DIGITS_SPLIT_SIZES`).

    Args:
        split: "train", "val" or "test".
        dtype: floating dtype of x.

    Returns:
        `LabeledData(x, y)` with x (N, 1, 8, 8) and y (N,) int64 in 0..9.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be one of 'train', 'val', 'test'; got {split!r}")
    _check_dtype(dtype)
    images, labels = _load_digits()
    split_generator = torch.Generator().manual_seed(DIGITS_SPLIT_SEED)
    order = torch.randperm(len(images), generator=split_generator)
    start = {"train": 0, "val": 1257, "test": 1257 + 270}[split]
    index = order[start : start + DIGITS_SPLIT_SIZES[split]]
    x = images[index].unsqueeze(1) / 8 - 1  # (N, 8, 8) -> (N, 1, 8, 8)
    return LabeledData(x.to(dtype), labels[index])


def to_pixel_range(x: torch.Tensor, *, high: float = 1.0) -> torch.Tensor:
    """Map the model range [-1, 1] to [0, high]: (x + 1) / 2 * high, clamped.

    `high=16` undoes `digits`' scaling; `high=255` gives 8-bit image values.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating torch.Tensor; got {type(x).__name__}")
    high = _check_number("high", high, positive=True)
    return ((x + 1) * (high / 2)).clamp(0, high)


def _check_reachable(host: str, port: int, timeout: float) -> None:
    """Raise ConnectionError unless a TCP connection to host:port opens in time."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        raise ConnectionError(
            f"cannot reach {host}:{port} ({error}). No internet? Offline alternatives: "
            "gentorch.data.digits() and the 2-D toy sets (gentorch.data.toy_2d); or "
            "download the MNIST files elsewhere and copy them into `root`."
        ) from error


def _mirror_hosts(dataset_cls: type, key: str) -> list[tuple[str, int]]:
    hosts = []
    for url in getattr(dataset_cls, "mirrors", []):
        parts = urlsplit(url)
        if parts.hostname:
            default = 443 if parts.scheme == "https" else 80
            hosts.append((parts.hostname, parts.port or default))
    return hosts or [MNIST_HOSTS[key]]


def mnist(
    split: Literal["train", "test"] = "train",
    *,
    fashion: bool = False,
    root: str = "data",
    timeout: float = 5.0,
) -> LabeledData:
    """MNIST (or Fashion-MNIST) through torchvision, in the model range [-1, 1].

    Files already under `root` are used as they are; otherwise the download host is
    probed first (`timeout` seconds), so an offline machine fails fast with a
    `ConnectionError` instead of hanging.

    Args:
        split: "train" (60000 images) or "test" (10000).
        fashion: load Fashion-MNIST instead of MNIST.
        root: folder holding (or receiving) the files.
        timeout: seconds to wait for the download host.

    Returns:
        `LabeledData(x, y)` with x (N, 1, 28, 28) float32 = p / 127.5 - 1 for pixels p
        in 0..255, and y (N,) int64.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be one of 'train', 'test'; got {split!r}")
    if not isinstance(fashion, bool):
        raise TypeError(f"fashion must be a bool; got {type(fashion).__name__}")
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be a str or path; got {type(root).__name__}")
    timeout = _check_number("timeout", timeout, positive=True)
    try:
        from torchvision import datasets
    except ImportError as error:
        raise ImportError(
            "gentorch.data.mnist needs torchvision, which gentorch does not install: "
            "pip install torchvision (in Colab it is already installed)"
        ) from error
    dataset_cls = datasets.FashionMNIST if fashion else datasets.MNIST
    train = split == "train"
    try:
        dataset = dataset_cls(root, train=train, download=False)
    except RuntimeError:  # files not there yet
        hosts = _mirror_hosts(dataset_cls, "fashion" if fashion else "mnist")
        for i, (host, port) in enumerate(hosts):
            try:
                _check_reachable(host, port, timeout)
                break
            except ConnectionError:
                if i == len(hosts) - 1:
                    raise
        dataset = dataset_cls(root, train=train, download=True)
    pixels = torch.as_tensor(dataset.data)  # (N, 28, 28) uint8
    x = pixels.unsqueeze(1).float() / 127.5 - 1  # (N, 28, 28) -> (N, 1, 28, 28)
    return LabeledData(x, torch.as_tensor(dataset.targets, dtype=torch.int64))


def infinite(loader: Iterable) -> Iterator:
    """Cycle through `loader` forever, re-iterating it every pass.

    Unlike `itertools.cycle`, nothing is cached: a shuffling `DataLoader` reshuffles
    each epoch.

    Args:
        loader: any re-iterable (a DataLoader, a list of batches).

    Returns:
        An endless iterator over the items of `loader`.
    """
    if not isinstance(loader, Iterable):
        raise TypeError(f"loader must be iterable; got {type(loader).__name__}")
    if isinstance(loader, Iterator):
        raise TypeError("loader must be re-iterable (a DataLoader), not an iterator")
    return _cycle(loader)


def _cycle(loader: Iterable) -> Iterator:
    while True:
        empty = True
        for item in loader:
            empty = False
            yield item
        if empty:
            raise ValueError("loader must yield at least one item; it was empty")
