"""Scores of samples against data, on any features: the Fréchet distance (the FID's
formula), improved precision and recall, the Inception Score; and of reconstructions
against originals: PSNR and SSIM."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from gentorch._checks import check_int, check_number, check_tensor

__all__ = [
    "PrecisionRecall",
    "frechet_distance",
    "inception_score",
    "precision_recall",
    "psnr",
    "ssim",
]


def frechet_distance(
    features_a: torch.Tensor, features_b: torch.Tensor
) -> torch.Tensor:
    """||m_a - m_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), in float64.

    The Fréchet distance between the Gaussians fitted to two sets of feature
    vectors (means m, covariances S; Heusel et al. 2017, the FID's formula on any
    features). Tr((S_a S_b)^(1/2)) is computed as the sum of the square roots of the
    eigenvalues of S_a^(1/2) S_b S_a^(1/2), which is symmetric, so no complex
    matrix square root is needed.

    Args:
        features_a, features_b: (N_a, D) and (N_b, D), N >= 2 each.

    Returns:
        A 0-d float64 tensor on the features' device.
    """
    check_tensor("features_a", features_a, shape=("N", "D"), floating=True)
    check_tensor(
        "features_b", features_b, shape=("M", features_a.shape[1]), floating=True
    )
    if min(len(features_a), len(features_b)) < 2:
        raise ValueError(
            "features_a and features_b need at least 2 rows each for a covariance; "
            f"got {len(features_a)} and {len(features_b)}"
        )
    for name, features in (("features_a", features_a), ("features_b", features_b)):
        if not torch.isfinite(features).all():
            raise ValueError(
                f"{name} must be finite; got NaN or inf (diverged samples?)"
            )
    a, b = features_a.double(), features_b.double()
    # (D, D); torch.cov returns a 0-d tensor for one feature
    cov_a, cov_b = (
        torch.cov(a.T).reshape(a.shape[1], -1),
        torch.cov(b.T).reshape(b.shape[1], -1),
    )
    values, vectors = torch.linalg.eigh(cov_a)
    # S_a^(1/2) = V diag(sqrt(lambda)) V^T
    root_a = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = (
        torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    )
    mean_term = (a.mean(0) - b.mean(0)).pow(2).sum()
    return mean_term + cov_a.trace() + cov_b.trace() - 2 * trace_root


def inception_score(logits: torch.Tensor) -> torch.Tensor:
    """IS = exp(E_x KL(p(y | x) || p(y))), p(y) = E_x p(y | x) (Salimans et al. 2016).

    High when each sample is classified confidently (p(y | x) peaked) and the classes
    are used evenly (p(y) flat); at most the number of classes. Computed in float64
    from a classifier's logits on the samples (the Inception network's on natural
    images; any classifier's here), over all N samples at once.

    Args:
        logits: (N, K) class logits, N >= 1, K >= 2.

    Returns:
        A 0-d float64 tensor on the logits' device.
    """
    check_tensor("logits", logits, shape=("N", "K"), floating=True)
    if logits.shape[0] < 1 or logits.shape[1] < 2:
        raise ValueError(
            f"logits must have shape (N, K) with N >= 1 and K >= 2 classes; got "
            f"{tuple(logits.shape)}"
        )
    log_p = logits.double().log_softmax(1)  # log p(y | x), (N, K)
    log_marginal = log_p.exp().mean(0).log()  # log p(y), (K,)
    kl = (log_p.exp() * (log_p - log_marginal)).sum(1)  # (N,)
    return kl.mean().exp()


def psnr(x: torch.Tensor, y: torch.Tensor, *, data_range: float) -> torch.Tensor:
    """PSNR = 10 log10(data_range^2 / MSE) per example, in decibels.

    The peak signal-to-noise ratio of reconstructions `x` against originals `y`,
    with the mean squared error taken over each example's values; `data_range` is
    the span of the values (2 for images in [-1, 1], 1 for [0, 1], 255 for bytes).
    Identical examples give +inf.

    Args:
        x, y: (B, ...) of the same shape.
        data_range: max - min of the data's value range, > 0.

    Returns:
        (B,) float64 PSNRs in dB.
    """
    check_tensor("x", x, floating=True)
    check_tensor("y", y, shape=tuple(x.shape), floating=True)
    data_range = check_number("data_range", data_range, low=0.0, low_open=True)
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(
            f"x must have shape (B, ...) with B >= 1; got {tuple(x.shape)}"
        )
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)  # (B,)
    return 10 * torch.log10(data_range**2 / mse)


def ssim(
    x: torch.Tensor, y: torch.Tensor, *, data_range: float, sigma: float = 1.5
) -> torch.Tensor:
    """SSIM = mean over pixels of l * c * s per example (Wang et al. 2004, eq. 13).

    At each pixel, with local means m, variances v and covariance c_xy taken under a
    Gaussian window of standard deviation `sigma`:
    ((2 m_x m_y + C1)(2 c_xy + C2)) / ((m_x^2 + m_y^2 + C1)(v_x + v_y + C2)),
    C1 = (0.01 data_range)^2, C2 = (0.03 data_range)^2. As torchmetrics'
    `structural_similarity_index_measure`: a window of 2 int(3.5 sigma + 0.5) + 1
    pixels, images padded by reflection so that every pixel has a full window.

    Args:
        x, y: (B, C, H, W) of the same shape; H and W larger than the window's
            half-width.
        data_range: max - min of the data's value range, > 0.
        sigma: the window's standard deviation in pixels, > 0.

    Returns:
        (B,) float64 values in [-1, 1]; 1 for identical images.
    """
    check_tensor("x", x, shape=("B", "C", "H", "W"), floating=True)
    check_tensor("y", y, shape=tuple(x.shape), floating=True)
    data_range = check_number("data_range", data_range, low=0.0, low_open=True)
    sigma = check_number("sigma", sigma, low=0.0, low_open=True)
    half = int(3.5 * sigma + 0.5)
    if half >= min(x.shape[-2:]):
        raise ValueError(
            f"sigma={sigma} needs a window of {2 * half + 1} pixels, which reflection "
            f"padding cannot give images of {tuple(x.shape[-2:])}; choose a smaller "
            "sigma"
        )
    channels = x.shape[1]
    offsets = torch.arange(-half, half + 1, dtype=torch.float64, device=x.device)
    g = torch.exp(-0.5 * (offsets / sigma) ** 2)
    g = g / g.sum()
    window = (g[:, None] * g[None, :]).expand(channels, 1, -1, -1)  # (C, 1, k, k)
    pad = (half, half, half, half)
    x = F.pad(x.double(), pad, mode="reflect")
    y = F.pad(y.double(), pad, mode="reflect")
    # local means of x, y, x^2, y^2, xy: five (B, C, H, W) maps
    stats = F.conv2d(torch.cat([x, y, x * x, y * y, x * y]), window, groups=channels)
    m_x, m_y, m_xx, m_yy, m_xy = stats.split(len(x))
    v_x = (m_xx - m_x**2).clamp(min=0)
    v_y = (m_yy - m_y**2).clamp(min=0)
    c_xy = m_xy - m_x * m_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    index = ((2 * m_x * m_y + c1) * (2 * c_xy + c2)) / (
        (m_x**2 + m_y**2 + c1) * (v_x + v_y + c2)
    )
    return index.flatten(1).mean(1)


class PrecisionRecall(NamedTuple):
    """What `precision_recall` returns: both shares in [0, 1]."""

    precision: float
    recall: float


def _covered(points: torch.Tensor, centres: torch.Tensor, k: int) -> torch.Tensor:
    """Whether each point lies in some ball around a centre whose radius is the
    distance from that centre to its k-th nearest other centre. (N,) bool."""
    d_centres = torch.cdist(centres, centres)  # (M, M), 0 on the diagonal
    # the k-th nearest other centre: index k of the sorted row (index 0 is itself)
    radii = d_centres.sort(1).values[:, k]  # (M,)
    d = torch.cdist(points, centres)  # (N, M)
    return (d <= radii[None, :]).any(1)


def precision_recall(
    features_real: torch.Tensor, features_fake: torch.Tensor, *, k: int = 3
) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019) on feature vectors.

    The real manifold is the union of balls around each real feature, of radius the
    distance to its k-th nearest real neighbour; likewise the fake manifold.
    Precision is the share of fake samples inside the real manifold (fidelity),
    recall the share of real samples inside the fake manifold (coverage). A
    mode-collapsed generator has high precision and low recall; a blurry one that
    covers everything loosely, the reverse. Computed in float64 with all pairwise
    distances, so N and M of a few thousand.

    Args:
        features_real: (N, D), N > k.
        features_fake: (M, D), M > k.
        k: the neighbour that sets each radius (the paper uses 3).
    """
    check_tensor("features_real", features_real, shape=("N", "D"), floating=True)
    check_tensor(
        "features_fake",
        features_fake,
        shape=("M", features_real.shape[1]),
        floating=True,
    )
    k = check_int("k", k, minimum=1)
    if min(len(features_real), len(features_fake)) <= k:
        raise ValueError(
            f"features_real and features_fake need more than k={k} rows each; got "
            f"{len(features_real)} and {len(features_fake)}"
        )
    real, fake = features_real.double(), features_fake.double()
    precision = _covered(fake, real, k).double().mean().item()
    recall = _covered(real, fake, k).double().mean().item()
    return PrecisionRecall(precision, recall)
