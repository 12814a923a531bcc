"""gentorch.diffusion against closed forms, Gaussian conditioning and diffusers."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from gentorch.diffusion import (
    ClassifierGuided,
    DDIMScheduler,
    DDPMScheduler,
    betas_for_schedule,
    diffusion_loss,
    invert,
    sample,
)

F64 = torch.float64
# most tests use short schedules that leave signal at t = T; one test checks the warning
pytestmark = pytest.mark.filterwarnings("ignore:alphas_cumprod:UserWarning")


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


# --- schedules --------------------------------------------------------------------


def test_linear_schedule_is_evenly_spaced_between_its_ends():
    betas = betas_for_schedule("linear", 1000)
    assert betas.dtype == F64 and betas.shape == (1000,)
    assert betas[0].item() == pytest.approx(1e-4, abs=1e-15)
    assert betas[-1].item() == pytest.approx(0.02, abs=1e-15)
    steps = betas.diff()
    torch.testing.assert_close(steps, torch.full_like(steps, (0.02 - 1e-4) / 999))


def test_cosine_schedule_follows_nichol_dhariwal_formula():
    T, s = 1000, 0.008
    betas = betas_for_schedule("cosine", T)
    alphas_cumprod = torch.cumprod(1 - betas, 0)

    def f(t):
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2

    # alphabar(t) = f(t) / f(0) where no beta was clipped (paper t = code t + 1)
    clipped = (betas >= 0.999).nonzero().flatten().tolist()
    assert clipped == [T - 1]
    for t in (0, 1, 10, 250, 499, 750, 998):
        assert alphas_cumprod[t].item() == pytest.approx(f(t + 1) / f(0), rel=1e-12)
    assert betas.max().item() == 0.999


def test_sigmoid_schedule_formula():
    betas = betas_for_schedule("sigmoid", 11, beta_start=0.001, beta_end=0.5)
    for i, u in enumerate(torch.linspace(-6, 6, 11, dtype=F64).tolist()):
        expected = 0.001 + (0.5 - 0.001) / (1 + math.exp(-u))
        assert betas[i].item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("schedule, expected", [("linear", 0.0786), ("cosine", 0.4938)])
def test_signal_left_halfway_matches_the_literature(schedule, expected):
    # about 0.08 (linear) and 0.49 (cosine) at t = T/2 for T = 1000
    scheduler = DDPMScheduler(1000, beta_schedule=schedule)
    assert scheduler.alphas_cumprod[499].item() == pytest.approx(expected, abs=5e-4)


def test_schedule_tensors_are_consistent():
    scheduler = DDPMScheduler(200, beta_schedule="cosine")
    torch.testing.assert_close(scheduler.alphas, 1 - scheduler.betas)
    torch.testing.assert_close(
        scheduler.alphas_cumprod,
        torch.tensor(
            [math.prod(scheduler.alphas[: t + 1].tolist()) for t in range(200)],
            dtype=F64,
        ),
    )
    a = scheduler.alphas_cumprod
    torch.testing.assert_close(scheduler.log_snr, torch.log(a / (1 - a)))
    assert scheduler.log_snr.diff().max() < 0


def test_short_linear_schedule_warns_and_the_fixes_do_not():
    with pytest.warns(UserWarning, match="alphas_cumprod"):
        short = DDPMScheduler(50)
    # sum of the betas is about 0.5: about 0.6 of the signal's variance is left
    assert short.alphas_cumprod[-1].item() == pytest.approx(0.6, abs=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DDPMScheduler(1000)
        DDPMScheduler(50, beta_schedule="cosine")
        DDPMScheduler(50, beta_start=1e-4 * 1000 / 50, beta_end=0.02 * 1000 / 50)


# --- forward process ----------------------------------------------------------------


def test_closed_form_matches_iterating_the_one_step_process_exactly():
    scheduler = DDPMScheduler(300, beta_schedule="cosine")
    # moments of x_t given x_0 under x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps
    mean, var = 1.0, 0.0
    for t in range(300):
        beta = scheduler.betas[t].item()
        mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta
        assert mean == pytest.approx(
            math.sqrt(scheduler.alphas_cumprod[t].item()), rel=1e-9
        )
        assert var == pytest.approx(1 - scheduler.alphas_cumprod[t].item(), rel=1e-9)


def test_add_noise_matches_iterated_samples(gen):
    scheduler = DDPMScheduler(100, beta_start=1e-3, beta_end=0.1)
    n, t = 200_000, 40
    x0 = torch.tensor([1.5, -0.5], dtype=F64)
    x = x0.expand(n, 2).clone()
    for s in range(t + 1):
        beta = scheduler.betas[s]
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(
            n, 2, generator=gen, dtype=F64
        )
    noise = torch.randn(n, 2, generator=gen, dtype=F64)
    closed = scheduler.add_noise(x0.expand(n, 2), noise, torch.full((n,), t))
    a = scheduler.alphas_cumprod[t]
    for draws in (x, closed):
        # mean and covariance within 5 standard errors of the closed form
        se_mean = math.sqrt((1 - a) / n)
        assert (draws.mean(0) - a.sqrt() * x0).abs().max() < 5 * se_mean
        cov = torch.cov(draws.T)
        se_var = math.sqrt(2 / n) * (1 - a)
        assert (cov - (1 - a) * torch.eye(2, dtype=F64)).abs().max() < 5 * se_var
    # and the two samples agree with each other (two-sample test on each coordinate)
    stats = pytest.importorskip("scipy.stats")
    for j in range(2):
        assert stats.ks_2samp(x[:, j].numpy(), closed[:, j].numpy()).pvalue > 1e-3


def test_add_noise_per_example_timesteps_and_dtype():
    scheduler = DDPMScheduler(10, beta_start=0.05, beta_end=0.5)
    x0 = torch.ones(3, 2, 2)
    noise = torch.zeros(3, 2, 2)
    xt = scheduler.add_noise(x0, noise, torch.tensor([0, 4, 9]))
    assert xt.dtype == torch.float32
    for i, t in enumerate((0, 4, 9)):
        expected = scheduler.alphas_cumprod[t].sqrt().float()
        torch.testing.assert_close(xt[i], expected.expand(2, 2))


def test_posterior_matches_gaussian_conditioning():
    # q(x_s | x_t, x_0) from the joint Gaussian of (x_s, x_t) given x_0, all t
    scheduler = DDPMScheduler(50, beta_schedule="cosine")
    for steps in (50, 7):
        scheduler.set_timesteps(steps)
        x0 = torch.tensor([[0.7]], dtype=F64)
        xt = torch.tensor([[-0.3]], dtype=F64)
        for t in scheduler.timesteps.tolist():
            s = scheduler.previous_timestep(t).item()
            a_t = scheduler.alphas_cumprod[t].item()
            a_s = 1.0 if s < 0 else scheduler.alphas_cumprod[s].item()
            var_s, var_t = 1 - a_s, 1 - a_t
            cov = math.sqrt(a_t / a_s) * var_s
            mean = math.sqrt(a_s) * 0.7 + cov / var_t * (-0.3 - math.sqrt(a_t) * 0.7)
            post = scheduler.posterior(x0, xt, torch.tensor([t]))
            assert post.mean.item() == pytest.approx(mean, rel=1e-9, abs=1e-12)
            assert post.variance.item() == pytest.approx(
                var_s - cov**2 / var_t, rel=1e-9, abs=1e-12
            )


def test_posterior_variance_is_betatilde_with_every_step():
    scheduler = DDPMScheduler(100)
    x = torch.zeros(100, 1, dtype=F64)
    t = torch.arange(100)
    variance = scheduler.posterior(x, x, t).variance.flatten()
    a = scheduler.alphas_cumprod
    a_prev = torch.cat([torch.ones(1, dtype=F64), a[:-1]])
    torch.testing.assert_close(variance, (1 - a_prev) / (1 - a) * scheduler.betas)
    assert variance[0].item() == 0.0


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_conversions_between_parameterisations_are_exact(gen, prediction_type):
    scheduler = DDPMScheduler(1000, prediction_type=prediction_type)
    x0 = torch.randn(8, 5, generator=gen, dtype=F64)
    eps = torch.randn(8, 5, generator=gen, dtype=F64)
    t = torch.tensor([0, 1, 10, 100, 400, 700, 900, 999])
    xt = scheduler.add_noise(x0, eps, t)
    a = scheduler.alphas_cumprod[t][:, None]
    v = a.sqrt() * eps - (1 - a).sqrt() * x0
    torch.testing.assert_close(scheduler.get_velocity(x0, eps, t), v)
    output = {"epsilon": eps, "sample": x0, "v_prediction": v}[prediction_type]
    x0_hat, eps_hat = scheduler.convert_model_output(output, xt, t)
    torch.testing.assert_close(x0_hat, x0, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(eps_hat, eps, rtol=1e-9, atol=1e-9)


# --- against diffusers ----------------------------------------------------------------

DIFFUSERS_NAMES = {
    "linear": "linear",
    "cosine": "squaredcos_cap_v2",
    "sigmoid": "sigmoid",
}


@pytest.mark.parametrize("schedule", list(DIFFUSERS_NAMES))
def test_schedules_match_diffusers(schedule):
    diffusers = pytest.importorskip("diffusers")
    ours = DDPMScheduler(1000, beta_schedule=schedule)
    theirs = diffusers.DDPMScheduler(
        num_train_timesteps=1000, beta_schedule=DIFFUSERS_NAMES[schedule]
    )
    # diffusers computes in float32
    torch.testing.assert_close(ours.betas, theirs.betas.double(), rtol=0, atol=1e-7)
    torch.testing.assert_close(
        ours.alphas_cumprod, theirs.alphas_cumprod.double(), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("spacing", ["leading", "trailing"])
@pytest.mark.parametrize("steps", [1000, 50, 7, 1])
def test_timesteps_match_diffusers(spacing, steps):
    diffusers = pytest.importorskip("diffusers")
    ours = DDPMScheduler(1000, timestep_spacing=spacing)
    theirs = diffusers.DDPMScheduler(num_train_timesteps=1000, timestep_spacing=spacing)
    ours.set_timesteps(steps)
    theirs.set_timesteps(steps)
    assert torch.equal(ours.timesteps, theirs.timesteps)


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
@pytest.mark.parametrize("variance_type", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("steps", [1000, 20])
def test_step_and_add_noise_match_diffusers(prediction_type, variance_type, steps):
    diffusers = pytest.importorskip("diffusers")
    options = dict(
        prediction_type=prediction_type, variance_type=variance_type, clip_sample=True
    )
    ours = DDPMScheduler(1000, beta_schedule="cosine", **options)
    theirs = diffusers.DDPMScheduler(
        num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", **options
    )
    ours.set_timesteps(steps)
    theirs.set_timesteps(steps)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 1, 3, 3, generator=gen)
    output = torch.randn(4, 1, 3, 3, generator=gen)
    noise = torch.randn(4, 1, 3, 3, generator=gen)
    t = ours.timesteps[[0, 1, steps // 2, -1]]
    torch.testing.assert_close(
        ours.add_noise(x, noise, t), theirs.add_noise(x, noise, t), atol=1e-5, rtol=0
    )
    for timestep in t.tolist():
        # the same generator state: the same noise draws
        ours_out = ours.step(
            output, timestep, x, generator=torch.Generator().manual_seed(2)
        )
        theirs_out = theirs.step(
            output, timestep, x, generator=torch.Generator().manual_seed(2)
        )
        torch.testing.assert_close(
            ours_out.prev_sample, theirs_out.prev_sample, atol=2e-5, rtol=0
        )
        torch.testing.assert_close(
            ours_out.pred_original_sample,
            theirs_out.pred_original_sample,
            atol=2e-5,
            rtol=0,
        )


# --- step, loss and sampling -------------------------------------------------------


def test_last_step_adds_no_noise_and_clipping_clamps():
    scheduler = DDPMScheduler(10, beta_start=0.05, beta_end=0.5, clip_sample=True)
    x = torch.full((2, 3), 0.5)
    output = torch.full((2, 3), -30.0)
    first = scheduler.step(output, 9, x, generator=torch.Generator().manual_seed(0))
    assert first.pred_original_sample.max().item() == 1.0
    last_a = scheduler.step(output, 0, x, generator=torch.Generator().manual_seed(0))
    last_b = scheduler.step(output, 0, x, generator=torch.Generator().manual_seed(5))
    assert torch.equal(last_a.prev_sample, last_b.prev_sample)
    # at t = 0 the posterior mean is the clamped estimate of x_0 itself
    torch.testing.assert_close(last_a.prev_sample, last_a.pred_original_sample)


class GaussianOracle(torch.nn.Module):
    """The exact eps-prediction E[eps | x_t] for data x_0 ~ N(mu, s^2 I)."""

    def __init__(self, scheduler, mu, s):
        super().__init__()
        self.scheduler, self.mu, self.s = scheduler, mu, s
        self.dummy = torch.nn.Parameter(torch.zeros((), dtype=F64))

    def forward(self, x, t):
        a = self.scheduler.alphas_cumprod[t.cpu()].to(x)[:, None]
        var_t = a * self.s**2 + 1 - a
        return (1 - a).sqrt() * (x - a.sqrt() * self.mu) / var_t


def test_loss_of_the_exact_denoiser_is_the_posterior_variance_of_the_noise(gen):
    scheduler = DDPMScheduler(1000)
    mu, s, n = 0.5, 0.3, 40_000
    oracle = GaussianOracle(scheduler, mu, s)
    x0 = mu + s * torch.randn(n, 2, generator=gen, dtype=F64)
    t = torch.full((n,), 300)
    loss = diffusion_loss(oracle, scheduler, x0, timesteps=t, generator=gen)
    assert loss.shape == (n,)
    a = scheduler.alphas_cumprod[300].item()
    # Var(eps | x_t) = 1 - (1 - a) / (a s^2 + 1 - a), per dimension
    expected = 2 * (1 - (1 - a) / (a * s**2 + 1 - a))
    se = loss.std().item() / math.sqrt(n)
    assert abs(loss.mean().item() - expected) < 5 * se


def test_loss_is_the_squared_error_to_the_target(gen):
    x0 = torch.randn(5, 1, 2, 2, generator=gen)
    noise = torch.randn(5, 1, 2, 2, generator=gen)
    t = torch.tensor([0, 3, 9, 5, 1])
    for prediction_type in ("epsilon", "sample", "v_prediction"):
        scheduler = DDPMScheduler(
            10, beta_start=0.05, beta_end=0.5, prediction_type=prediction_type
        )
        xt = scheduler.add_noise(x0, noise, t)
        target = {
            "epsilon": noise,
            "sample": x0,
            "v_prediction": scheduler.get_velocity(x0, noise, t),
        }[prediction_type]
        loss = diffusion_loss(
            lambda x, t: 0.5 * x, scheduler, x0, timesteps=t, noise=noise
        )
        expected = ((0.5 * xt - target) ** 2).sum((1, 2, 3))
        torch.testing.assert_close(loss, expected)


def test_loss_draws_timesteps_uniformly(gen):
    scheduler = DDPMScheduler(4, beta_start=0.1, beta_end=0.9)
    seen = []
    loss = diffusion_loss(
        lambda x, t: seen.append(t) or x,
        scheduler,
        torch.zeros(40_000, 1),
        generator=gen,
    )
    assert loss.shape == (40_000,)
    counts = torch.bincount(seen[0], minlength=4).double()
    stats = pytest.importorskip("scipy.stats")
    assert stats.chisquare(counts.numpy()).pvalue > 1e-3


def _exact_chain(scheduler, mu, s, kind):
    """Exact mean and std of samples for data N(mu, s^2) and the exact denoiser.

    Every step is linear in x_t: x0_hat = E[x_0 | x_t] = mu + k (x_t - sqrt(a) mu)
    with k = sqrt(a) s^2 / (a s^2 + 1 - a). "ddpm": x_s = c0 x0_hat + ct x_t +
    sigma z (the posterior); "ddim": x_s = sqrt(a_s) x0_hat + sqrt(1 - a_s) eps_hat,
    eps_hat = (x_t - sqrt(a) x0_hat) / sqrt(1 - a).
    """
    mean, var = 0.0, 1.0
    for t in scheduler.timesteps.tolist():
        prev = scheduler.previous_timestep(t).item()
        a = scheduler.alphas_cumprod[t].item()
        a_s = 1.0 if prev < 0 else scheduler.alphas_cumprod[prev].item()
        k = math.sqrt(a) * s**2 / (a * s**2 + 1 - a)
        x0_slope, x0_offset = k, mu - k * math.sqrt(a) * mu
        if kind == "ddpm":
            beta = 1 - a / a_s
            c0 = math.sqrt(a_s) * beta / (1 - a)
            ct = math.sqrt(1 - beta) * (1 - a_s) / (1 - a)
            slope, offset = c0 * x0_slope + ct, c0 * x0_offset
            noise_var = 0.0 if prev < 0 else (1 - a_s) / (1 - a) * beta
        else:
            eps_slope = (1 - math.sqrt(a) * x0_slope) / math.sqrt(1 - a)
            eps_offset = -math.sqrt(a) * x0_offset / math.sqrt(1 - a)
            slope = math.sqrt(a_s) * x0_slope + math.sqrt(1 - a_s) * eps_slope
            offset = math.sqrt(a_s) * x0_offset + math.sqrt(1 - a_s) * eps_offset
            noise_var = 0.0
        mean, var = slope * mean + offset, slope**2 * var + noise_var
    return mean, math.sqrt(var)


def test_sample_is_reproducible_and_returns_the_trajectory():
    scheduler = DDPMScheduler(20, beta_start=0.01, beta_end=0.4)
    oracle = GaussianOracle(scheduler, 0.0, 1.0)
    a = sample(oracle, scheduler, (6, 2), generator=torch.Generator().manual_seed(3))
    run = sample(
        oracle,
        scheduler,
        (6, 2),
        generator=torch.Generator().manual_seed(3),
        return_trajectory=True,
    )
    assert torch.equal(a, run.sample)
    assert run.trajectory.shape == (21, 6, 2)
    assert run.pred_original_samples.shape == (20, 6, 2)
    assert torch.equal(run.trajectory[-1], run.sample)
    assert run.timesteps.tolist() == list(range(19, -1, -1))


def test_sample_restores_training_mode():
    model = torch.nn.Sequential(torch.nn.Dropout(0.5))
    model.register_parameter("w", torch.nn.Parameter(torch.zeros(1)))
    scheduler = DDPMScheduler(5, beta_start=0.1, beta_end=0.9)

    def forward(x, t):
        assert not model.training
        return x

    model.forward = forward
    sample(model, scheduler, (2, 1))
    assert model.training


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_train_timesteps=0), ValueError, "num_train_timesteps"),
        (dict(num_train_timesteps=10.0), TypeError, "num_train_timesteps"),
        (dict(beta_schedule="quadratic"), ValueError, "'linear', 'cosine', 'sigmoid'"),
        (dict(beta_start=0.0), ValueError, "beta_start"),
        (dict(beta_end=1.0), ValueError, "beta_end"),
        (dict(beta_start=0.1, beta_end=0.01), ValueError, "beta_start must be <="),
        (dict(prediction_type="noise"), ValueError, "prediction_type"),
        (dict(variance_type="learned"), ValueError, "variance_type"),
        (dict(clip_sample=1), TypeError, "clip_sample"),
        (dict(timestep_spacing="linspace"), ValueError, "timestep_spacing"),
    ],
)
def test_bad_scheduler_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DDPMScheduler(**kwargs)


def test_bad_timesteps_and_shapes():
    scheduler = DDPMScheduler(10, beta_start=0.05, beta_end=0.5)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"0\.\.9 \(0-indexed"):
        scheduler.add_noise(x, x, torch.tensor([0, 1, 10]))
    with pytest.raises(ValueError, match="timesteps must lie"):
        scheduler.add_noise(x, x, torch.tensor([-1, 1, 2]))
    with pytest.raises(TypeError, match="integers"):
        scheduler.add_noise(x, x, torch.tensor([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        scheduler.add_noise(x, x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="noise must have shape"):
        scheduler.add_noise(x, torch.zeros(3, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="num_inference_steps"):
        scheduler.set_timesteps(11)
    scheduler.set_timesteps(5)
    with pytest.raises(ValueError, match="one of scheduler.timesteps"):
        scheduler.step(x, 9, x)
    with pytest.raises(ValueError, match="0-d"):
        scheduler.step(x, torch.tensor([8, 8, 8]), x)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        sample(lambda x, t: x, scheduler, (2, 1))


def test_unet_and_mlp_train_and_sample_through_the_package():
    # the chapter's BIG path on a CPU: a UNet on 28x28 images, end to end
    from gentorch.nets import DenoisingMLP, UNet

    scheduler = DDPMScheduler(
        8, beta_start=0.1, beta_end=0.9, prediction_type="sample", clip_sample=True
    )
    gen = torch.Generator().manual_seed(0)
    for model, shape in [
        (UNet(image_size=28, channels=(8, 16)), (3, 1, 28, 28)),
        (DenoisingMLP(64, hidden=(16,), num_classes=10), (3, 1, 8, 8)),
    ]:
        x0 = torch.rand(shape, generator=gen) * 2 - 1
        loss = diffusion_loss(model, scheduler, x0, generator=gen)
        assert loss.shape == (3,) and torch.isfinite(loss).all()
        loss.mean().backward()
        out = sample(model, scheduler, shape, generator=gen)
        assert out.shape == shape and out.abs().max() <= 1 + 1e-6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_sampling_on_cuda_with_a_cpu_generator_matches_the_cpu():
    scheduler = DDPMScheduler(50, beta_schedule="cosine")
    oracle = GaussianOracle(scheduler, 0.5, 0.3)
    on_cpu = sample(
        oracle, scheduler, (100, 2), generator=torch.Generator().manual_seed(0)
    )
    oracle_cuda = GaussianOracle(scheduler, 0.5, 0.3).cuda()
    on_cuda = sample(
        oracle_cuda, scheduler, (100, 2), generator=torch.Generator().manual_seed(0)
    )
    assert on_cuda.device.type == "cuda"
    torch.testing.assert_close(on_cuda.cpu(), on_cpu, rtol=1e-6, atol=1e-6)


# --- DDIM -----------------------------------------------------------------------------


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("steps", [50, 10])
def test_ddim_step_matches_diffusers(prediction_type, eta, steps):
    diffusers = pytest.importorskip("diffusers")
    ours = DDIMScheduler(
        1000,
        beta_schedule="cosine",
        prediction_type=prediction_type,
        clip_sample=True,
        eta=eta,
    )
    theirs = diffusers.DDIMScheduler(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        prediction_type=prediction_type,
        clip_sample=True,
    )
    ours.set_timesteps(steps)
    theirs.set_timesteps(steps)
    assert torch.equal(ours.timesteps, theirs.timesteps)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(4, 1, 3, 3, generator=gen)
    output = torch.randn(4, 1, 3, 3, generator=gen)
    for timestep in ours.timesteps[[0, 1, steps // 2, -2]].tolist():
        mine = ours.step(
            output, timestep, x, generator=torch.Generator().manual_seed(4)
        )
        ref = theirs.step(
            output, timestep, x, eta=eta, generator=torch.Generator().manual_seed(4)
        )
        torch.testing.assert_close(mine.prev_sample, ref.prev_sample, atol=2e-5, rtol=0)
        torch.testing.assert_close(
            mine.pred_original_sample, ref.pred_original_sample, atol=2e-5, rtol=0
        )


def test_ddim_with_eta_zero_is_deterministic():
    scheduler = DDIMScheduler(100, beta_schedule="cosine")
    scheduler.set_timesteps(10)
    x = torch.randn(3, 2)
    out = torch.randn(3, 2)
    a = scheduler.step(out, 90, x, generator=torch.Generator().manual_seed(0))
    b = scheduler.step(out, 90, x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.prev_sample, b.prev_sample)


def test_ddim_with_eta_one_and_every_step_is_ddpm(gen):
    ddim = DDIMScheduler(200, beta_schedule="cosine", eta=1.0)
    ddpm = DDPMScheduler(200, beta_schedule="cosine")
    x = torch.randn(5, 3, generator=gen, dtype=F64)
    out = torch.randn(5, 3, generator=gen, dtype=F64)
    for t in (199, 150, 50, 1, 0):
        a = ddim.step(out, t, x, generator=torch.Generator().manual_seed(t))
        b = ddpm.step(out, t, x, generator=torch.Generator().manual_seed(t))
        torch.testing.assert_close(a.prev_sample, b.prev_sample, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
@pytest.mark.parametrize("steps", [None, 50])
def test_sampling_with_the_exact_denoiser_follows_the_exact_chain(gen, kind, steps):
    schedulers = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}
    scheduler = schedulers[kind](1000, beta_schedule="cosine")
    mu, s, n = 0.5, 0.3, 20_000
    oracle = GaussianOracle(scheduler, mu, s)
    x = sample(oracle, scheduler, (n, 2), num_inference_steps=steps, generator=gen)
    assert x.shape == (n, 2) and x.dtype == F64
    mean, std = _exact_chain(scheduler, mu, s, kind)
    assert (x.mean() - mean).abs() < 5 * std / math.sqrt(2 * n)
    assert (x.std() - std).abs() < 5 * std / math.sqrt(4 * n)
    if steps is None:
        # with every one of the 1000 steps, DDPM's samples and deterministic DDIM's
        # map of N(0, I) have the data's distribution
        tolerance = {"ddpm": 2e-3, "ddim": 3e-3}[kind]
        assert mean == pytest.approx(mu, abs=1e-3)
        assert std == pytest.approx(s, abs=tolerance)
    elif kind == "ddpm":
        # big jumps with the posterior's variance lose spread (Bao et al. 2022)
        assert std < s - 0.01


def test_bad_ddim_arguments():
    with pytest.raises(ValueError, match="eta"):
        DDIMScheduler(10, beta_start=0.1, beta_end=0.9, eta=-0.5)
    with pytest.raises(TypeError, match="eta"):
        DDIMScheduler(10, beta_start=0.1, beta_end=0.9, eta="1")


class _LabelModel(torch.nn.Module):
    """Outputs a constant per label (the null label: 0), to check the guidance sum."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, t, class_labels=None):
        if class_labels is None:
            return torch.zeros_like(x)
        return torch.ones_like(x) * (1 + class_labels.to(x.dtype))[:, None]


def test_classifier_free_guidance_combines_the_two_outputs():
    scheduler = DDIMScheduler(
        10, beta_start=0.1, beta_end=0.9, prediction_type="sample"
    )
    scheduler.set_timesteps(1)
    labels = torch.tensor([0, 2])
    # one deterministic step from x_T to x_0 = the (guided) predicted x_0
    out = {
        g: sample(
            _LabelModel(),
            scheduler,
            (2, 3),
            class_labels=labels,
            guidance_scale=g,
            generator=torch.Generator().manual_seed(0),
        )
        for g in (None, 1.0, 3.0)
    }
    torch.testing.assert_close(out[None], out[1.0])
    # u + g (c - u) with u = 0 and c = 1 + label
    torch.testing.assert_close(out[3.0][:, 0], torch.tensor([3.0, 9.0]))
    with pytest.raises(ValueError, match="needs class_labels"):
        sample(_LabelModel(), scheduler, (2, 3), guidance_scale=2.0)


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_from_epsilon_inverts_convert_model_output(gen, prediction_type):
    scheduler = DDPMScheduler(100, prediction_type=prediction_type)
    x = torch.randn(4, 3, generator=gen, dtype=F64)
    eps = torch.randn(4, 3, generator=gen, dtype=F64)
    t = torch.tensor([0, 10, 50, 99])
    output = scheduler._from_epsilon(eps, x, t)
    torch.testing.assert_close(
        scheduler.convert_model_output(output, x, t).pred_noise, eps
    )


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_inverse_step_undoes_the_ddim_step_given_the_same_noise_estimate(
    gen, prediction_type
):
    # one step each way with the same eps_hat: x_s -> x_t -> x_s exactly
    scheduler = DDIMScheduler(
        200, beta_schedule="cosine", prediction_type=prediction_type
    )
    scheduler.set_timesteps(20)
    for t in scheduler.timesteps.tolist():
        x_s = torch.randn(5, 2, generator=gen, dtype=F64)
        eps = torch.randn(5, 2, generator=gen, dtype=F64)
        up = scheduler.inverse_step(scheduler._from_epsilon(eps, x_s, t), t, x_s)
        x_t = up.prev_sample
        down = scheduler.step(scheduler._from_epsilon(eps, x_t, t), t, x_t)
        torch.testing.assert_close(down.prev_sample, x_s, rtol=1e-9, atol=1e-9)
        # both directions read the same estimate of x_0
        torch.testing.assert_close(down.pred_original_sample, up.pred_original_sample)


def test_invert_is_the_probability_flow_map_of_gaussian_data(gen):
    # for data N(mu, s^2) the exact deterministic map from data to noise is
    # x_T = (x_0 - mu) / s; DDIM with the exact denoiser follows it up to a
    # discretisation error that shrinks in proportion to the step
    scheduler = DDIMScheduler(1000, beta_schedule="cosine")
    mu, s = 0.5, 0.3
    oracle = GaussianOracle(scheduler, mu, s)
    x0 = mu + s * torch.randn(500, 2, generator=gen, dtype=F64)
    errors = {}
    for steps in (100, 1000):
        z = invert(oracle, scheduler, x0, num_inference_steps=steps)
        errors[steps] = (z - (x0 - mu) / s).abs().max().item()
    assert errors[1000] < 0.02
    assert errors[1000] < errors[100] / 5
    back = sample(oracle, scheduler, z.shape, noise=z)
    torch.testing.assert_close(back, x0, rtol=0, atol=1e-2)
    path = invert(oracle, scheduler, x0, num_inference_steps=10, return_trajectory=True)
    assert path.trajectory.shape == (11, 500, 2)
    torch.testing.assert_close(path.trajectory[0], x0)
    assert path.timesteps.tolist() == sorted(path.timesteps.tolist())


def test_bad_inversion_arguments():
    oracle = GaussianOracle(DDPMScheduler(10, beta_start=0.1, beta_end=0.9), 0.0, 1.0)
    x0 = torch.zeros(2, 2, dtype=F64)
    with pytest.raises(TypeError, match="DDIMScheduler"):
        invert(oracle, DDPMScheduler(10, beta_start=0.1, beta_end=0.9), x0)
    with pytest.raises(ValueError, match="eta == 0"):
        invert(oracle, DDIMScheduler(10, beta_start=0.1, beta_end=0.9, eta=1.0), x0)
    with pytest.raises(ValueError, match="noise"):
        sample(
            oracle,
            DDPMScheduler(10, beta_start=0.1, beta_end=0.9),
            (2, 2),
            noise=torch.zeros(3, 2, dtype=F64),
        )


class _LinearClassifier(torch.nn.Module):
    """logits = W x, whose log-softmax gradient is W_y - sum_k p_k W_k."""

    def __init__(self, weight):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)

    def forward(self, x, t):
        return x @ self.weight.T


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_classifier_guidance_moves_the_noise_estimate_along_the_gradient(
    gen, prediction_type
):
    scheduler = DDPMScheduler(
        100, beta_schedule="cosine", prediction_type=prediction_type
    )
    weight = torch.randn(3, 2, generator=gen, dtype=F64)
    model = GaussianOracle(scheduler, 0.2, 0.7)
    x = torch.randn(6, 2, generator=gen, dtype=F64)
    t = torch.tensor([0, 5, 30, 60, 90, 99])
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    guided = ClassifierGuided(model, _LinearClassifier(weight), scheduler, scale=2.5)
    with torch.no_grad():
        out = guided(x, t, y)
    probs = (x @ weight.T).softmax(-1)
    grad = weight[y] - probs @ weight
    a = scheduler.alphas_cumprod[t][:, None]
    # the model's output read as a noise estimate, moved along the gradient
    eps = scheduler.convert_model_output(model(x, t), x, t).pred_noise
    expected = eps - 2.5 * (1 - a).sqrt() * grad
    read = scheduler.convert_model_output(out, x, t).pred_noise
    torch.testing.assert_close(read, expected)
    torch.testing.assert_close(guided(x, t), model(x, t))
    with pytest.raises(ValueError, match="scale"):
        ClassifierGuided(model, _LinearClassifier(weight), scheduler, scale=-1.0)
    with pytest.raises(TypeError, match="classifier"):
        ClassifierGuided(model, lambda x, t: x, scheduler)
