"""Divergences between distributions: KL, reverse KL, JS, f-divergences, total variation
and the 1-D Wasserstein distance.

Discrete distributions are probability tensors over their last dimension, batched over
the leading ones: ``p`` of shape ``(..., K)`` with ``p >= 0`` and ``p.sum(-1) == 1`` up
to a tolerance set by the dtype (the square root of its machine epsilon). Each function
returns one value per distribution, shape ``(...)``, in nats (natural logarithms).

Conventions, as in information theory: ``0 log 0 = 0`` and ``0 log(0 / 0) = 0``; a term
with ``p > 0`` where ``q = 0`` makes KL(p ‖ q) (and the chi-squared divergence) ``inf``,
never NaN. Rounding can make a divergence of two equal distributions a few ulps
negative; results are clamped at 0 (and JS at log 2).

The chapters derive these quantities; the notation follows ``book/notation.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from gentorch._checks import check_callable, check_choice, check_instance, check_number

__all__ = [
    "F_GENERATORS",
    "f_divergence",
    "js",
    "kl",
    "reverse_kl",
    "total_variation",
    "wasserstein_1d",
]


def _check_distribution(name: str, p: object) -> torch.Tensor:
    check_instance(name, p, torch.Tensor, what="torch.Tensor")
    if not p.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor; got dtype {p.dtype}")
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(
            f"{name} must hold probabilities over its last dimension, shape (..., K) "
            f"with K >= 1; got shape {tuple(p.shape)}"
        )
    if torch.isnan(p).any() or (p < 0).any():
        raise ValueError(f"{name} must have non-negative entries (no NaN)")
    tolerance = math.sqrt(torch.finfo(p.dtype).eps)
    sums = p.sum(-1, dtype=torch.float64 if p.device.type != "mps" else None)
    if ((sums - 1).abs() > tolerance).any():
        worst = sums.flatten()[(sums - 1).abs().argmax()].item()
        raise ValueError(
            f"{name} must sum to 1 over its last dimension (within {tolerance:.1e}); "
            f"one sums to {worst:.6g}"
        )
    return p


def _check_pair(p: object, q: object) -> tuple[torch.Tensor, torch.Tensor]:
    p, q = _check_distribution("p", p), _check_distribution("q", q)
    if p.shape != q.shape:
        raise ValueError(
            f"p and q must have the same shape; got {tuple(p.shape)} and "
            f"{tuple(q.shape)}"
        )
    dtype = torch.promote_types(p.dtype, q.dtype)
    return p.to(dtype), q.to(dtype)


def _kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    # sum_k p_k log(p_k / q_k); xlogy gives 0 log 0 = 0, and -inf for p > 0 = q
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(-1).clamp_min(0)


def kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Kullback-Leibler divergence KL(p ‖ q) = Σ_k p_k log(p_k / q_k), in nats.

    ``inf`` where some p_k > 0 has q_k = 0 (q misses mass that p has).

    Shapes:
        p, q: (..., K); returns (...).
    """
    return _kl(*_check_pair(p, q))


def reverse_kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Reverse KL: KL(q ‖ p) = Σ_k q_k log(q_k / p_k), with p the data's distribution
    and q the model's (the model is penalised where it puts mass that p lacks).

    Shapes:
        p, q: (..., K); returns (...).
    """
    p, q = _check_pair(p, q)
    return _kl(q, p)


def js(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence JS(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2.

    Symmetric, between 0 and log 2 (reached when p and q have disjoint supports);
    its square root is a metric.

    Shapes:
        p, q: (..., K); returns (...).
    """
    p, q = _check_pair(p, q)
    m = (p + q) / 2
    return (0.5 * _kl(p, m) + 0.5 * _kl(q, m)).clamp(0, math.log(2))


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Total variation distance TV(p, q) = ½ Σ_k abs(p_k − q_k), between 0 and 1.

    Shapes:
        p, q: (..., K); returns (...).
    """
    p, q = _check_pair(p, q)
    return 0.5 * (p - q).abs().sum(-1)


def _xlogx(t: torch.Tensor) -> torch.Tensor:
    return torch.xlogy(t, t)


#: Generators f of the named f-divergences D_f(p ‖ q) = Σ_k q_k f(p_k / q_k), each
#: convex with f(1) = 0, and f'(∞) = lim_{t→∞} f(t) / t, the weight of mass that p
#: has where q has none. Squared Hellinger is H² = ½ Σ_k (√p_k − √q_k)² = 1 − Σ √(p q).
F_GENERATORS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], float]] = {
    "kl": (_xlogx, math.inf),
    "reverse_kl": (lambda t: -torch.log(t), 0.0),
    "js": (
        lambda t: 0.5 * (_xlogx(t) - torch.xlogy(t + 1, (t + 1) / 2)),
        0.5 * math.log(2),
    ),
    "tv": (lambda t: 0.5 * (t - 1).abs(), 0.5),
    "chi2": (lambda t: (t - 1) ** 2, math.inf),
    "hellinger": (lambda t: 0.5 * (t.sqrt() - 1) ** 2, 0.5),
}


def f_divergence(
    p: torch.Tensor,
    q: torch.Tensor,
    f: str | Callable[[torch.Tensor], torch.Tensor],
    *,
    slope_at_infinity: float | None = None,
) -> torch.Tensor:
    """f-divergence D_f(p ‖ q) = Σ_k q_k f(p_k / q_k) (Csiszár 1967; Ali-Silvey 1966).

    Entries with q_k = 0 < p_k contribute p_k f'(∞), with f'(∞) = lim_{t→∞} f(t) / t;
    entries with p_k = q_k = 0 contribute nothing.

    Args:
        p, q: probability tensors over the last dimension.
        f: a name from `F_GENERATORS` ("kl", "reverse_kl", "js", "tv", "chi2",
            "hellinger"), or a callable applied elementwise to t = p / q (convex with
            f(1) = 0 for a divergence).
        slope_at_infinity: f'(∞) for a callable `f`, a real number or ``math.inf``;
            needed only when some q_k = 0 < p_k (a name knows its own).

    Returns:
        D_f(p ‖ q), in nats for the logarithmic generators.

    Shapes:
        p, q: (..., K); returns (...).
    """
    p, q = _check_pair(p, q)
    if isinstance(f, str):
        name = check_choice("f", f, F_GENERATORS)
        if slope_at_infinity is not None:
            raise ValueError(
                f"slope_at_infinity is only for a callable f; {name!r} knows its own"
            )
        generator, slope = F_GENERATORS[name]
    else:
        generator = check_callable("f", f, signature="f(t) -> tensor")
        slope = slope_at_infinity
    missing = (q == 0) & (p > 0)  # mass of p where q has none
    if slope is None:
        if missing.any():
            raise ValueError(
                "q has zeros where p is positive: a callable f needs "
                "slope_at_infinity = lim f(t) / t as t -> inf"
            )
        slope = 0.0
    elif not (isinstance(slope, float) and slope == math.inf):
        # a finite real, or +inf (as for KL and chi-squared)
        slope = check_number("slope_at_infinity", slope)
    # q f(p / q) where q > 0; t = 1 (f(1) = 0) stands in elsewhere
    safe_q = torch.where(q > 0, q, torch.ones_like(q))
    t = torch.where(q > 0, p / safe_q, torch.ones_like(p))
    inside = torch.where(q > 0, q * generator(t), torch.zeros_like(p))
    # p f'(inf) where q = 0 < p; written so that 0 * inf never appears
    outside = torch.where(missing, p * slope, torch.zeros_like(p))
    total = (inside + outside).sum(-1)
    return total.clamp_min(0) if isinstance(f, str) else total


def wasserstein_1d(
    x: torch.Tensor, y: torch.Tensor, *, support: torch.Tensor | None = None
) -> torch.Tensor:
    """Wasserstein-1 (earth mover's) distance in one dimension, W1 = ∫ abs(F_x − F_y).

    Two uses:

    * ``support=None``: `x` and `y` are samples, shapes (N,) and (M,) (sizes may
      differ); W1 between their empirical distributions (each point weight 1/N or 1/M).
      Differentiable in the sample values.
    * ``support`` given, shape (K,), strictly increasing: `x` and `y` are probability
      tensors (..., K) over those points;
      W1 = Σ_k abs(F_x(s_k) − F_y(s_k)) (s_{k+1} − s_k).

    Returns:
        W1, in the units of the values: shape () for samples, (...) for distributions.
    """
    if support is None:
        for name, v in (("x", x), ("y", y)):
            check_instance(name, v, torch.Tensor, what="torch.Tensor")
            if not v.is_floating_point() or v.ndim != 1 or len(v) == 0:
                raise ValueError(
                    f"{name} must be a non-empty 1-D floating tensor of samples; got "
                    f"dtype {v.dtype}, shape {tuple(v.shape)} (pass support= for "
                    "probabilities)"
                )
            if not torch.isfinite(v).all():
                raise ValueError(f"{name} must hold finite values")
        dtype = torch.promote_types(x.dtype, y.dtype)
        x, y = x.to(dtype).sort().values, y.to(dtype).sort().values
        points = torch.cat([x, y]).sort().values  # (N + M,)
        widths = points.diff()  # (N + M - 1,)
        # empirical CDFs on each interval [points_i, points_{i+1})
        left = points[:-1].detach()
        cdf_x = torch.searchsorted(x.detach(), left, right=True).to(dtype) / len(x)
        cdf_y = torch.searchsorted(y.detach(), left, right=True).to(dtype) / len(y)
        return ((cdf_x - cdf_y).abs() * widths).sum()
    check_instance("support", support, torch.Tensor, what="torch.Tensor")
    if support.ndim != 1 or not support.is_floating_point():
        raise ValueError(
            f"support must be a 1-D floating tensor; got shape {tuple(support.shape)}"
        )
    if not torch.isfinite(support).all() or (support.diff() <= 0).any():
        raise ValueError("support must be finite and strictly increasing")
    x, y = _check_pair(x, y)
    if x.shape[-1] != len(support):
        raise ValueError(
            f"x and y must have one probability per support point, (..., "
            f"{len(support)}); got {tuple(x.shape)}"
        )
    cdf_gap = (x.cumsum(-1) - y.cumsum(-1))[..., :-1].abs()  # (..., K - 1)
    return (cdf_gap * support.diff().to(x.dtype)).sum(-1)
