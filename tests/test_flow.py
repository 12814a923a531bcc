"""gentorch.flow: the straight path, its loss, minibatch OT and the ODE samplers,
against closed forms (Gaussian data, whose marginal velocity is known) and brute
force."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from gentorch import flow
from gentorch.utils import eval_mode


def gaussian_velocity(m: float, s: float):
    """The exact marginal velocity E[eps - x0 | x_t = x] for x0 ~ N(m, s^2 I), eps ~
    N(0, I): Gaussian conditioning of eps - x0 on x_t = (1 - t) x0 + t eps."""

    class Exact(torch.nn.Module):
        def forward(self, x, timesteps):
            t = (timesteps / flow.TIME_SCALE).to(x.dtype)[:, None]
            var = (1 - t) ** 2 * s**2 + t**2  # Var(x_t)
            cov = t - (1 - t) * s**2  # Cov(eps - x0, x_t)
            return -m + cov / var * (x - (1 - t) * m)

    return Exact()


def test_interpolate_and_target_velocity():
    gen = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    torch.testing.assert_close(flow.interpolate(x0, eps, torch.zeros(5)), x0)
    torch.testing.assert_close(flow.interpolate(x0, eps, torch.ones(5)), eps)
    # the target is the path's derivative in t (a finite difference, exact here)
    t = torch.rand(5, generator=gen) * 0.9
    h = 1e-3
    slope = (flow.interpolate(x0, eps, t + h) - flow.interpolate(x0, eps, t)) / h
    torch.testing.assert_close(slope, flow.target_velocity(x0, eps), atol=1e-3, rtol=0)


def test_loss_is_the_squared_error_to_the_straight_path_velocity():
    gen = torch.Generator().manual_seed(1)
    x0, eps = (
        torch.randn(6, 1, 2, 2, generator=gen),
        torch.randn(6, 1, 2, 2, generator=gen),
    )
    t = torch.rand(6, generator=gen)
    seen = {}

    def model(x, timesteps):
        seen["x"], seen["t"] = x, timesteps
        return 0.5 * x

    loss = flow.flow_matching_loss(model, x0, noise=eps, t=t)
    torch.testing.assert_close(
        seen["x"], (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * eps
    )
    torch.testing.assert_close(seen["t"], flow.TIME_SCALE * t)
    expected = ((0.5 * seen["x"] - (eps - x0)) ** 2).sum(dim=(1, 2, 3))
    torch.testing.assert_close(loss, expected)
    assert loss.shape == (6,)


def test_the_marginal_velocity_minimises_the_expected_loss():
    # conditional flow matching's key identity: E||v - u||^2 = E||v - v*||^2 + const,
    # so the exact marginal field has a lower loss than any perturbation of it
    gen = torch.Generator().manual_seed(2)
    m, s = 1.5, 0.4
    exact = gaussian_velocity(m, s)
    x0 = m + s * torch.randn(200_000, 1, generator=gen, dtype=torch.float64)
    eps = torch.randn(200_000, 1, generator=gen, dtype=torch.float64)
    t = torch.rand(200_000, generator=gen, dtype=torch.float64)
    best = flow.flow_matching_loss(exact, x0, noise=eps, t=t).mean()
    for shift in (0.1, -0.1):
        worse = flow.flow_matching_loss(
            lambda x, tt, shift=shift: exact(x, tt) + shift, x0, noise=eps, t=t
        ).mean()
        # the excess is the squared shift, exactly in expectation
        assert worse - best == pytest.approx(shift**2, rel=0.05)


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_sample_transports_noise_to_the_gaussian_and_counts_evaluations(method):
    gen = torch.Generator().manual_seed(3)
    m, s = 1.5, 0.4
    noise = torch.randn(100_000, 1, generator=gen, dtype=torch.float64)
    out = flow.sample(gaussian_velocity(m, s), noise, num_steps=200, method=method)
    assert out.nfe == (200 if method == "euler" else 400)
    assert out.trajectory is None
    assert out.sample.mean().item() == pytest.approx(m, abs=0.01)
    assert out.sample.std().item() == pytest.approx(s, abs=0.01)


def test_heun_converges_faster_than_euler():
    # the exact flow of Gaussian data maps eps to m + s eps (a monotone 1-D map)
    m, s = 1.5, 0.4
    noise = torch.linspace(-2, 2, 11, dtype=torch.float64)[:, None]
    target = m + s * noise
    field = gaussian_velocity(m, s)
    errors = {
        (method, n): (flow.sample(field, noise, num_steps=n, method=method).sample
                      - target).abs().max().item()
        for method in ("euler", "heun") for n in (10, 20)
    }  # fmt: skip
    # first order: halving the step halves the error; second order: quarters it
    assert errors["euler", 10] / errors["euler", 20] == pytest.approx(2, rel=0.15)
    assert errors["heun", 10] / errors["heun", 20] == pytest.approx(4, rel=0.25)
    assert errors["heun", 10] < errors["euler", 20]


def test_sample_trajectory_and_eval_mode():
    class Probe(torch.nn.Module):
        def forward(self, x, t):
            assert not self.training and not torch.is_grad_enabled()
            return torch.ones_like(x)

    probe = Probe().train()
    noise = torch.zeros(4, 2)
    out = flow.sample(probe, noise, num_steps=5, return_trajectory=True)
    assert out.trajectory.shape == (6, 4, 2)
    torch.testing.assert_close(out.trajectory[0], noise)
    # dx/dt = 1 from t = 1 to 0: x falls by 1
    torch.testing.assert_close(out.sample, -torch.ones(4, 2))
    assert probe.training


def test_minibatch_ot_is_the_best_pairing_by_brute_force():
    gen = torch.Generator().manual_seed(4)
    x0, eps = torch.randn(6, 2, generator=gen), torch.randn(6, 2, generator=gen)
    paired = flow.minibatch_ot(x0, eps)
    cost = ((x0 - paired) ** 2).sum().item()
    best = min(
        ((x0 - eps[list(p)]) ** 2).sum().item()
        for p in itertools.permutations(range(6))
    )
    assert cost == pytest.approx(best)
    # a permutation of the same rows
    assert sorted(map(tuple, paired.tolist())) == sorted(map(tuple, eps.tolist()))


def test_conversions_are_exact_and_invert_each_other():
    gen = torch.Generator().manual_seed(5)
    x0, eps = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    t = torch.rand(5, generator=gen) * 0.98 + 0.01
    x_t = flow.interpolate(x0, eps, t)
    v = flow.target_velocity(x0, eps)
    torch.testing.assert_close(flow.x0_from_velocity(x_t, v, t), x0)
    torch.testing.assert_close(flow.noise_from_velocity(x_t, v, t), eps)
    torch.testing.assert_close(flow.velocity_from_x0(x_t, x0, t), v)


def test_vp_to_flow_maps_ddpm_points_onto_the_straight_path():
    gen = torch.Generator().manual_seed(6)
    x0, eps = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    alpha_bar = torch.rand(5, generator=gen) * 0.98 + 0.01
    x_vp = alpha_bar.sqrt()[:, None] * x0 + (1 - alpha_bar).sqrt()[:, None] * eps
    x_flow, t = flow.vp_to_flow(x_vp, alpha_bar)
    torch.testing.assert_close(x_flow, flow.interpolate(x0, eps, t))
    # the map is monotone: more noise in DDPM's sense is a later t
    order = alpha_bar.argsort(descending=True)
    assert (t[order].diff() > 0).all()


def test_straightness_is_zero_for_lines_and_matches_a_quarter_circle():
    # a straight path at constant speed, in any dimension: S = 0
    x1, x0 = torch.randn(4, 3, 2, dtype=torch.float64).unbind(0)[:2]
    ts = torch.linspace(1, 0, 9, dtype=torch.float64)
    line = torch.stack([(1 - t) * x0 + t * x1 for t in ts])
    zero = torch.zeros(3, dtype=line.dtype)
    torch.testing.assert_close(flow.straightness(line), zero)
    # the same line at uneven speed is not straight in Liu et al.'s sense:
    # S = integral of (c'(t) - 1)^2 ||x1 - x0||^2 with c(t) = t^2, i.e. 1/3 ||.||^2
    fine = torch.linspace(1, 0, 4001, dtype=torch.float64)
    uneven = torch.stack([(1 - t * t) * x0 + t * t * x1 for t in fine])
    expected = (x1 - x0).pow(2).sum(-1) / 3
    torch.testing.assert_close(flow.straightness(uneven), expected, rtol=1e-5, atol=0)
    # a quarter circle x(t) = (cos(pi t / 2), sin(pi t / 2)): S = pi^2 / 4 - 2
    angle = math.pi / 2 * fine
    circle = torch.stack([angle.cos(), angle.sin()], -1)[:, None]
    got = flow.straightness(circle).item()
    assert got == pytest.approx(math.pi**2 / 4 - 2, rel=1e-5)


def test_bad_inputs():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        flow.interpolate(x, x, torch.full((3,), 1.5))
    with pytest.raises(ValueError, match="noise must have shape"):
        flow.interpolate(x, torch.zeros(3, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="method"):
        flow.sample(lambda a, b: a, x, num_steps=2, method="rk4")
    with pytest.raises(ValueError, match="num_steps"):
        flow.sample(lambda a, b: a, x, num_steps=0)
    with pytest.raises(ValueError, match="t must be > 0"):
        flow.velocity_from_x0(x, x, torch.zeros(3))
    with pytest.raises(TypeError, match="noise must be a floating"):
        flow.sample(lambda a, b: a, torch.zeros(3, 2, dtype=torch.int64), num_steps=1)
    with pytest.raises(ValueError, match="trajectory must have shape"):
        flow.straightness(torch.zeros(1, 3, 2))
    assert math.isfinite(flow.TIME_SCALE)
    with eval_mode(torch.nn.Linear(2, 2)):
        pass
