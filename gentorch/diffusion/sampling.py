"""Training and sampling with a diffusion scheduler: the loss, the sampling loop,
DDIM inversion, and the two kinds of guidance.

Every function takes the network as an argument and walks ``scheduler.timesteps``
in plain sight: `diffusion_loss` (L_simple per example), `sample` (ancestral or
DDIM sampling, with classifier-free guidance), `invert` (DDIM's deterministic map
from data back to noise), and `ClassifierGuided`, a denoiser whose output is pushed
along the gradient of a noise-aware classifier (classifier guidance).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from gentorch._checks import check_bool, check_number, check_tensor
from gentorch.diffusion.ddim import DDIMScheduler
from gentorch.diffusion.schedulers import DDPMScheduler
from gentorch.utils import call_model, eval_mode, rand, randn

__all__ = [
    "ClassifierGuided",
    "SampleTrajectory",
    "diffusion_loss",
    "invert",
    "sample",
]


class SampleTrajectory(NamedTuple):
    """What `sample` returns with ``return_trajectory=True``.

    * ``sample``: the final x_0, (B, ...).
    * ``trajectory``: x_T, then x after each step, (steps + 1, B, ...).
    * ``pred_original_samples``: the estimate of x_0 at each step, (steps, B, ...).
    * ``timesteps``: the timestep of each step, (steps,), int64.
    """

    sample: torch.Tensor
    trajectory: torch.Tensor
    pred_original_samples: torch.Tensor
    timesteps: torch.Tensor


Model = Callable[..., torch.Tensor]


def diffusion_loss(
    model: Model,
    scheduler: DDPMScheduler,
    x0: torch.Tensor,
    *,
    class_labels: torch.Tensor | None = None,
    timesteps: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """L_simple = ||eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t)||^2.

    Ho et al. (2020, eq. 14) with t ~ Uniform{0, ..., T-1} and eps ~ N(0, I); the
    target is x_0 or v instead of eps for those prediction types. It is the ELBO's
    sum of KL terms with their weights dropped, so it is a squared error, summed
    over data dimensions, not a number of nats.

    Args:
        model: ``model(x_t, t)`` (or ``model(x_t, t, class_labels)``) -> x_t's shape.
        scheduler: gives the schedule and the prediction type.
        x0: clean data, (B, ...).
        class_labels: passed to the model when given, (B,) int64.
        timesteps: one per example, (B,) int64; drawn uniformly when None.
        noise: eps, x0's shape; drawn when None.
        generator: source of the timesteps and noise that are drawn.

    Returns:
        The loss per example, shape (B,).
    """
    check_tensor("x0", x0, floating=True)
    if x0.ndim < 1 or x0.shape[0] == 0:
        raise ValueError(
            f"x0 must have shape (B, ...) with B >= 1; got {tuple(x0.shape)}"
        )
    batch = x0.shape[0]
    if timesteps is None:
        u = rand((batch,), generator=generator, device=x0.device, dtype=torch.float64)
        timesteps = (u * scheduler.num_train_timesteps).long()
    if noise is None:
        noise = randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    xt = scheduler.add_noise(x0, noise, timesteps)
    output = call_model(model, xt, timesteps.to(x0.device), class_labels)
    if scheduler.prediction_type == "epsilon":
        target = noise
    elif scheduler.prediction_type == "sample":
        target = x0
    else:
        target = scheduler.get_velocity(x0, noise, timesteps)
    check_tensor("model output", output, shape=x0.shape, floating=True)
    return (output - target).pow(2).flatten(1).sum(1)


def _model_output(model, x, t, class_labels, guidance_scale) -> torch.Tensor:
    """The network's output at (x, t) for every example, classifier-free guided
    (u + guidance_scale (c - u)) when `guidance_scale` is not None."""
    t_batch = torch.full((x.shape[0],), int(t), device=x.device)
    output = call_model(model, x, t_batch, class_labels)
    if guidance_scale is None:
        return output
    unconditional = call_model(model, x, t_batch, None)
    return unconditional + guidance_scale * (output - unconditional)


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")


def _walk(
    model, x, timesteps, step, *, class_labels, guidance_scale, return_trajectory
) -> torch.Tensor | SampleTrajectory:
    """x <- step(model output at (x, t), t, x) for t in timesteps, in eval mode;
    `step` returns (new x, estimate of x_0). What `sample` and `invert` share."""
    xs, x0s = [x], []
    with eval_mode(model):
        for t in timesteps:
            output = _model_output(model, x, t, class_labels, guidance_scale)
            x, x0 = step(output, t, x)
            if return_trajectory:
                xs.append(x)
                x0s.append(x0)
    if not return_trajectory:
        return x
    return SampleTrajectory(x, torch.stack(xs), torch.stack(x0s), timesteps)


@torch.no_grad()
def sample(
    model: nn.Module,
    scheduler: DDPMScheduler,
    shape: tuple[int, ...],
    *,
    class_labels: torch.Tensor | None = None,
    guidance_scale: float | None = None,
    num_inference_steps: int | None = None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
) -> torch.Tensor | SampleTrajectory:
    """x_T ~ N(0, I), then x <- scheduler.step(model(x, t), t, x) for t in timesteps.

    Ho et al.'s Algorithm 2 with any scheduler that has ``timesteps`` and ``step``
    (`DDPMScheduler`, `DDIMScheduler`). The model runs in eval mode without
    gradients; the noise is drawn on the generator's device and lives on the
    model's device, in its dtype.

    Args:
        model: the trained network, an `nn.Module` called as in `diffusion_loss`.
        scheduler: its ``timesteps`` are walked (set with `num_inference_steps`).
        shape: (B, ...), the shape of the samples.
        class_labels: (B,) int64 labels for a conditional model.
        guidance_scale: classifier-free guidance (Ho & Salimans 2022) with
            diffusers' convention: the output is u + guidance_scale (c - u), c
            the output given `class_labels` and u without them (the model's null
            label), so guidance_scale = 1 + w for the paper's weight w; 1 is plain
            conditional sampling. None (default): no guidance, one call per step.
        num_inference_steps: call ``scheduler.set_timesteps`` first when given.
        noise: x_T, `shape`, on the model's device (e.g. from `invert`); drawn
            from N(0, I) when None.
        generator: source of x_T (when drawn) and of every step's noise.
        return_trajectory: also return every intermediate x and estimate of x_0.

    Returns:
        The samples (B, ...), or a `SampleTrajectory` with ``return_trajectory``.
    """
    _check_model(model)
    check_bool("return_trajectory", return_trajectory)
    if guidance_scale is not None:
        guidance_scale = check_number("guidance_scale", guidance_scale)
        if class_labels is None:
            raise ValueError("guidance_scale needs class_labels to guide towards")
    if num_inference_steps is not None:
        scheduler.set_timesteps(num_inference_steps)
    parameter = next(model.parameters())
    if noise is None:
        x = randn(
            shape, generator=generator, device=parameter.device, dtype=parameter.dtype
        )
    else:
        x = check_tensor("noise", noise, shape=tuple(shape), floating=True)
    return _walk(
        model,
        x,
        scheduler.timesteps.clone(),
        lambda output, t, x: scheduler.step(output, t, x, generator=generator),
        class_labels=class_labels,
        guidance_scale=guidance_scale,
        return_trajectory=return_trajectory,
    )


@torch.no_grad()
def invert(
    model: nn.Module,
    scheduler: DDIMScheduler,
    x0: torch.Tensor,
    *,
    class_labels: torch.Tensor | None = None,
    num_inference_steps: int | None = None,
    return_trajectory: bool = False,
) -> torch.Tensor | SampleTrajectory:
    """DDIM inversion: x <- scheduler.inverse_step(model(x, t), t, x) for t in
    reversed(timesteps), from data x_0 to the noise x_T that DDIM (eta = 0) maps back
    to it.

    The mirror of `sample` (Song et al. 2021, sec. 4.3): with enough steps,
    ``sample`` started from the returned x_T, with the same scheduler, steps and
    labels, gives x_0 back up to the discretisation error.

    Args:
        model: the trained network, as for `sample`.
        scheduler: a `DDIMScheduler` with ``eta=0``; its ``timesteps`` are walked
            backwards (set with `num_inference_steps`).
        x0: the data to encode, (B, ...) in the model's dtype and on its device.
        class_labels: (B,) int64 labels for a conditional model.
        num_inference_steps: call ``scheduler.set_timesteps`` first when given.
        return_trajectory: also return every intermediate x and estimate of x_0.

    Returns:
        x_T (B, ...), or a `SampleTrajectory` whose ``sample`` is x_T, whose
        ``trajectory`` runs from x_0 to x_T and whose ``timesteps`` are ascending.
    """
    _check_model(model)
    if not isinstance(scheduler, DDIMScheduler):
        raise TypeError(
            "scheduler must be a DDIMScheduler (DDPM's step adds noise and has no "
            f"inverse); got {type(scheduler).__name__}"
        )
    check_tensor("x0", x0, floating=True)
    check_bool("return_trajectory", return_trajectory)
    if num_inference_steps is not None:
        scheduler.set_timesteps(num_inference_steps)
    return _walk(
        model,
        x0,
        scheduler.timesteps.flip(0),
        scheduler.inverse_step,
        class_labels=class_labels,
        guidance_scale=None,
        return_trajectory=return_trajectory,
    )


class ClassifierGuided(nn.Module):
    """eps_hat(x_t, t) - scale sqrt(1 - abar_t) grad_x log p_phi(y | x_t, t), as a
    denoiser (classifier guidance; Dhariwal & Nichol 2021, Algorithm 2).

    Wraps a denoiser and a noise-aware classifier ``classifier(x_t, t) -> logits``
    trained on noisy data: called with class labels y, it returns the denoiser's
    output with its noise estimate moved along the classifier's gradient towards
    class y, converted back to the scheduler's prediction type; called without
    labels, the denoiser's output unchanged. The denoiser itself is called without
    labels (a conditional one then uses its null label), so `sample` with
    ``class_labels`` draws class-y samples from an unconditional model. The
    gradient is computed with autograd even under `torch.no_grad`.

    Args:
        model: the denoiser, ``model(x_t, t)`` -> x_t's shape.
        classifier: ``classifier(x_t, t)`` -> logits (B, classes).
        scheduler: gives the schedule and the prediction type.
        scale: the guidance scale s >= 0 (0: no guidance).
    """

    def __init__(
        self,
        model: nn.Module,
        classifier: nn.Module,
        scheduler: DDPMScheduler,
        *,
        scale: float = 1.0,
    ) -> None:
        super().__init__()
        _check_model(model)
        if not isinstance(classifier, nn.Module):
            raise TypeError(
                f"classifier must be a torch.nn.Module; got {type(classifier).__name__}"
            )
        self.model = model
        self.classifier = classifier
        self.scheduler = scheduler
        self.scale = check_number("scale", scale, low=0.0)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        class_labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        output = self.model(x, t)
        if class_labels is None or self.scale == 0:
            return output
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            log_probs = self.classifier(x_in, t).log_softmax(-1)  # (B, classes)
            chosen = log_probs.gather(1, class_labels[:, None]).sum()
            grad = torch.autograd.grad(chosen, x_in)[0]
        _, eps = self.scheduler.convert_model_output(output, x, t)
        a = self.scheduler._gather(self.scheduler.alphas_cumprod, t, x)
        eps = eps - self.scale * (1 - a).sqrt() * grad
        return self.scheduler._from_epsilon(eps, x, t)
