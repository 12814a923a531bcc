"""gentorch.divergences against scipy, closed forms and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
import torch

from gentorch import divergences as dv


def dirichlet(shape, k, seed, zeros=False):
    """Random distributions (..., k) in float64; with zeros=True some entries are 0."""
    gen = torch.Generator().manual_seed(seed)
    raw = -torch.rand(*shape, k, generator=gen, dtype=torch.float64).log()  # Exp(1)
    if zeros:
        raw = raw * (torch.rand(*shape, k, generator=gen) > 0.3)
        raw[..., 0] += 1e-3  # keep every distribution non-empty
    return raw / raw.sum(-1, keepdim=True)


def test_kl_matches_scipy_entropy_batched():
    p, q = dirichlet((4, 3), 7, seed=0), dirichlet((4, 3), 7, seed=1)
    got = dv.kl(p, q)
    assert got.shape == (4, 3) and got.dtype == torch.float64
    want = scipy.stats.entropy(p.numpy(), q.numpy(), axis=-1)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_kl_zero_probabilities_follow_the_conventions():
    p = dirichlet((50,), 6, seed=2, zeros=True)
    q = dirichlet((50,), 6, seed=3)
    # 0 log 0 = 0: zeros in p are fine, and scipy agrees
    want = scipy.stats.entropy(p.numpy(), q.numpy(), axis=-1)
    np.testing.assert_allclose(dv.kl(p, q).numpy(), want, rtol=1e-12)
    # p > 0 where q = 0: infinite, never NaN
    got = dv.kl(q, p)
    assert not torch.isnan(got).any()
    has_gap = ((p == 0) & (q > 0)).any(-1)
    assert torch.isinf(got[has_gap]).all() and torch.isfinite(got[~has_gap]).all()
    # both zero in the same place: that place contributes nothing
    a = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    b = torch.tensor([0.25, 0.75, 0.0], dtype=torch.float64)
    want = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert dv.kl(a, b).item() == pytest.approx(want, rel=1e-14)


def test_kl_is_non_negative_zero_only_for_equal_and_asymmetric():
    p, q = dirichlet((200,), 5, seed=4), dirichlet((200,), 5, seed=5)
    assert (dv.kl(p, q) > 0).all()
    assert (dv.kl(p, p) == 0).all()
    assert (dv.kl(p, q) - dv.kl(q, p)).abs().max() > 1e-3
    torch.testing.assert_close(dv.reverse_kl(p, q), dv.kl(q, p))


def test_kl_of_gaussians_on_a_fine_grid_matches_the_closed_form():
    # Riemann sums of discretised densities converge to the continuous KL
    grid = torch.linspace(-12, 12, 20_001, dtype=torch.float64)
    a = torch.distributions.Normal(0.3, 1.2)
    b = torch.distributions.Normal(-0.5, 0.8)
    p, q = (d.log_prob(grid).exp() for d in (a, b))
    p, q = p / p.sum(), q / q.sum()
    exact = torch.distributions.kl_divergence(a, b).double()
    torch.testing.assert_close(dv.kl(p, q), exact, rtol=1e-6, atol=0)


def test_js_matches_scipy_and_is_bounded_by_log_2():
    p, q = dirichlet((300,), 8, seed=6, zeros=True), dirichlet((300,), 8, seed=7)
    got = dv.js(p, q)
    # scipy's jensenshannon is the square root of JS (natural log by default)
    want = scipy.spatial.distance.jensenshannon(p.numpy(), q.numpy(), axis=-1) ** 2
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-15)
    torch.testing.assert_close(got, dv.js(q, p))
    assert (got >= 0).all() and (got <= math.log(2)).all()
    disjoint = dv.js(
        torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.3, 0.7])
    )
    assert disjoint.item() == pytest.approx(math.log(2), rel=1e-6)


def test_square_root_of_js_obeys_the_triangle_inequality():
    p, q, r = (dirichlet((2000,), 4, seed=s, zeros=True) for s in (8, 9, 10))
    d_pq, d_qr, d_pr = (dv.js(a, b).sqrt() for a, b in ((p, q), (q, r), (p, r)))
    assert (d_pr <= d_pq + d_qr + 1e-12).all()


def test_total_variation_is_half_the_l1_distance():
    p, q = dirichlet((20,), 6, seed=11), dirichlet((20,), 6, seed=12)
    want = 0.5 * np.abs(p.numpy() - q.numpy()).sum(-1)
    np.testing.assert_allclose(dv.total_variation(p, q).numpy(), want, rtol=1e-12)


def direct_formulas(p, q):
    """Each named f-divergence written out with numpy, for q > 0."""
    p, q = p.numpy(), q.numpy()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p / q), 0.0)
        qlogq = np.where(q > 0, q * np.log(q / np.where(p > 0, p, np.nan)), 0.0)
        qlogq = np.where((q > 0) & (p == 0), np.inf, qlogq)
        p_to_m = np.where(p > 0, p * np.log(p / m), 0.0)
        q_to_m = np.where(q > 0, q * np.log(q / m), 0.0)
    return {
        "kl": plogp.sum(-1),
        "reverse_kl": qlogq.sum(-1),
        "js": 0.5 * (p_to_m + q_to_m).sum(-1),
        "tv": 0.5 * np.abs(p - q).sum(-1),
        "chi2": ((p - q) ** 2 / q).sum(-1),
        "hellinger": 1 - np.sqrt(p * q).sum(-1),
    }


@pytest.mark.parametrize("zeros", [False, True])
def test_named_f_divergences_match_their_direct_formulas(zeros):
    p = dirichlet((40,), 6, seed=13, zeros=zeros)
    q = dirichlet((40,), 6, seed=14)
    for name, want in direct_formulas(p, q).items():
        got = dv.f_divergence(p, q, name)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(dv.f_divergence(p, q, "kl"), dv.kl(p, q))
    torch.testing.assert_close(dv.f_divergence(p, q, "js"), dv.js(p, q))
    torch.testing.assert_close(dv.f_divergence(p, q, "tv"), dv.total_variation(p, q))


def test_f_divergences_where_q_misses_mass_of_p():
    p = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    q = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    # each term with q = 0 < p weighs p f'(inf); m = (p + q) / 2 = (0.75, 0.25, 0)
    js = 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    js += 0.5 * math.log(1.0 / 0.75)
    want = {
        "kl": math.inf,
        "reverse_kl": math.log(2),  # KL(q || p) = 1 log(1 / 0.5)
        "js": js,
        "tv": 0.5,
        "chi2": math.inf,
        "hellinger": 1 - math.sqrt(0.5),
    }
    for name, value in want.items():
        assert dv.f_divergence(p, q, name).item() == pytest.approx(value), name


def test_f_divergence_with_a_callable_generator():
    p, q = dirichlet((10,), 5, seed=15, zeros=True), dirichlet((10,), 5, seed=16)
    torch.testing.assert_close(
        dv.f_divergence(p, q, lambda t: torch.xlogy(t, t)), dv.kl(p, q)
    )
    # q with zeros where p > 0: the callable needs its slope at infinity
    with pytest.raises(ValueError, match="slope_at_infinity"):
        dv.f_divergence(q, p, lambda t: torch.xlogy(t, t))
    got = dv.f_divergence(q, p, lambda t: torch.xlogy(t, t), slope_at_infinity=math.inf)
    torch.testing.assert_close(got, dv.kl(q, p))
    tv = dv.f_divergence(q, p, lambda t: 0.5 * (t - 1).abs(), slope_at_infinity=0.5)
    torch.testing.assert_close(tv, dv.total_variation(p, q))
    with pytest.raises(ValueError, match="only for a callable"):
        dv.f_divergence(p, q, "kl", slope_at_infinity=1.0)


def test_generators_are_convex_with_f_of_one_zero():
    t = torch.linspace(0.01, 20, 2001, dtype=torch.float64)
    for name, (f, slope) in dv.F_GENERATORS.items():
        assert f(torch.ones(1, dtype=torch.float64)).abs().item() < 1e-15, name
        values = f(t)
        second = values[2:] - 2 * values[1:-1] + values[:-2]
        assert (second >= -1e-12).all(), f"{name} is not convex"
        big = torch.tensor([1e12], dtype=torch.float64)
        if math.isfinite(slope):
            assert (f(big) / big).item() == pytest.approx(slope, abs=1e-4), name
        else:
            assert (f(big) / big).item() > 20, name


def test_wasserstein_1d_matches_scipy_on_samples_and_on_a_support():
    gen = torch.Generator().manual_seed(17)
    for n, m in ((1, 1), (7, 13), (200, 50)):
        x = torch.randn(n, generator=gen, dtype=torch.float64)
        y = 2 * torch.randn(m, generator=gen, dtype=torch.float64) + 1
        want = scipy.stats.wasserstein_distance(x.numpy(), y.numpy())
        assert dv.wasserstein_1d(x, y).item() == pytest.approx(want, rel=1e-12)
    support = torch.tensor([-1.0, 0.0, 0.5, 3.0], dtype=torch.float64)
    p, q = dirichlet((5,), 4, seed=18, zeros=True), dirichlet((5,), 4, seed=19)
    got = dv.wasserstein_1d(p, q, support=support)
    for i in range(5):
        want = scipy.stats.wasserstein_distance(
            support.numpy(), support.numpy(), p[i].numpy(), q[i].numpy()
        )
        assert got[i].item() == pytest.approx(want, rel=1e-10, abs=1e-14)


def test_wasserstein_1d_of_a_shift_is_the_shift_with_a_unit_gradient():
    x = torch.randn(500, generator=torch.Generator().manual_seed(20))
    for theta in (-2.0, 0.5, 3.0):
        shift = torch.tensor(theta, requires_grad=True)
        w = dv.wasserstein_1d(x, x + shift)
        (grad,) = torch.autograd.grad(w, shift)
        assert w.item() == pytest.approx(abs(theta), rel=1e-5)
        assert grad.item() == pytest.approx(math.copysign(1.0, theta), rel=1e-5)


def test_float32_inputs_give_float32_results():
    p = dirichlet((3,), 4, seed=21).float()
    q = dirichlet((3,), 4, seed=22).float()
    for fn in (dv.kl, dv.reverse_kl, dv.js, dv.total_variation):
        assert fn(p, q).dtype == torch.float32
    assert dv.f_divergence(p, q, "chi2").dtype == torch.float32


@pytest.mark.parametrize(
    "fn",
    [
        dv.kl,
        dv.reverse_kl,
        dv.js,
        dv.total_variation,
        lambda p, q: dv.f_divergence(p, q, "tv"),
    ],
)
def test_bad_distributions_are_refused(fn):
    good = torch.tensor([0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        fn(torch.tensor([0.5, 0.6]), good)
    with pytest.raises(ValueError, match="non-negative"):
        fn(good, torch.tensor([1.5, -0.5]))
    with pytest.raises(ValueError, match="non-negative"):
        fn(torch.tensor([float("nan"), 1.0]), good)
    with pytest.raises(ValueError, match="same shape"):
        fn(good, torch.tensor([0.2, 0.3, 0.5]))
    with pytest.raises(TypeError, match="floating"):
        fn(torch.tensor([1, 0]), good)
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn([0.5, 0.5], good)
    with pytest.raises(ValueError, match="last dimension"):
        fn(torch.tensor(1.0), torch.tensor(1.0))


def test_unknown_generator_and_bad_wasserstein_inputs_are_refused():
    p = torch.tensor([0.5, 0.5])
    with pytest.raises(ValueError, match="'kl', 'reverse_kl', 'js', 'tv'"):
        dv.f_divergence(p, p, "renyi")
    with pytest.raises(TypeError, match="f must be callable"):
        dv.f_divergence(p, p, 3)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        dv.wasserstein_1d(torch.zeros(0), torch.zeros(3))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        dv.wasserstein_1d(torch.zeros(2, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        dv.wasserstein_1d(torch.tensor([0.0, math.inf]), torch.zeros(3))
    with pytest.raises(ValueError, match="strictly increasing"):
        dv.wasserstein_1d(p, p, support=torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="one probability per support point"):
        dv.wasserstein_1d(p, p, support=torch.tensor([0.0, 1.0, 2.0]))


def test_every_pair_of_small_distributions_satisfies_the_known_inequalities():
    # brute force over a grid of 3-point distributions: Pinsker (TV^2 <= KL / 2),
    # JS <= TV log 2 ... and H^2 <= TV <= sqrt(2) H
    levels = [i / 4 for i in range(5)]
    dists = [
        (a, b, 1 - a - b) for a, b in itertools.product(levels, levels) if a + b <= 1
    ]
    p, q = (
        torch.tensor([d for d, _ in itertools.product(dists, dists)]),
        torch.tensor([e for _, e in itertools.product(dists, dists)]),
    )
    p, q = p.double(), q.double()
    tv, kl_, h2 = (
        dv.total_variation(p, q),
        dv.kl(p, q),
        dv.f_divergence(p, q, "hellinger"),
    )
    assert (tv**2 <= kl_ / 2 + 1e-12).all()
    assert (h2 <= tv + 1e-12).all() and (tv <= math.sqrt(2) * h2.sqrt() + 1e-12).all()
    assert (dv.js(p, q) <= tv * math.log(2) + 1e-12).all()
