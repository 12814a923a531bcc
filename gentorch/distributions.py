"""Log-densities, closed-form KL, reparameterization, and nats <-> bits per dimension.

The pieces of a variational autoencoder's loss, each elementwise so that the caller
decides what to sum: `normal_log_prob` (a diagonal Gaussian),
`standard_normal_log_prob`, `bernoulli_log_prob` and `categorical_log_prob` (both
from logits),
`discretized_logistic_logits` (the logits of a categorical over K ordered grey levels
whose mass comes from a mixture of logistics), `kl_normal_standard`
(KL(N(mean, diag exp(logvar)) || N(0, I)), one value per example) and
`kl_normal_standard_per_dim`, `reparameterize` (z = mean + std * eps) and
`nats_to_bits_per_dim`. Variances are passed as log-variances (the "logvar" a VAE's
encoder outputs), which keeps them positive without a constraint. All are in nats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from gentorch._checks import check_int, check_tensor
from gentorch.utils import randn

__all__ = [
    "bernoulli_log_prob",
    "categorical_log_prob",
    "categorical_mean",
    "discretized_logistic_logits",
    "kl_normal_standard",
    "kl_normal_standard_per_dim",
    "nats_to_bits_per_dim",
    "normal_log_prob",
    "reparameterize",
    "standard_normal_log_prob",
]

_LOG_2PI = math.log(2 * math.pi)


def _same_shape(names: Sequence[str], tensors: Sequence[torch.Tensor]) -> None:
    shapes = [tuple(t.shape) for t in tensors]
    if len(set(shapes)) > 1:
        listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=True))
        raise ValueError(f"{', '.join(names)} must have the same shape; got {listed}")


def normal_log_prob(
    x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor
) -> torch.Tensor:
    """log N(x; mean, exp(logvar)) = -(log 2 pi + logvar + (x - mean)^2 / var) / 2.

    Elementwise: sum over the last dimension for a diagonal Gaussian.

    Shapes:
        x, mean, logvar: the same shape; output: that shape.
    """
    for name, value in (("x", x), ("mean", mean), ("logvar", logvar)):
        check_tensor(name, value, floating=True)
    _same_shape(("x", "mean", "logvar"), (x, mean, logvar))
    return -0.5 * (_LOG_2PI + logvar + (x - mean).pow(2) * torch.exp(-logvar))


def standard_normal_log_prob(x: torch.Tensor) -> torch.Tensor:
    """log N(x; 0, 1) = -(log 2 pi + x^2) / 2, elementwise (the prior p(z) of a VAE)."""
    check_tensor("x", x, floating=True)
    return -0.5 * (_LOG_2PI + x.pow(2))


def bernoulli_log_prob(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log Bern(x; sigmoid(l)) = x log sigmoid(l) + (1 - x) log sigmoid(-l).

    Elementwise, computed from the logits l without forming sigmoid(l) (stable for
    large logits). x may be any value in [0, 1] (grey levels as "soft" targets, as for
    MNIST), where the formula is the negative binary cross-entropy.

    Shapes:
        x, logits: the same shape; output: that shape.
    """
    check_tensor("x", x, floating=True)
    check_tensor("logits", logits, floating=True)
    _same_shape(("x", "logits"), (x, logits))
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none")


def categorical_log_prob(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log Cat(x; softmax(l)) = l_x - logsumexp_k l_k, elementwise over the categories.

    The last dimension of `logits` holds the K unnormalised log-probabilities of
    each entry of x (the convention of `torch.distributions.Categorical`).

    Args:
        x: integer categories in 0..K-1.
        logits: ``(*x.shape, K)``.

    Shapes:
        x: (...); logits: (..., K); output: x's shape.
    """
    check_tensor("logits", logits, floating=True)
    check_tensor("x", x)
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"x must be an integer tensor of categories; got {x.dtype}")
    if logits.ndim == 0 or logits.shape[:-1] != x.shape:
        raise ValueError(
            f"logits must have shape (*x.shape, K) = ({', '.join(map(str, x.shape))}"
            f"{', ' if x.ndim else ''}K); got {tuple(logits.shape)}"
        )
    levels = logits.shape[-1]
    if x.numel() and (x.min() < 0 or x.max() >= levels):
        raise ValueError(
            f"x must hold categories in 0..{levels - 1} (K = logits.shape[-1]); "
            f"got values in {x.min().item()}..{x.max().item()}"
        )
    log_probs = torch.log_softmax(logits, dim=-1)
    return log_probs.gather(-1, x.long().unsqueeze(-1)).squeeze(-1)


def categorical_mean(logits: torch.Tensor) -> torch.Tensor:
    """The expected value of K ordered levels 0..K-1, mapped to the model range [-1, 1].

    E[level] = sum_k k softmax(l)_k, then 2 E[level] / (K - 1) - 1: for the digits'
    17 grey levels, the expected pixel value.

    Shapes:
        logits: (..., K) with K >= 2; output: (...).
    """
    check_tensor("logits", logits, floating=True)
    if logits.ndim == 0 or logits.shape[-1] < 2:
        raise ValueError(
            f"logits must have shape (..., K) with K >= 2; got {tuple(logits.shape)}"
        )
    top = logits.shape[-1] - 1
    levels = torch.arange(top + 1, device=logits.device, dtype=logits.dtype)
    expected = (logits.softmax(dim=-1) * levels).sum(dim=-1)
    return expected * (2 / top) - 1


def discretized_logistic_logits(
    loc: torch.Tensor,
    log_scale: torch.Tensor,
    weight_logits: torch.Tensor,
    *,
    levels: int,
) -> torch.Tensor:
    """log P(k) of K ordered levels, P(k) = sum_m w_m [F_m(c_k + h) - F_m(c_k - h)].

    A mixture of M logistics with CDFs F_m(v) = sigmoid((v - loc_m) / s_m) and weights
    w = softmax(weight_logits), discretized to the K levels c_k = -1 + 2k / (K - 1)
    of the model range [-1, 1] in bins of half-width h = 1 / (K - 1); the first and
    last bins reach to -inf and +inf, so the K probabilities sum to 1 (Salimans et
    al. 2017, eq. 2). The result is the logits of a categorical distribution over the
    levels whose neighbouring levels share mass: `categorical_log_prob` takes it.
    Computed in log space, log(sigmoid(a) - sigmoid(b)) = log sigmoid(a) - softplus(b)
    + log(1 - exp(b - a)), stable for every bin. s_m = exp(log_scale_m).

    Args:
        loc, log_scale, weight_logits: the M components' parameters, in model-range
            units.
        levels: K >= 2.

    Shapes:
        loc, log_scale, weight_logits: (..., M); output: (..., K).
    """
    for name, value in (
        ("loc", loc),
        ("log_scale", log_scale),
        ("weight_logits", weight_logits),
    ):
        check_tensor(name, value, floating=True)
        if value.ndim == 0:
            raise ValueError(f"{name} must have shape (..., M); got ()")
    _same_shape(("loc", "log_scale", "weight_logits"), (loc, log_scale, weight_logits))
    levels = check_int("levels", levels, minimum=2)
    half = 1 / (levels - 1)
    centers = torch.linspace(-1, 1, levels, device=loc.device, dtype=loc.dtype)
    # (..., M) -> (..., M, 1) against the K centres: (..., M, K)
    loc, log_scale = loc.unsqueeze(-1), log_scale.unsqueeze(-1)
    inv_scale = torch.exp(-log_scale)
    upper = (centers + half - loc) * inv_scale
    lower = (centers - half - loc) * inv_scale
    # log(1 - exp(-2h / s)), the same for every bin
    width = torch.log(-torch.expm1(-2 * half * inv_scale))
    middle = -F.softplus(-upper) - F.softplus(lower) + width
    first, last = -F.softplus(-upper), -F.softplus(lower)
    k = torch.arange(levels, device=loc.device)
    log_p = torch.where(k == 0, first, torch.where(k == levels - 1, last, middle))
    log_w = torch.log_softmax(weight_logits, dim=-1).unsqueeze(-1)  # (..., M, 1)
    return torch.logsumexp(log_w + log_p, dim=-2)


def kl_normal_standard_per_dim(
    mean: torch.Tensor, logvar: torch.Tensor
) -> torch.Tensor:
    """KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - log s^2 - 1) / 2 per dimension.

    Elementwise (one value per latent dimension, as needed for free bits and for
    counting active units); s^2 = exp(logvar).

    Shapes:
        mean, logvar: the same shape; output: that shape.
    """
    check_tensor("mean", mean, floating=True)
    check_tensor("logvar", logvar, floating=True)
    _same_shape(("mean", "logvar"), (mean, logvar))
    return 0.5 * (mean.pow(2) + torch.exp(logvar) - logvar - 1)


def kl_normal_standard(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(m, diag s^2) || N(0, I)) = sum_j (m_j^2 + s_j^2 - log s_j^2 - 1) / 2.

    The KL term of a VAE with a standard normal prior (Kingma & Welling 2014,
    appendix B), summed over the last (latent) dimension: one value per example;
    m = mean, s^2 = exp(logvar).

    Shapes:
        mean, logvar: (..., d); output: (...), usually (B,).
    """
    check_tensor("mean", mean, floating=True)
    if mean.ndim == 0:
        raise ValueError("mean must have a latent dimension, shape (..., d); got ()")
    return kl_normal_standard_per_dim(mean, logvar).sum(dim=-1)


def reparameterize(
    mean: torch.Tensor,
    logvar: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """z = mean + exp(logvar / 2) * eps, eps ~ N(0, I): z ~ N(mean, exp(logvar)).

    The reparameterization trick (Kingma & Welling 2014, eq. 10): the randomness is
    in eps, which does not depend on the parameters, so gradients flow to mean and
    logvar through z. eps is drawn with `gentorch.randn` on the generator's device;
    device and dtype follow `mean`.

    Shapes:
        mean, logvar: the same shape; output: that shape.
    """
    check_tensor("mean", mean, floating=True)
    check_tensor("logvar", logvar, floating=True)
    _same_shape(("mean", "logvar"), (mean, logvar))
    eps = randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * logvar) * eps


def nats_to_bits_per_dim(nats: torch.Tensor | float, dims: int) -> torch.Tensor | float:
    """bits/dim = nats / (dims * ln 2): a per-example negative log-likelihood in nats
    expressed per data dimension in bits (the unit of image-likelihood tables).

    Args:
        nats: per-example value(s) in nats, a float or a tensor.
        dims: the number of data dimensions of one example (64 for 8x8 digits).
    """
    dims = check_int("dims", dims, minimum=1)
    if isinstance(nats, torch.Tensor):
        check_tensor("nats", nats, floating=True)
    elif isinstance(nats, bool) or not isinstance(nats, (int, float)):
        raise TypeError(f"nats must be a float or a tensor; got {type(nats).__name__}")
    return nats / (dims * math.log(2))
