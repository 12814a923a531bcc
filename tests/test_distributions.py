"""gentorch.distributions against torch.distributions and closed forms."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D

from gentorch.distributions import (
    bernoulli_log_prob,
    categorical_log_prob,
    categorical_mean,
    discretized_logistic_logits,
    kl_normal_standard,
    kl_normal_standard_per_dim,
    nats_to_bits_per_dim,
    normal_log_prob,
    reparameterize,
    standard_normal_log_prob,
)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_normal_log_probs_match_torch_distributions(gen):
    x, mean = torch.randn(2, 5, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=gen, dtype=torch.float64) * 2
    expected = D.Normal(mean, torch.exp(0.5 * logvar)).log_prob(x)
    torch.testing.assert_close(normal_log_prob(x, mean, logvar), expected)
    expected = D.Normal(0.0, 1.0).log_prob(x)
    torch.testing.assert_close(standard_normal_log_prob(x), expected)


def test_bernoulli_log_prob_matches_torch_and_is_stable(gen):
    logits = torch.randn(4, 6, generator=gen, dtype=torch.float64) * 5
    x = (torch.rand(4, 6, generator=gen) < 0.5).double()
    expected = D.Bernoulli(logits=logits).log_prob(x)
    torch.testing.assert_close(bernoulli_log_prob(x, logits), expected)
    # soft targets: x log p + (1 - x) log (1 - p)
    x = torch.rand(4, 6, generator=gen, dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = x * p.log() + (1 - x) * (1 - p).log()
    torch.testing.assert_close(bernoulli_log_prob(x, logits), expected)
    # float32 logits of +-100: sigmoid saturates, the log-probability does not
    big = torch.tensor([100.0, -100.0])
    out = bernoulli_log_prob(torch.tensor([0.0, 1.0]), big)
    torch.testing.assert_close(out, torch.tensor([-100.0, -100.0]))


def test_categorical_log_prob_matches_torch(gen):
    logits = torch.randn(3, 2, 4, 17, generator=gen, dtype=torch.float64)
    x = torch.randint(0, 17, (3, 2, 4), generator=gen)
    expected = D.Categorical(logits=logits).log_prob(x)
    torch.testing.assert_close(categorical_log_prob(x, logits), expected)
    # int32 categories and a single entry
    torch.testing.assert_close(
        categorical_log_prob(x.int(), logits), expected, check_dtype=False
    )
    scalar = categorical_log_prob(torch.tensor(2), torch.tensor([0.0, 0.0, 0.0]))
    torch.testing.assert_close(scalar, torch.tensor(-math.log(3)))


def test_categorical_log_prob_bad_input():
    logits = torch.zeros(2, 3, 5)
    with pytest.raises(TypeError, match="x must be an integer tensor"):
        categorical_log_prob(torch.zeros(2, 3), logits)
    with pytest.raises(ValueError, match=r"logits must have shape \(\*x.shape, K\)"):
        categorical_log_prob(torch.zeros(2, 4, dtype=torch.long), logits)
    with pytest.raises(ValueError, match="categories in 0..4"):
        categorical_log_prob(torch.full((2, 3), 5), logits)
    with pytest.raises(ValueError, match="categories in 0..4"):
        categorical_log_prob(torch.full((2, 3), -1), logits)
    with pytest.raises(TypeError, match="logits must be a floating tensor"):
        categorical_log_prob(torch.zeros(2, 3, dtype=torch.long), logits.long())


def test_kl_normal_standard_matches_torch_and_monte_carlo(gen):
    mean = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    logvar = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    q = D.Normal(mean, torch.exp(0.5 * logvar))
    p = D.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    per_dim = D.kl_divergence(q, p)
    torch.testing.assert_close(kl_normal_standard_per_dim(mean, logvar), per_dim)
    torch.testing.assert_close(kl_normal_standard(mean, logvar), per_dim.sum(-1))
    # against a Monte Carlo estimate E_q[log q - log p] with 200,000 samples
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(mc, kl_normal_standard(mean, logvar), atol=0.05)
    # zero exactly at the prior; positive elsewhere
    zero = kl_normal_standard(torch.zeros(3, 2), torch.zeros(3, 2))
    torch.testing.assert_close(zero, torch.zeros(3))
    assert (kl_normal_standard(mean, logvar) > 0).all()


def test_kl_and_log_prob_bad_shapes():
    with pytest.raises(ValueError, match="mean, logvar must have the same shape"):
        kl_normal_standard(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="latent dimension"):
        kl_normal_standard(torch.tensor(0.0), torch.tensor(0.0))
    with pytest.raises(ValueError, match="x, mean, logvar must have the same shape"):
        normal_log_prob(torch.zeros(3), torch.zeros(3), torch.zeros(2))
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        bernoulli_log_prob(torch.zeros(3, dtype=torch.long), torch.zeros(3))
    with pytest.raises(TypeError, match="mean must be a torch.Tensor"):
        reparameterize([0.0], torch.zeros(1))


def test_reparameterize_moments_gradients_and_generator(gen):
    mean = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64, requires_grad=True)
    z = reparameterize(
        mean.expand(100_000, 3), logvar.expand(100_000, 3), generator=gen
    )
    assert torch.allclose(z.mean(0), mean, atol=0.02)
    assert torch.allclose(z.var(0), logvar.exp(), rtol=0.02)
    # dz/dmean = 1 and dz/dlogvar = eps * std / 2 = (z - mean) / 2
    z.sum().backward()
    torch.testing.assert_close(mean.grad, torch.full_like(mean, 100_000.0))
    expected = ((z - mean) / 2).sum(0).detach()
    torch.testing.assert_close(logvar.grad, expected)
    # the same generator state gives the same sample, on any device
    a = reparameterize(torch.zeros(4), torch.zeros(4), generator=gen.manual_seed(3))
    b = reparameterize(torch.zeros(4), torch.zeros(4), generator=gen.manual_seed(3))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, torch.randn(4, generator=gen.manual_seed(3)))


def test_nats_to_bits_per_dim():
    # a uniform distribution over 17 levels on 64 pixels: log2(17) bits per pixel
    nats = 64 * math.log(17)
    assert nats_to_bits_per_dim(nats, 64) == pytest.approx(math.log2(17))
    out = nats_to_bits_per_dim(torch.tensor([nats, 0.0]), 64)
    torch.testing.assert_close(out, torch.tensor([math.log2(17), 0.0]))
    with pytest.raises(ValueError, match="dims must be an int >= 1"):
        nats_to_bits_per_dim(1.0, 0)
    with pytest.raises(TypeError, match="nats must be a float or a tensor"):
        nats_to_bits_per_dim("1", 64)


def test_discretized_logistic_logits_match_scipy_cdf_differences(gen):
    scipy_stats = pytest.importorskip("scipy.stats")
    loc = torch.randn(4, 6, 3, generator=gen, dtype=torch.float64) * 0.6
    log_scale = torch.randn(4, 6, 3, generator=gen, dtype=torch.float64) - 2
    weights = torch.randn(4, 6, 3, generator=gen, dtype=torch.float64)
    logits = discretized_logistic_logits(loc, log_scale, weights, levels=17)
    assert logits.shape == (4, 6, 17)
    # brute force: the mixture's CDF at the bin edges, differenced
    edges = torch.linspace(-1, 1, 17, dtype=torch.float64)[:-1] + 1 / 16
    edges = torch.cat([torch.tensor([-math.inf]), edges, torch.tensor([math.inf])])
    u = (edges - loc.unsqueeze(-1)) / log_scale.exp().unsqueeze(-1)
    cdf = torch.as_tensor(scipy_stats.logistic.cdf(u.numpy()))  # (4, 6, 3, 18)
    mass = (weights.softmax(-1).unsqueeze(-1) * cdf.diff(dim=-1)).sum(-2)
    torch.testing.assert_close(logits, mass.log())
    torch.testing.assert_close(
        logits.exp().sum(-1), torch.ones(4, 6, dtype=torch.float64)
    )


def test_discretized_logistic_is_stable_and_differentiable_at_extremes():
    # very narrow components far outside [-1, 1] and inside a bin: finite values,
    # finite gradients (float32, as in training)
    loc = torch.tensor([[-30.0], [30.0], [0.0], [0.0625]], requires_grad=True)
    log_scale = torch.tensor([[-7.0], [-7.0], [-7.0], [3.0]], requires_grad=True)
    weights = torch.zeros(4, 1, requires_grad=True)
    logits = discretized_logistic_logits(loc, log_scale, weights, levels=17)
    assert torch.isfinite(logits).all()
    # all mass on the first level, the last level, the middle level 8
    assert logits[0, 0] > -1e-6 and logits[1, -1] > -1e-6 and logits[2, 8] > -1e-3
    logits.logsumexp(-1).sum().backward()
    logits = discretized_logistic_logits(loc, log_scale, weights, levels=17)
    logits[:, 3].sum().backward()
    for p in (loc, log_scale, weights):
        assert torch.isfinite(p.grad).all()


def test_discretized_logistic_bad_input():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="levels must be an int >= 2"):
        discretized_logistic_logits(x, x, x, levels=1)
    with pytest.raises(ValueError, match="loc, log_scale, weight_logits must have"):
        discretized_logistic_logits(x, x, torch.zeros(2, 2), levels=5)
    with pytest.raises(ValueError, match=r"loc must have shape \(..., M\)"):
        discretized_logistic_logits(torch.tensor(0.0), x, x, levels=5)


def test_categorical_mean_is_the_expected_level_in_the_model_range():
    torch.manual_seed(0)
    logits = torch.randn(5, 3, 17, dtype=torch.float64)
    expected = D.Categorical(logits=logits).probs @ torch.arange(17.0).double()
    torch.testing.assert_close(categorical_mean(logits), expected / 8 - 1)
    # a certain level maps to its value: 0 -> -1, 16 -> 1
    sure = torch.full((2, 17), -1e4).index_put_(
        (torch.arange(2), torch.tensor([0, 16])), torch.tensor(0.0)
    )
    torch.testing.assert_close(categorical_mean(sure), torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="K >= 2"):
        categorical_mean(torch.zeros(3, 1))
