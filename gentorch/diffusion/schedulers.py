"""Noise schedules and the DDPM scheduler: the forward process and the ancestral step.

The forward process adds Gaussian noise in T small steps,
q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I), so that
q(x_t | x_0) = N(sqrt(alphabar_t) x_0, (1 - alphabar_t) I) with
alphabar_t = prod_{s <= t} (1 - beta_s) (Ho et al. 2020, eq. 2 and 4). The names and
argument order follow the `diffusers` library: `DDPMScheduler` (``betas``,
``alphas_cumprod``, ``add_noise``, ``set_timesteps``, ``timesteps``, ``step``); Ho et
al.'s code calls ``add_noise`` ``q_sample`` and ``step`` ``p_sample``.

**Timesteps are 0-indexed**: code timestep t is the paper's t + 1, so ``betas[0]`` is
the paper's beta_1 and ``alphas_cumprod[T - 1]`` its alphabar_T.

Schedules are computed in float64 and cast to the data's dtype and device at use.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, NamedTuple, get_args

import torch

from gentorch._checks import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_tensor,
)
from gentorch.utils import expand_like, randn

__all__ = [
    "BetaSchedule",
    "DDPMScheduler",
    "DDPMSchedulerOutput",
    "Posterior",
    "Prediction",
    "PredictionType",
    "TimestepSpacing",
    "betas_for_schedule",
]

BetaSchedule = Literal["linear", "cosine", "sigmoid"]
PredictionType = Literal["epsilon", "sample", "v_prediction"]
VarianceType = Literal["fixed_small", "fixed_large"]
TimestepSpacing = Literal["leading", "trailing"]

#: gentorch warns when more of the signal than this is left at the last timestep
MAX_FINAL_ALPHA_CUMPROD = 1e-3


def betas_for_schedule(
    name: BetaSchedule,
    num_train_timesteps: int,
    *,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
) -> torch.Tensor:
    """beta_1 .. beta_T of a named schedule, float64 on the CPU.

    * ``"linear"``: beta_t evenly spaced from `beta_start` to `beta_end` (Ho et al.
      2020 use 1e-4 to 0.02 with T = 1000).
    * ``"cosine"``: alphabar(t) = f(t) / f(0), f(t) = cos^2((t/T + s) / (1 + s) pi/2),
      s = 0.008, and beta_t = min(1 - alphabar(t) / alphabar(t - 1), 0.999) (Nichol &
      Dhariwal 2021, eq. 17; diffusers' ``"squaredcos_cap_v2"``). It ignores
      `beta_start` and `beta_end`.
    * ``"sigmoid"``: beta_t = beta_start + (beta_end - beta_start) sigmoid(u_t), u_t
      evenly spaced from -6 to 6 (diffusers' ``"sigmoid"``, from GeoDiff, Xu et al.
      2022).

    Args:
        name: the schedule.
        num_train_timesteps: T >= 1.
        beta_start, beta_end: the first and last beta of "linear" and "sigmoid", in
            (0, 1) with beta_start <= beta_end.

    Returns:
        The betas, shape (T,), float64; code index t holds the paper's beta_{t+1}.
    """
    check_choice("beta_schedule", name, get_args(BetaSchedule))
    steps = check_int("num_train_timesteps", num_train_timesteps, minimum=1)
    beta_start = check_number(
        "beta_start", beta_start, low=0, high=1, low_open=True, high_open=True
    )
    beta_end = check_number(
        "beta_end", beta_end, low=0, high=1, low_open=True, high_open=True
    )
    if beta_start > beta_end:
        raise ValueError(
            f"beta_start must be <= beta_end; got beta_start={beta_start}, "
            f"beta_end={beta_end}"
        )
    f64 = torch.float64
    if name == "linear":
        return torch.linspace(beta_start, beta_end, steps, dtype=f64)
    if name == "sigmoid":
        u = torch.linspace(-6, 6, steps, dtype=f64)
        return beta_start + (beta_end - beta_start) * torch.sigmoid(u)
    s = 0.008
    t = torch.arange(steps + 1, dtype=f64) / steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    # alphabar(t) / alphabar(t - 1) = f(t) / f(t - 1); the f(0) cancels
    return (1 - f[1:] / f[:-1]).clamp(max=0.999)


class DDPMSchedulerOutput(NamedTuple):
    """What `DDPMScheduler.step` returns: x_{t-1} and the model's estimate of x_0."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


class Posterior(NamedTuple):
    """q(x_{t-1} | x_t, x_0) = N(mean, variance I); variance broadcasts against mean."""

    mean: torch.Tensor
    variance: torch.Tensor


class Prediction(NamedTuple):
    """A model output read as both an estimate of x_0 and of the noise epsilon."""

    pred_original_sample: torch.Tensor
    pred_noise: torch.Tensor


def _as_timesteps(name: str, timesteps, steps: int) -> torch.Tensor:
    """An int64 tensor of timesteps in 0..steps-1 (Python ints become 0-d)."""
    if isinstance(timesteps, int) and not isinstance(timesteps, bool):
        timesteps = torch.tensor(timesteps)
    check_tensor(name, timesteps)
    if (
        timesteps.is_floating_point()
        or timesteps.is_complex()
        or timesteps.dtype == torch.bool
    ):
        raise TypeError(f"{name} must hold integers; got dtype {timesteps.dtype}")
    if timesteps.numel() and (timesteps.min() < 0 or timesteps.max() >= steps):
        raise ValueError(
            f"{name} must lie in 0..{steps - 1} (0-indexed: code t = paper t - 1); "
            f"got values from {timesteps.min().item()} to {timesteps.max().item()}"
        )
    return timesteps.long()


def _one_timestep(timestep, steps: int) -> torch.Tensor:
    """A step's timestep: checked, 0-d int64."""
    timestep = _as_timesteps("timestep", timestep, steps)
    if timestep.ndim:
        raise ValueError(
            f"timestep must be one timestep (0-d); got {tuple(timestep.shape)}"
        )
    return timestep


def _like(picked: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Schedule values picked per example (or one, 0-d) in x's dtype and device,
    shaped to broadcast against x."""
    picked = picked.to(x.dtype).to(x.device)
    return picked if picked.ndim == 0 else expand_like(picked, x)


class DDPMScheduler:
    """The DDPM forward process and ancestral sampling step (Ho et al. 2020).

    Timesteps are 0-indexed: code timestep t is the paper's t + 1. Every schedule
    tensor is float64 on the CPU, shape (T,): ``betas`` (beta_t), ``alphas``
    (alpha_t = 1 - beta_t), ``alphas_cumprod`` (alphabar_t), ``log_snr``
    (log(alphabar_t / (1 - alphabar_t))). A `UserWarning` flags a schedule that
    leaves alphabar_T > 1e-3, whose x_T is not close to N(0, I).

    Args:
        num_train_timesteps: T, the number of noising steps.
        beta_schedule: "linear", "cosine" or "sigmoid" (see `betas_for_schedule`).
        beta_start, beta_end: the ends of the linear and sigmoid schedules.
        prediction_type: what the network predicts: "epsilon" (the noise, Ho et
            al.), "sample" (x_0) or "v_prediction" (v = sqrt(alphabar) eps -
            sqrt(1 - alphabar) x_0, Salimans & Ho 2022).
        variance_type: the reverse step's variance, "fixed_small" (the posterior's
            betatilde_t) or "fixed_large" (beta_t); Ho et al. found both work.
        clip_sample: clamp the estimate of x_0 to [-1, 1] in `step` (for images in
            the model range; diffusers' default is True, gentorch's False, since
            2-D toy data leaves [-1, 1]).
        timestep_spacing: how `set_timesteps` picks fewer steps: "leading"
            (0, k, 2k, ... with k = T // n; diffusers' default) or "trailing" (T-1,
            T-1-k, ..., ending at the last timestep).
    """

    def __init__(
        self,
        num_train_timesteps: int = 1000,
        *,
        beta_schedule: BetaSchedule = "linear",
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        prediction_type: PredictionType = "epsilon",
        variance_type: VarianceType = "fixed_small",
        clip_sample: bool = False,
        timestep_spacing: TimestepSpacing = "leading",
    ) -> None:
        self.betas = betas_for_schedule(
            beta_schedule, num_train_timesteps, beta_start=beta_start, beta_end=beta_end
        )
        self.num_train_timesteps = num_train_timesteps
        self.beta_schedule = beta_schedule
        self.prediction_type = check_choice(
            "prediction_type", prediction_type, get_args(PredictionType)
        )
        self.variance_type = check_choice(
            "variance_type", variance_type, get_args(VarianceType)
        )
        self.clip_sample = check_bool("clip_sample", clip_sample)
        self.timestep_spacing = check_choice(
            "timestep_spacing", timestep_spacing, get_args(TimestepSpacing)
        )
        self.alphas = 1 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.log_snr = torch.log(self.alphas_cumprod) - torch.log1p(
            -self.alphas_cumprod
        )
        final = self.alphas_cumprod[-1].item()
        if final > MAX_FINAL_ALPHA_CUMPROD:
            warnings.warn(
                f"alphas_cumprod[-1] = {final:.3g} > {MAX_FINAL_ALPHA_CUMPROD:g}: x_T "
                f"keeps {math.sqrt(final):.2g} of the signal's scale, so sampling from "
                "N(0, I) starts from the wrong distribution. Use more timesteps, scale "
                f"beta_start and beta_end by 1000 / T, or the cosine schedule.",
                UserWarning,
                stacklevel=2,
            )
        self.set_timesteps(num_train_timesteps)

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Choose the timesteps `step` walks through, largest first (``.timesteps``).

        With n = T every timestep is visited; with fewer, the spacing picks a subset
        and `step` jumps between them with the exact q(x_s | x_t, x_0) (the
        "respacing" of Nichol & Dhariwal 2021, sec. 4).
        """
        T = self.num_train_timesteps
        n = check_int("num_inference_steps", num_inference_steps, minimum=1, maximum=T)
        if self.timestep_spacing == "leading":
            timesteps = torch.arange(n) * (T // n)
        else:
            timesteps = (T - torch.arange(n) * (T / n)).round().long() - 1
            timesteps = timesteps.flip(0)
        self.num_inference_steps = n
        self.timesteps = timesteps.flip(0).long()
        # prev[t] = the timestep after t in the walk, -1 after the last, -2 if t is
        # not visited
        self._prev = torch.full((T,), -2, dtype=torch.long)
        self._prev[self.timesteps] = torch.cat([self.timesteps[1:], torch.tensor([-1])])

    def previous_timestep(self, timestep: torch.Tensor | int) -> torch.Tensor:
        """The timestep that `step` goes to from `timestep` (-1 after the last)."""
        timestep = _as_timesteps("timestep", timestep, self.num_train_timesteps)
        prev = self._prev[timestep.cpu()]
        if (prev == -2).any():
            raise ValueError(
                f"timestep must be one of scheduler.timesteps (set by set_timesteps); "
                f"got {timestep.tolist()}"
            )
        return prev

    def _gather(self, values: torch.Tensor, timesteps, x: torch.Tensor) -> torch.Tensor:
        """values[t] in x's dtype and device, shaped to broadcast against x."""
        t = _as_timesteps("timesteps", timesteps, self.num_train_timesteps)
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != x.shape[0]):
            raise ValueError(
                f"timesteps must be 0-d or have shape ({x.shape[0]},) (one per "
                f"example); got {tuple(t.shape)}"
            )
        return _like(values[t.cpu()], x)

    def _alphas_cumprod_prev(self, timesteps, x: torch.Tensor) -> torch.Tensor:
        """alphabar at the step's target timestep, 1 after the last (alphabar_0 = 1)."""
        prev = self.previous_timestep(timesteps)
        with_one = torch.cat([self.alphas_cumprod, torch.ones(1, dtype=torch.float64)])
        # index -1 reads the appended 1
        return _like(with_one[prev], x)

    def add_noise(
        self, original_samples: torch.Tensor, noise: torch.Tensor, timesteps
    ) -> torch.Tensor:
        """x_t = sqrt(alphabar_t) x_0 + sqrt(1 - alphabar_t) eps (Ho et al. eq. 4).

        Ho et al.'s ``q_sample``. `original_samples` = x_0, `noise` = eps; `timesteps`
        is one int64 per example (B,), or 0-d.
        """
        check_tensor("original_samples", original_samples, floating=True)
        check_tensor("noise", noise, shape=original_samples.shape, floating=True)
        a = self._gather(self.alphas_cumprod, timesteps, original_samples)
        return a.sqrt() * original_samples + (1 - a).sqrt() * noise

    def get_velocity(
        self, sample: torch.Tensor, noise: torch.Tensor, timesteps
    ) -> torch.Tensor:
        """v = sqrt(alphabar_t) eps - sqrt(1 - alphabar_t) x_0 (Salimans & Ho 2022).

        `sample` is x_0 here, as in diffusers.
        """
        check_tensor("sample", sample, floating=True)
        check_tensor("noise", noise, shape=sample.shape, floating=True)
        a = self._gather(self.alphas_cumprod, timesteps, sample)
        return a.sqrt() * noise - (1 - a).sqrt() * sample

    def convert_model_output(
        self, model_output: torch.Tensor, sample: torch.Tensor, timesteps
    ) -> Prediction:
        """Read a model output at x_t (`sample`) as estimates of both x_0 and eps.

        From x_t = sqrt(a) x_0 + sqrt(1 - a) eps, a = alphabar_t:
        x_0 = (x_t - sqrt(1 - a) eps) / sqrt(a), and with v,
        x_0 = sqrt(a) x_t - sqrt(1 - a) v, eps = sqrt(1 - a) x_t + sqrt(a) v.
        """
        check_tensor("sample", sample, floating=True)
        check_tensor("model_output", model_output, shape=sample.shape, floating=True)
        a = self._gather(self.alphas_cumprod, timesteps, sample)
        if self.prediction_type == "epsilon":
            eps = model_output
            x0 = (sample - (1 - a).sqrt() * eps) / a.sqrt()
        elif self.prediction_type == "sample":
            x0 = model_output
            eps = (sample - a.sqrt() * x0) / (1 - a).sqrt()
        else:
            x0 = a.sqrt() * sample - (1 - a).sqrt() * model_output
            eps = (1 - a).sqrt() * sample + a.sqrt() * model_output
        return Prediction(x0, eps)

    def _from_epsilon(
        self, eps: torch.Tensor, sample: torch.Tensor, timesteps
    ) -> torch.Tensor:
        """The model output of this prediction type that `convert_model_output`
        reads as `eps` at x_t = `sample` (its inverse in eps)."""
        a = self._gather(self.alphas_cumprod, timesteps, sample)
        if self.prediction_type == "epsilon":
            return eps
        if self.prediction_type == "sample":
            return (sample - (1 - a).sqrt() * eps) / a.sqrt()
        return (eps - (1 - a).sqrt() * sample) / a.sqrt()

    def posterior(
        self, original_sample: torch.Tensor, sample: torch.Tensor, timesteps
    ) -> Posterior:
        """q(x_s | x_t, x_0) with s the step's target (s = t - 1 with every step).

        Ho et al. eq. 6-7: mean = c0 x_0 + ct x_t and variance
        (1 - abar_s) / (1 - abar_t) beta'_t, with
        c0 = sqrt(abar_s) beta'_t / (1 - abar_t),
        ct = sqrt(alpha'_t) (1 - abar_s) / (1 - abar_t),
        alpha'_t = abar_t / abar_s and beta'_t = 1 - alpha'_t (beta_t itself when
        s = t - 1); abar_s = 1 after the last step.
        """
        check_tensor("sample", sample, floating=True)
        check_tensor(
            "original_sample", original_sample, shape=sample.shape, floating=True
        )
        a_t = self._gather(self.alphas_cumprod, timesteps, sample)
        a_s = self._alphas_cumprod_prev(timesteps, sample)
        alpha = a_t / a_s
        beta = 1 - alpha
        mean = (
            a_s.sqrt() * beta * original_sample + alpha.sqrt() * (1 - a_s) * sample
        ) / (1 - a_t)
        return Posterior(mean, (1 - a_s) / (1 - a_t) * beta)

    def _predict(
        self, model_output: torch.Tensor, timestep, sample: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """What every step starts from: the checked 0-d timestep, the model's x_0
        (clamped with ``clip_sample``) and eps estimates, and whether it is the last
        step of the walk."""
        timestep = _one_timestep(timestep, self.num_train_timesteps)
        x0, eps = self.convert_model_output(model_output, sample, timestep)
        if self.clip_sample:
            x0 = x0.clamp(-1, 1)
        last = self.previous_timestep(timestep).item() < 0
        return timestep, x0, eps, last

    def _noise(self, sample: torch.Tensor, generator) -> torch.Tensor:
        return randn(
            sample.shape, generator=generator, device=sample.device, dtype=sample.dtype
        )

    def step(
        self,
        model_output: torch.Tensor,
        timestep: torch.Tensor | int,
        sample: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> DDPMSchedulerOutput:
        """One ancestral step x_t -> x_s ~ N(mu(x_t, x0_hat), sigma^2 I) (Algorithm 2).

        Ho et al.'s ``p_sample``: estimate x_0 from the model output (clamped to
        [-1, 1] with ``clip_sample``), take the posterior mean given that estimate,
        and add noise with variance betatilde_t ("fixed_small") or beta'_t
        ("fixed_large"), except at the last step, which returns the mean.

        Args:
            model_output: the network's output at (x_t, t), x_t's shape.
            timestep: t, one of ``scheduler.timesteps`` (an int or a 0-d tensor).
            sample: x_t, shape (B, ...).
            generator: source of the added noise.
        """
        timestep, x0, _, last = self._predict(model_output, timestep, sample)
        mean, variance = self.posterior(x0, sample, timestep)
        if last:
            return DDPMSchedulerOutput(mean, x0)
        if self.variance_type == "fixed_large":
            a_t = self._gather(self.alphas_cumprod, timestep, sample)
            variance = 1 - a_t / self._alphas_cumprod_prev(timestep, sample)
        return DDPMSchedulerOutput(
            mean + variance.sqrt() * self._noise(sample, generator), x0
        )

    def __repr__(self) -> str:
        return (
            f"DDPMScheduler(num_train_timesteps={self.num_train_timesteps}, "
            f"beta_schedule={self.beta_schedule!r}, prediction_type="
            f"{self.prediction_type!r}, variance_type={self.variance_type!r}, "
            f"num_inference_steps={self.num_inference_steps})"
        )
