"""Autoencoders: the model, its per-example loss, PCA (the linear optimum), corruption.

An `Autoencoder` pairs any encoder with any decoder (`gentorch.nets` has image
encoders and decoders for 8x8 and 28x28 images); `squared_error` is its per-example
reconstruction loss. `pca` fits principal component analysis in closed form, the
optimum a linear autoencoder reaches, and `principal_angles` compares two subspaces.
`corrupt` adds the Gaussian or masking noise of a denoising autoencoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from gentorch._checks import check_instance, check_int, check_number, check_tensor
from gentorch.utils import rand, randn

__all__ = [
    "AEOutput",
    "Autoencoder",
    "PCA",
    "corrupt",
    "pca",
    "principal_angles",
    "squared_error",
]


class AEOutput(NamedTuple):
    """What `Autoencoder` returns: the code z = f(x) and the reconstruction g(z)."""

    z: torch.Tensor
    x_hat: torch.Tensor


class Autoencoder(nn.Module):
    """x -> z = f(x) -> x_hat = g(z): an encoder f and a decoder g trained together.

    Args:
        encoder: maps a batch of data (B, ...) to codes (B, d).
        decoder: maps codes (B, d) back to the data's shape.

    Shapes:
        x: (B, ...); `forward` returns AEOutput(z (B, d), x_hat (B, ...)).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = check_instance("encoder", encoder, nn.Module)
        self.decoder = check_instance("decoder", decoder, nn.Module)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x_hat = g(z)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> AEOutput:
        z = self.encoder(x)
        return AEOutput(z, self.decoder(z))


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-example squared error ||x - x_hat||^2, summed over the data dimensions.

    In squared data units (the model range [-1, 1] for images): summed, not averaged,
    over pixels, so it grows with the image size. Up to a constant it is the negative
    log-likelihood, in nats, of x under a Gaussian N(x_hat, I/2).

    Shapes:
        x_hat, x: (B, ...), the same shape; output: (B,).
    """
    check_tensor("x", x, floating=True)
    check_tensor("x_hat", x_hat, floating=True)
    if x.ndim == 0 or x_hat.shape != x.shape:
        raise ValueError(
            "x_hat and x must have the same shape (B, ...); got "
            f"{tuple(x_hat.shape)} and {tuple(x.shape)}"
        )
    return (x - x_hat).pow(2).flatten(1).sum(dim=1)


@dataclass(frozen=True)
class PCA:
    """A fitted principal component analysis: z = W^T (x - mu), x_hat = mu + W z.

    Attributes:
        mean: mu, the data mean, shape (D,) for flattened data of D features.
        components: W^T, the top-k principal directions as orthonormal rows, (k, D),
            in order of decreasing variance.
        variances: the variance of the data along each direction, (k,).
        shape: the shape of one example, e.g. (1, 8, 8), restored by `decode`.
    """

    mean: torch.Tensor
    components: torch.Tensor
    variances: torch.Tensor
    shape: tuple[int, ...]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = W^T (x - mu). Shapes: x ``(B, *shape)`` -> z ``(B, k)``."""
        check_tensor("x", x, shape=("B", *self.shape), floating=True)
        return (x.flatten(1) - self.mean) @ self.components.T  # (B, D) @ (D, k)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x_hat = mu + W z. Shapes: z ``(B, k)`` -> x_hat ``(B, *shape)``."""
        check_tensor("z", z, shape=("B", len(self.components)), floating=True)
        flat = self.mean + z @ self.components  # (B, k) @ (k, D) -> (B, D)
        return flat.reshape(len(z), *self.shape)


def pca(x: torch.Tensor, k: int) -> PCA:
    """Fit PCA with k components by the SVD of the centred data, X - mu = U S V^T.

    The top k right singular vectors span the k-dimensional subspace with the
    smallest squared reconstruction error (Eckart & Young 1936); the variances are
    S_i^2 / N (the maximum-likelihood estimate, as numpy's ``var``). Signs of the
    components follow the SVD and are arbitrary. Device and dtype follow `x`.

    Args:
        x: the data, (N, ...) with N >= 2; each example is flattened.
        k: the number of components, 1 <= k <= min(N, D).
    """
    check_tensor("x", x, floating=True)
    if x.ndim < 2 or len(x) < 2:
        raise ValueError(
            f"x must have shape (N, ...) with N >= 2; got {tuple(x.shape)}"
        )
    flat = x.flatten(1)  # (N, ...) -> (N, D)
    k = check_int("k", k, minimum=1, maximum=min(flat.shape))
    mean = flat.mean(dim=0)
    _, s, vh = torch.linalg.svd(flat - mean, full_matrices=False)
    return PCA(mean, vh[:k], s[:k] ** 2 / len(flat), tuple(x.shape[1:]))


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles between the column spans of a and b, in radians, ascending.

    With orthonormal bases Q_a, Q_b of the spans, cos(theta_i) are the singular values
    of Q_a^T Q_b (Bjorck & Golub 1973); all angles are 0 when the spans are equal.
    Computed in float64 with the sine formula for small angles, as scipy's
    ``subspace_angles``.

    Shapes:
        a: (D, k), b: (D, m); output: (min(k, m),).
    """
    check_tensor("a", a, shape=("D", None), floating=True)
    check_tensor("b", b, shape=(len(a), None), floating=True)
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    if qa.shape[1] < qb.shape[1]:
        qa, qb = qb, qa
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(max=1.0)  # descending
    # sin(theta) from the part of Q_b outside span(Q_a): accurate near 0
    rest = qb - qa @ (qa.T @ qb)
    sines = torch.linalg.svdvals(rest).flip(0).clamp(max=1.0)  # ascending
    small = cosines**2 > 0.5
    angles = torch.where(small, torch.arcsin(sines), torch.arccos(cosines))
    return angles.to(a.dtype)


def corrupt(
    x: torch.Tensor,
    *,
    noise_std: float = 0.0,
    mask_prob: float = 0.0,
    fill: float = -1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The input of a denoising autoencoder: x_tilde = m * x + (1 - m) * fill + s eps.

    Masking noise (Vincent et al. 2008) sets each entry to `fill` with probability
    `mask_prob` (m ~ Bernoulli(1 - mask_prob) per entry; -1 is the background of
    the book's images), then Gaussian noise of standard deviation `noise_std`
    (s = noise_std, eps ~ N(0, I)) is added. Noise is drawn with `gentorch.randn` /
    `gentorch.rand` on the generator's device; device and dtype follow `x`.

    Shapes:
        x: (B, ...); output: the same.
    """
    check_tensor("x", x, floating=True)
    noise_std = check_number("noise_std", noise_std, low=0.0)
    mask_prob = check_number("mask_prob", mask_prob, low=0.0, high=1.0)
    fill = check_number("fill", fill)
    out = x
    if mask_prob > 0:
        u = rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        out = torch.where(u < mask_prob, torch.full_like(x, fill), out)
    if noise_std > 0:
        eps = randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        out = out + noise_std * eps
    return out
