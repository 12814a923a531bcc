"""Mode coverage: samples of a Gaussian-mixture benchmark (the ring and grid of
`gentorch.data`) scored the way the mode-collapse papers do."""

from __future__ import annotations

from typing import NamedTuple

import torch

from gentorch._checks import check_number, check_tensor

__all__ = ["ModeCoverage", "mode_coverage"]


class ModeCoverage(NamedTuple):
    """What `mode_coverage` returns."""

    #: number of modes with at least one high-quality sample
    modes: int
    #: high-quality samples / all samples
    hq_fraction: float
    #: KL(histogram of the high-quality samples over the modes || uniform), in nats
    reverse_kl: float


def mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, std: float
) -> ModeCoverage:
    """Modes found, sample quality and balance on a Gaussian-mixture benchmark.

    The protocol of the mode-collapse papers (Srivastava et al. 2017; Lin et al. 2018,
    PacGAN, sec. 5): a sample is *high quality* (HQ) if it lies within 3 `std` of its
    nearest centre (Euclidean distance < 3 std); `modes` counts the centres with at
    least one HQ sample; `hq_fraction` is the share of HQ samples; `reverse_kl` is
    KL(p || u) = sum_k p_k log(K p_k) for the histogram p of the HQ samples over the K
    centres and the uniform u (0 when balanced, log K when all HQ samples share one
    mode, inf when there is no HQ sample). Real 2-D data reach an HQ fraction of only
    P(r < 3 std) = 1 - exp(-4.5), about 0.989.

    Args:
        samples: generated points.
        centers: the mixture's centres (`gt.data.ring_centers`, `gt.data.grid_centers`).
        std: the mixture's standard deviation, > 0.

    Returns:
        `ModeCoverage(modes, hq_fraction, reverse_kl)`.

    Shapes:
        samples: (N, d) with N >= 1; centers: (K, d) with K >= 1.
    """
    check_tensor("samples", samples, shape=("N", "d"), floating=True)
    check_tensor("centers", centers, shape=("K", None), floating=True)
    std = check_number("std", std, low=0, low_open=True)
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            "samples and centers must have the same dimension; got samples "
            f"{tuple(samples.shape)} and centers {tuple(centers.shape)}"
        )
    if len(samples) == 0 or len(centers) == 0:
        raise ValueError(
            "samples and centers must not be empty; got samples "
            f"{tuple(samples.shape)} and centers {tuple(centers.shape)}"
        )
    centers = centers.to(device=samples.device, dtype=samples.dtype)
    distance, nearest = torch.cdist(samples, centers).min(dim=1)  # (N,), (N,)
    hq = distance < 3 * std
    counts = torch.bincount(nearest[hq], minlength=len(centers)).double()  # (K,)
    total = counts.sum()
    if total == 0:
        reverse_kl = float("inf")
    else:
        p = counts[counts > 0] / total
        reverse_kl = (p * (p * len(centers)).log()).sum().item()
    return ModeCoverage(int((counts > 0).sum()), hq.double().mean().item(), reverse_kl)
