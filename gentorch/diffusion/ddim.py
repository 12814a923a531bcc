"""DDIM: Song et al.'s (2021) faster, optionally deterministic steps, and their inverse.

DDIM keeps DDPM's marginals q(x_t | x_0), so a network trained with
`diffusion_loss` for `DDPMScheduler` serves unchanged; only the step differs. With
``eta=0`` the step is deterministic, a discretised ODE from noise to data, and
`DDIMScheduler.inverse_step` runs it backwards, from data to noise ("DDIM
inversion"; `gentorch.diffusion.invert` walks it).
"""

from __future__ import annotations

import torch

from gentorch._checks import check_number
from gentorch.diffusion.schedulers import (
    BetaSchedule,
    DDPMScheduler,
    DDPMSchedulerOutput,
    PredictionType,
    TimestepSpacing,
    _one_timestep,
)

__all__ = ["DDIMScheduler"]


class DDIMScheduler(DDPMScheduler):
    """DDIM steps (Song et al. 2021, eq. 12) on the schedule of a `DDPMScheduler`.

    x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps_hat + sigma z, with
    sigma = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s): the same
    marginals q(x_t | x_0) as DDPM, so a model trained for DDPM serves unchanged.
    ``eta=0`` is deterministic; ``eta=1`` with every step is DDPM's ancestral step.
    Everything else (schedules, ``add_noise``, ``set_timesteps``, 0-indexed
    timesteps) is `DDPMScheduler`'s; ``step`` returns the same named tuple.

    Args:
        num_train_timesteps: as for `DDPMScheduler`; so are `beta_schedule`,
            `beta_start`, `beta_end`, `prediction_type`, `clip_sample` and
            `timestep_spacing`.
        eta: the share of DDPM's noise, >= 0 (0: deterministic).
    """

    def __init__(
        self,
        num_train_timesteps: int = 1000,
        *,
        beta_schedule: BetaSchedule = "linear",
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        prediction_type: PredictionType = "epsilon",
        clip_sample: bool = False,
        timestep_spacing: TimestepSpacing = "leading",
        eta: float = 0.0,
    ) -> None:
        self.eta = check_number("eta", eta, low=0.0)
        super().__init__(
            num_train_timesteps,
            beta_schedule=beta_schedule,
            beta_start=beta_start,
            beta_end=beta_end,
            prediction_type=prediction_type,
            clip_sample=clip_sample,
            timestep_spacing=timestep_spacing,
        )

    def step(
        self,
        model_output: torch.Tensor,
        timestep: torch.Tensor | int,
        sample: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> DDPMSchedulerOutput:
        """One DDIM step x_t -> x_s; noise is drawn only when eta > 0."""
        timestep, x0, eps, last = self._predict(model_output, timestep, sample)
        a_t = self._gather(self.alphas_cumprod, timestep, sample)
        a_s = self._alphas_cumprod_prev(timestep, sample)
        sigma = self.eta * ((1 - a_s) / (1 - a_t) * (1 - a_t / a_s)).sqrt()
        # 1. the estimate of x_0, 2. the direction pointing back to x_t
        prev = a_s.sqrt() * x0 + (1 - a_s - sigma**2).clamp(min=0).sqrt() * eps
        if self.eta > 0 and not last:
            # 3. fresh noise
            prev = prev + sigma * self._noise(sample, generator)
        return DDPMSchedulerOutput(prev, x0)

    def inverse_step(
        self,
        model_output: torch.Tensor,
        timestep: torch.Tensor | int,
        sample: torch.Tensor,
    ) -> DDPMSchedulerOutput:
        """The deterministic step backwards: x_s -> x_t = sqrt(abar_t) x0_hat +
        sqrt(1 - abar_t) eps_hat, with s = ``previous_timestep(timestep)``.

        DDIM inversion (Song et al. 2021, sec. 4.3; diffusers' `DDIMInverseScheduler`):
        `sample` is x_s (the clean data before the walk's last timestep), and
        `model_output` is the network's output at (x_s, t) -- the network is not
        evaluated at the x_t being computed, which is the approximation that makes
        the round trip inexact with few steps. eps_hat is read from `model_output`
        as at timestep t, and x0_hat = (x_s - sqrt(1 - abar_s) eps_hat) /
        sqrt(abar_s), unclipped. ``prev_sample`` of the result is x_t, the noisier
        sample. Needs ``eta == 0``.
        """
        if self.eta != 0:
            raise ValueError(
                f"inverse_step inverts the deterministic step and needs eta == 0; "
                f"this scheduler has eta={self.eta:g}"
            )
        timestep = _one_timestep(timestep, self.num_train_timesteps)
        _, eps = self.convert_model_output(model_output, sample, timestep)
        a_t = self._gather(self.alphas_cumprod, timestep, sample)
        a_s = self._alphas_cumprod_prev(timestep, sample)
        x0 = (sample - (1 - a_s).sqrt() * eps) / a_s.sqrt()
        return DDPMSchedulerOutput(a_t.sqrt() * x0 + (1 - a_t).sqrt() * eps, x0)

    def __repr__(self) -> str:
        return (
            f"DDIMScheduler(num_train_timesteps={self.num_train_timesteps}, "
            f"beta_schedule={self.beta_schedule!r}, prediction_type="
            f"{self.prediction_type!r}, eta={self.eta:g}, "
            f"num_inference_steps={self.num_inference_steps})"
        )
