"""Scores for generated samples, and the digits classifier that several of them read.

`mode_coverage` scores samples of a Gaussian-mixture benchmark (the ring and grid of
`gentorch.data`) the way the mode-collapse papers do. `frechet_distance` compares two
sets of feature vectors by the Gaussians fitted to them (the FID's formula),
`precision_recall` by k-nearest-neighbour balls around each set (fidelity and
coverage), `inception_score` scores a classifier's predictions on samples, and
`psnr` compares reconstructions with their originals.

`digits_classifier()` trains (once per process, deterministically, in a few seconds on
a CPU) a small convolutional classifier on the bundled digits' training split and
returns it with its test accuracy. Chapters use its class probabilities to judge
generated digits (is this a recognisable digit? which one?) and its `features` for
Fréchet distances.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gentorch._checks import check_int, check_number, check_tensor
from gentorch.data import digits

__all__ = [
    "DigitsClassifier",
    "DigitsClassifierResult",
    "ModeCoverage",
    "PrecisionRecall",
    "digits_classifier",
    "frechet_distance",
    "inception_score",
    "mode_coverage",
    "precision_recall",
    "psnr",
]

#: Seed of the classifier's initialisation, shuffling and augmentation.
CLASSIFIER_SEED = 8
_EPOCHS = 10
_BATCH = 64


class DigitsClassifier(nn.Module):
    """A small CNN for 8x8 digits: two 3x3 conv blocks, a 128-d feature layer, logits.

    Shapes:
        x: (B, 1, 8, 8) in [-1, 1]; `features(x)`: (B, 128); output: (B, 10) logits.
    """

    feature_dim = 128

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 8, 8) -> (B, 32, 4, 4)
            nn.Flatten(),  # (B, 32, 4, 4) -> (B, 512)
            nn.Dropout(0.3),
            nn.Linear(32 * 16, self.feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(self.feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 penultimate activations, the feature space of Fréchet distances."""
        check_tensor("x", x, shape=("B", 1, 8, 8), floating=True)
        return self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DigitsClassifierResult(NamedTuple):
    """What `digits_classifier` returns."""

    #: the trained classifier, on the CPU, in eval mode
    model: DigitsClassifier
    #: its accuracy on the 270 test digits
    test_accuracy: float


def _shift(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to one pixel in each direction (zero = background)."""
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # (B, 1, 8, 8) -> (B, 1, 10, 10)
    offsets = torch.randint(0, 3, (2, x.shape[0], 1), generator=generator)
    window = torch.arange(8)
    rows = (offsets[0] + window)[:, :, None]  # (B, 8, 1)
    cols = (offsets[1] + window)[:, None, :]  # (B, 1, 8)
    batch = torch.arange(x.shape[0])[:, None, None]  # (B, 1, 1)
    return padded[:, 0][batch, rows, cols].unsqueeze(1)  # (B, 8, 8) -> (B, 1, 8, 8)


@functools.lru_cache(maxsize=1)
def _trained_state() -> tuple[dict[str, torch.Tensor], float]:
    generator = torch.Generator().manual_seed(CLASSIFIER_SEED)
    with torch.random.fork_rng(devices=[]):
        # the initialisation draws from the global generator: fork it, so that the
        # caller's random state is left as it was
        torch.manual_seed(CLASSIFIER_SEED)
        model = DigitsClassifier()
    train, test = digits("train"), digits("test")
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CLASSIFIER_SEED)  # dropout masks
        for _ in range(_EPOCHS):
            order = torch.randperm(len(train.x), generator=generator)
            for batch in order.split(_BATCH):
                x = _shift(train.x[batch], generator)
                loss = F.cross_entropy(model(x), train.y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(test.x).argmax(1) == test.y).double().mean().item()
    state = {name: value.detach().clone() for name, value in model.state_dict().items()}
    return state, accuracy


def digits_classifier() -> DigitsClassifierResult:
    """A trained classifier of the bundled 8x8 digits and its test accuracy.

    Trained on `gt.data.digits("train")` with one-pixel random shifts, deterministically
    (fixed seeds, CPU, the caller's random state untouched); the weights are computed
    once per process and every call returns a fresh copy, so moving one copy to a GPU
    leaves the others alone. Test accuracy is measured on `digits("test")`.

    Returns:
        `DigitsClassifierResult(model, test_accuracy)`; the model is in eval mode,
        on the CPU (move it with ``.to(device)``).
    """
    state, accuracy = _trained_state()
    with torch.random.fork_rng(devices=[]):
        # construction draws initial weights, soon overwritten: leave no trace
        model = DigitsClassifier()
    model.load_state_dict(state)
    model.eval()
    return DigitsClassifierResult(model, accuracy)


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
