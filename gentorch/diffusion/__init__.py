"""Gaussian diffusion: schedules, DDPM and DDIM schedulers, the loss, sampling,
inversion and guidance.

The forward process adds Gaussian noise in T small steps; a network learns to undo
them. Three modules, each name also ``gt.diffusion.<name>``:

* `gentorch.diffusion.schedulers`: `betas_for_schedule` (linear, cosine, sigmoid) and
  `DDPMScheduler` (the forward process ``add_noise``, the posterior, and Ho et al.'s
  ancestral ``step``), with diffusers' names.
* `gentorch.diffusion.ddim`: `DDIMScheduler`, Song et al.'s faster, optionally
  deterministic step on the same schedule, and its inverse.
* `gentorch.diffusion.sampling`: `diffusion_loss` (L_simple per example), `sample`
  (with classifier-free guidance), `invert` (DDIM inversion) and `ClassifierGuided`
  (classifier guidance).

**Timesteps are 0-indexed**: code timestep t is the paper's t + 1.
"""

from gentorch.diffusion.ddim import DDIMScheduler
from gentorch.diffusion.sampling import (
    ClassifierGuided,
    SampleTrajectory,
    diffusion_loss,
    invert,
    sample,
)
from gentorch.diffusion.schedulers import (
    DDPMScheduler,
    DDPMSchedulerOutput,
    Posterior,
    Prediction,
    betas_for_schedule,
)

__all__ = [
    "ClassifierGuided",
    "DDIMScheduler",
    "DDPMScheduler",
    "DDPMSchedulerOutput",
    "Posterior",
    "Prediction",
    "SampleTrajectory",
    "betas_for_schedule",
    "diffusion_loss",
    "invert",
    "sample",
]
