"""gentorch.vae against torch.distributions and a linear-Gaussian model whose
evidence log p(x) and posterior p(z|x) are known in closed form."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D
from torch import nn

from gentorch.nets import MLPDecoder, MLPEncoder
from gentorch.vae import VAE, iwae_bound, mlp_vae, negative_elbo

SIGMA = 0.5  # the linear-Gaussian model's observation noise


def linear_gaussian(exact_posterior: bool) -> tuple[VAE, torch.Tensor, torch.Tensor]:
    """p(z) = N(0, I_2), p(x|z) = N(W z + b, SIGMA^2 I_3), with orthogonal columns
    of W so that the posterior covariance (I + W^T W / SIGMA^2)^-1 is diagonal.

    Returns the VAE (its encoder the exact posterior, or a perturbed one), W and b.
    """
    torch.manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(3, 2, dtype=torch.float64))
    w = q * torch.tensor([1.5, 0.7], dtype=torch.float64)  # W^T W = diag(2.25, 0.49)
    b = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
    precision = 1 + (w * w).sum(0) / SIGMA**2  # diagonal of the posterior precision
    decoder = nn.Linear(2, 3, dtype=torch.float64)
    encoder = nn.Linear(3, 4, dtype=torch.float64)
    with torch.no_grad():
        decoder.weight.copy_(w)
        decoder.bias.copy_(b)
        # posterior mean = Sigma_post W^T (x - b) / SIGMA^2, logvar = -log precision
        gain = w.T / SIGMA**2 / precision[:, None]
        encoder.weight.zero_()
        encoder.weight[:2] = gain
        encoder.bias[:2] = -gain @ b
        encoder.bias[2:] = -precision.log()
        if not exact_posterior:
            encoder.bias[:2] += 0.3
            encoder.bias[2:] += 0.5
    vae = VAE(encoder, decoder, latent_dim=2, likelihood="gaussian", obs_std=SIGMA)
    return vae, w, b


def log_evidence(x, w, b):
    cov = w @ w.T + SIGMA**2 * torch.eye(3, dtype=torch.float64)
    return D.MultivariateNormal(b, cov).log_prob(x)


def test_exact_posterior_makes_every_bound_tight():
    vae, w, b = linear_gaussian(exact_posterior=True)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.manual_seed(1))
    exact = log_evidence(x, w, b)
    gen = torch.Generator().manual_seed(0)
    # with q = p(z|x) every importance weight equals p(x): L_k = log p(x) for any k
    for k in (1, 7):
        torch.testing.assert_close(iwae_bound(vae, x, k, generator=gen), exact)
    # and the ELBO, averaged over its one-sample reconstruction term, is log p(x)
    elbos = torch.stack(
        [-negative_elbo(vae, x, generator=gen).value for _ in range(4000)]
    )
    assert torch.allclose(elbos.mean(0), exact, atol=0.05)


def test_bounds_tighten_with_k_and_gap_is_posterior_kl():
    vae, w, b = linear_gaussian(exact_posterior=False)
    x = torch.randn(4, 3, dtype=torch.float64, generator=torch.manual_seed(2))
    exact = log_evidence(x, w, b)
    gen = torch.Generator().manual_seed(0)
    repeats = {1: 400, 3: 400, 1000: 50}
    bounds = {
        k: torch.stack([iwae_bound(vae, x, k, generator=gen) for _ in range(n)]).mean(0)
        for k, n in repeats.items()
    }
    # E[L_1] < E[L_3] < E[L_1000] -> log p(x): within 0.02 nats at k = 1000
    assert (bounds[1] < bounds[3] - 0.1).all() and (
        bounds[3] < bounds[1000] - 0.1
    ).all()
    assert torch.allclose(bounds[1000], exact, atol=0.02)
    # log p(x) - ELBO = KL(q(z|x) || p(z|x)), the posterior in closed form
    exact_vae, _, _ = linear_gaussian(exact_posterior=True)
    post = exact_vae.encode(x)
    q = vae.encode(x)
    kl = D.kl_divergence(
        D.Normal(q.mean, (0.5 * q.logvar).exp()),
        D.Normal(post.mean, (0.5 * post.logvar).exp()),
    ).sum(-1)
    elbo = torch.stack(
        [-negative_elbo(vae, x, generator=gen).value for _ in range(4000)]
    )
    assert torch.allclose(exact - elbo.mean(0), kl, atol=0.05)
    # L_1 estimates the same ELBO (within 4 standard errors of the two means)
    l1 = torch.stack([iwae_bound(vae, x, 1, generator=gen) for _ in range(4000)])
    sem = (l1.var(0) / 4000 + elbo.var(0) / 4000).sqrt()
    assert ((l1.mean(0) - elbo.mean(0)).abs() < 4 * sem).all()


def digits_vae(latent_dim=3, levels=17):
    encoder = MLPEncoder(2 * latent_dim, image_size=8, hidden=(16,))
    decoder = nn.Sequential(
        nn.Linear(latent_dim, 64 * levels), nn.Unflatten(1, (1, 8, 8, levels))
    )
    return VAE(encoder, decoder, latent_dim=latent_dim)


def test_categorical_negative_elbo_matches_torch_distributions():
    torch.manual_seed(0)
    vae = digits_vae()
    pixels = torch.randint(0, 17, (6, 1, 8, 8))
    x = pixels / 8 - 1
    out = negative_elbo(vae, x, generator=torch.Generator().manual_seed(5))
    # the same computation with torch.distributions, the same noise
    mean, logvar = vae.encoder(x).chunk(2, dim=1)
    q = D.Normal(mean, (0.5 * logvar).exp())
    eps = torch.randn(mean.shape, generator=torch.Generator().manual_seed(5))
    z = mean + q.stddev * eps
    log_px = D.Categorical(logits=vae.decoder(z)).log_prob(pixels).sum((1, 2, 3))
    kl = D.kl_divergence(q, D.Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(out.reconstruction, -log_px)
    torch.testing.assert_close(out.kl, kl)
    torch.testing.assert_close(out.value, kl - log_px)


def test_bernoulli_likelihood_and_means():
    torch.manual_seed(0)
    dec = MLPDecoder(2, image_size=8, hidden=(8,), output_activation=None)
    vae = VAE(MLPEncoder(4, image_size=8), dec, latent_dim=2, likelihood="bernoulli")
    x = torch.rand(3, 1, 8, 8) * 2 - 1
    logits = dec(torch.zeros(3, 2))
    expected = (
        D.Bernoulli(logits=logits, validate_args=False)
        .log_prob((x + 1) / 2)
        .sum((1, 2, 3))
    )
    torch.testing.assert_close(vae.log_likelihood(x, logits), expected)
    torch.testing.assert_close(vae.mean(logits), 2 * torch.sigmoid(logits) - 1)


def test_categorical_mean_and_draws_follow_the_softmax():
    vae = digits_vae(levels=5)
    logits = torch.tensor([0.0, 1.0, 2.0, -1.0, 0.5])
    probs = logits.softmax(0)
    params = logits.expand(1, 1, 8, 8, 5)
    # E[level] mapped to [-1, 1]
    expected = (probs * torch.arange(5.0)).sum() / 2 - 1
    torch.testing.assert_close(vae.mean(params), expected.expand(1, 1, 8, 8))
    # 64 * 500 draws: the level frequencies match the probabilities
    gen = torch.Generator().manual_seed(0)
    draws = torch.cat([vae.draw(params, generator=gen) for _ in range(500)])
    levels = ((draws + 1) * 2).round().long().flatten()
    freq = torch.bincount(levels, minlength=5) / levels.numel()
    assert torch.allclose(freq, probs, atol=0.01)


def test_sample_shapes_devices_and_determinism():
    vae = digits_vae()
    a = vae.sample(4, generator=torch.Generator().manual_seed(0))
    b = vae.sample(4, generator=torch.Generator().manual_seed(0))
    assert a.shape == (4, 1, 8, 8)
    torch.testing.assert_close(a, b)
    # draws sit on the 17 levels of [-1, 1]; means inside [-1, 1]
    torch.testing.assert_close((a + 1) * 8, ((a + 1) * 8).round())
    m = vae.sample(4, generator=torch.Generator().manual_seed(0), mean=True)
    assert m.min() >= -1 and m.max() <= 1
    # forward = the mean at the posterior mean
    x = a
    torch.testing.assert_close(vae(x), vae.mean(vae.decode(vae.encode(x).mean)))


def test_iwae_bound_is_deterministic_and_finite_for_any_chunk_size():
    vae = digits_vae()
    x = torch.randint(0, 17, (5, 1, 8, 8)) / 8 - 1
    one = iwae_bound(vae, x, 12, generator=torch.Generator().manual_seed(0))
    # chunks draw z in a different order, so the values differ between chunk
    # sizes; each must still give one finite bound per example
    for chunk in (1, 5, 12, 100):
        out = iwae_bound(
            vae, x, 12, generator=torch.Generator().manual_seed(0), chunk_size=chunk
        )
        assert out.shape == (5,) and torch.isfinite(out).all()
    torch.testing.assert_close(
        one, iwae_bound(vae, x, 12, generator=torch.Generator().manual_seed(0))
    )


def test_bad_input():
    vae = digits_vae()
    x = torch.zeros(2, 1, 8, 8)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAE(nn.Identity(), nn.Identity(), latent_dim=2, likelihood="poisson")
    with pytest.raises(ValueError, match="latent_dim must be an int >= 1"):
        VAE(nn.Identity(), nn.Identity(), latent_dim=0)
    with pytest.raises(TypeError, match="encoder must be"):
        VAE(lambda x: x, nn.Identity(), latent_dim=2)
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        iwae_bound(vae, x, 0)
    with pytest.raises(ValueError, match="encoder output must have shape"):
        VAE(MLPEncoder(5, image_size=8), vae.decoder, latent_dim=3).encode(x)
    with pytest.raises(ValueError, match="z must have shape"):
        vae.decode(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="params must have shape"):
        vae.log_likelihood(torch.zeros(2, 1, 8, 7), vae.decode(torch.zeros(2, 3)))
    with pytest.raises(TypeError, match="model must be"):
        negative_elbo(nn.Identity(), x)
    with pytest.raises(ValueError, match="obs_std"):
        VAE(nn.Identity(), nn.Identity(), latent_dim=2, obs_std=0.0)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        vae.sample(0)


def test_categorical_levels_read_the_digits_pixels():
    vae = digits_vae()
    pixels = torch.arange(17).repeat(4)[:64].reshape(1, 1, 8, 8)
    # logits that put all mass on level p at pixel p: log p(x|z) = 0 exactly
    logits = torch.full((1, 1, 8, 8, 17), -1e4)
    logits.scatter_(-1, pixels.unsqueeze(-1), 0.0)
    x = pixels / 8 - 1
    assert vae.log_likelihood(x, logits).item() == pytest.approx(0.0, abs=1e-6)
    assert vae.log_likelihood(x + 1 / 8, logits).item() < -1e3
    assert math.isfinite(vae.log_likelihood(x, torch.zeros(1, 1, 8, 8, 17)).item())


def _linear_params(widths):
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


@pytest.mark.parametrize(
    ("likelihood", "components", "per_pixel"),
    [("categorical", 2, 6), ("categorical", None, 17), ("bernoulli", 2, 1)],
)
def test_mlp_vae_shapes_and_parameter_count(likelihood, components, per_pixel):
    vae = mlp_vae(
        4,
        image_size=8,
        hidden=(32, 16),
        likelihood=likelihood,
        logistic_components=components,
    )
    expected = _linear_params([64, 32, 16, 8]) + _linear_params(
        [4, 32, 16, 64 * per_pixel]
    )
    assert sum(p.numel() for p in vae.parameters()) == expected
    x = torch.randint(0, 17, (3, 1, 8, 8)) / 8 - 1
    params = vae.decode(vae.encode(x).mean)
    if likelihood != "categorical":
        assert params.shape == (3, 1, 8, 8)
    else:
        assert params.shape == (3, 1, 8, 8, 17)
    if likelihood == "categorical" and components is not None:
        # the head gives normalised log-probabilities over the 17 levels
        torch.testing.assert_close(params.logsumexp(-1), torch.zeros(3, 1, 8, 8))
    assert negative_elbo(vae, x).value.shape == (3,)


def test_mlp_vae_bad_input():
    with pytest.raises(ValueError, match="logistic_components must be an int >= 1"):
        mlp_vae(2, image_size=8, logistic_components=0)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        mlp_vae(2, image_size=8, likelihood="laplace")
    with pytest.raises(ValueError, match="levels must be an int >= 2"):
        mlp_vae(2, image_size=8, levels=1)
