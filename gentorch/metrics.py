"""Scores for generated samples, and the digits classifier that several of them read.

`mode_coverage` scores samples of a Gaussian-mixture benchmark (the ring and grid of
`gentorch.data`) the way the mode-collapse papers do. `frechet_distance` compares two
sets of feature vectors by the Gaussians fitted to them (the FID's formula).

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

from gentorch._checks import check_number, check_tensor
from gentorch.data import digits

__all__ = [
    "DigitsClassifier",
    "DigitsClassifierResult",
    "ModeCoverage",
    "digits_classifier",
    "frechet_distance",
    "mode_coverage",
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
