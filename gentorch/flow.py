"""Flow matching: a straight path between data and noise, the velocity a network
learns along it, minibatch optimal-transport pairs, and ODE samplers.

The book's convention is the diffusion chapters' (and diffusers'
`FlowMatchEulerDiscreteScheduler`, as in Stable Diffusion 3): t = 0 is data and
t = 1 is noise,

    x_t = (1 - t) x0 + t eps,        u = dx_t/dt = eps - x0.

Lipman et al. (2023) and Liu et al. (2022) put data at t = 1: their time is 1 - t here
and their velocity is minus this one. Sampling solves dx/dt = v(x, t) from t = 1 down
to t = 0. The network is told ``TIME_SCALE * t``, on the scale of diffusion timesteps
(0 to 1000), so the book's denoisers (`gt.nets.DenoisingMLP`) serve unchanged.

Every process takes the network as an argument: `flow_matching_loss` (the conditional
flow-matching loss per example), `sample` (Euler or Heun steps, counting network
evaluations). `minibatch_ot` re-pairs noise with data (Tong et al. 2023), and the
conversions map velocities to and from x0 and eps estimates and DDPM's
variance-preserving path onto this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import torch

from gentorch._checks import check_bool, check_choice, check_int, check_tensor
from gentorch.utils import call_model, eval_mode, expand_like, rand, randn

__all__ = [
    "TIME_SCALE",
    "FlowSample",
    "flow_matching_loss",
    "interpolate",
    "minibatch_ot",
    "noise_from_velocity",
    "straightness",
    "sample",
    "target_velocity",
    "velocity_from_x0",
    "vp_to_flow",
    "x0_from_velocity",
]

#: The network sees TIME_SCALE * t: t in [0, 1] becomes a diffusion-like step.
TIME_SCALE = 1000.0

Model = Callable[..., torch.Tensor]


def _times(name: str, t: torch.Tensor, batch: int) -> torch.Tensor:
    check_tensor(name, t, shape=(batch,), floating=True)
    if (t < 0).any() or (t > 1).any():
        raise ValueError(f"{name} must lie in [0, 1] (0 = data, 1 = noise)")
    return t


def _pair(x0: torch.Tensor, noise: torch.Tensor) -> None:
    check_tensor("x0", x0, floating=True)
    check_tensor("noise", noise, shape=tuple(x0.shape), floating=True)
    if x0.ndim < 1 or len(x0) == 0:
        raise ValueError(f"x0 must have shape (B, ...) with B >= 1; got {x0.shape}")


def interpolate(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 - t) x0 + t eps: the straight path (rectified flow, Liu et al. 2022).

    Shapes: x0, noise (B, ...); t (B,) in [0, 1]; returns (B, ...).
    """
    _pair(x0, noise)
    t = expand_like(_times("t", t, len(x0)), x0)
    return (1 - t) * x0 + t * noise


def target_velocity(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """u = dx_t/dt = eps - x0, the velocity of the straight path (the regression
    target of conditional flow matching, Lipman et al. 2023, eq. 23 with sigma_min
    = 0, time reversed)."""
    _pair(x0, noise)
    return noise - x0


def flow_matching_loss(
    model: Model,
    x0: torch.Tensor,
    *,
    noise: torch.Tensor | None = None,
    t: torch.Tensor | None = None,
    class_labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """||v_theta(x_t, t) - (eps - x0)||^2 per example, summed over data dimensions.

    The conditional flow-matching loss (Lipman et al. 2023, eq. 9): t ~ U(0, 1) and
    eps ~ N(0, I) unless given (pass `noise` re-paired by `minibatch_ot` for OT-CFM).
    The model is called as ``model(x_t, TIME_SCALE * t)`` (with ``class_labels`` as a
    third argument when given).

    Returns:
        (B,) losses; their mean is the training objective.
    """
    check_tensor("x0", x0, floating=True)
    kw = {"generator": generator, "device": x0.device, "dtype": x0.dtype}
    noise = randn(tuple(x0.shape), **kw) if noise is None else noise
    t = rand((len(x0),), **kw) if t is None else t
    x_t = interpolate(x0, noise, t)
    prediction = call_model(model, x_t, TIME_SCALE * t, class_labels)
    error = prediction - target_velocity(x0, noise)
    return error.pow(2).flatten(1).sum(1)


def minibatch_ot(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The noise re-ordered so that pair i is (x0[i], noise[perm[i]]) with the least
    total squared distance: the exact optimal assignment within the batch
    (OT-CFM, Tong et al. 2023, sec. 3.2), solved with SciPy's Hungarian method.

    Shapes: x0, noise (B, ...); returns noise's rows permuted, (B, ...).
    """
    _pair(x0, noise)
    from scipy.optimize import linear_sum_assignment  # scikit-learn's dependency

    cost = torch.cdist(x0.flatten(1).double(), noise.flatten(1).double()).pow(2)
    rows, cols = linear_sum_assignment(cost.cpu().numpy())
    perm = torch.as_tensor(cols[rows.argsort()], device=noise.device)
    return noise[perm]


class FlowSample(NamedTuple):
    """What `sample` returns: the samples (B, ...), the number of network
    evaluations per sample, and, when asked for, the states at each time
    ((steps + 1, B, ...), from t = 1 to t = 0; else None)."""

    sample: torch.Tensor
    nfe: int
    trajectory: torch.Tensor | None


def sample(
    model: Model,
    noise: torch.Tensor,
    *,
    num_steps: int,
    method: Literal["euler", "heun"] = "euler",
    class_labels: torch.Tensor | None = None,
    return_trajectory: bool = False,
) -> FlowSample:
    """Solve dx/dt = v_theta(x, t) from t = 1 (x = noise) to t = 0 on a uniform grid.

    Euler: x <- x + (t' - t) v(x, t), one evaluation per step. Heun (the trapezoid
    rule of Karras et al. 2022, Alg. 1): an Euler guess x', then x <- x + (t' - t)
    (v(x, t) + v(x', t')) / 2, two evaluations per step. The model runs in eval mode
    without gradients.

    Args:
        model: the trained velocity network, called as in `flow_matching_loss`.
        noise: x at t = 1, (B, ...).
        num_steps: steps of the grid, >= 1.
        method: "euler" or "heun".
        class_labels: (B,) labels for a conditional model, or None.
        return_trajectory: keep x at every time of the grid.
    """
    check_tensor("noise", noise, floating=True)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    check_choice("method", method, ("euler", "heun"))
    check_bool("return_trajectory", return_trajectory)
    times = torch.linspace(1.0, 0.0, num_steps + 1, dtype=torch.float64).tolist()
    x, path, nfe = noise, [noise], 0

    def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
        nonlocal nfe
        nfe += 1
        timesteps = torch.full(
            (len(x),), TIME_SCALE * t, device=x.device, dtype=x.dtype
        )
        return call_model(model, x, timesteps, class_labels)

    with eval_mode(model), torch.no_grad():
        for t, t_next in zip(times[:-1], times[1:], strict=True):
            v = velocity(x, t)
            guess = x + (t_next - t) * v
            if method == "heun":
                guess = x + (t_next - t) * (v + velocity(guess, t_next)) / 2
            x = guess
            if return_trajectory:
                path.append(x)
    trajectory = torch.stack(path) if return_trajectory else None
    return FlowSample(x, nfe, trajectory)


def straightness(trajectory: torch.Tensor) -> torch.Tensor:
    """Liu et al.'s (2022, eq. 6) straightness of each sampled path, per example:

        S = integral over t in [0, 1] of ||(x_1 - x_0) - dx_t/dt||^2 dt,

    0 for a straight path run at constant speed, larger the more the velocity
    strays from the chord's. `trajectory` is what `sample` returns with
    ``return_trajectory=True``: (steps + 1, B, ...) on a uniform grid from t = 1
    (noise, x_1) to t = 0 (x_0); dx/dt is each step's mean velocity.
    """
    check_tensor("trajectory", trajectory, floating=True)
    if trajectory.ndim < 2 or len(trajectory) < 2:
        raise ValueError(
            "trajectory must have shape (steps + 1, B, ...) with steps >= 1; "
            f"got {tuple(trajectory.shape)}"
        )
    steps = len(trajectory) - 1
    chord = trajectory[0] - trajectory[-1]  # x_1 - x_0: the mean velocity
    velocity = (trajectory[:-1] - trajectory[1:]) * steps  # per step, dt = 1/steps
    return (velocity - chord).pow(2).flatten(2).sum(2).mean(0)


def x0_from_velocity(sample: torch.Tensor, velocity: torch.Tensor, t: torch.Tensor):
    """x0 = x_t - t v: the data end of the straight line through x_t along v."""
    check_tensor("velocity", velocity, shape=tuple(sample.shape), floating=True)
    return sample - expand_like(_times("t", t, len(sample)), sample) * velocity


def noise_from_velocity(sample: torch.Tensor, velocity: torch.Tensor, t: torch.Tensor):
    """eps = x_t + (1 - t) v: the noise end of the straight line through x_t."""
    check_tensor("velocity", velocity, shape=tuple(sample.shape), floating=True)
    return sample + (1 - expand_like(_times("t", t, len(sample)), sample)) * velocity


def velocity_from_x0(sample: torch.Tensor, x0: torch.Tensor, t: torch.Tensor):
    """v = (x_t - x0) / t: the velocity that points from an estimate of x0 to x_t,
    for t > 0 (an x0-predicting denoiser as a velocity field)."""
    check_tensor("x0", x0, shape=tuple(sample.shape), floating=True)
    t = _times("t", t, len(sample))
    if (t == 0).any():
        raise ValueError("t must be > 0: at t = 0 the velocity is not set by x0")
    return (sample - x0) / expand_like(t, sample)


def vp_to_flow(
    sample: torch.Tensor, alphas_cumprod: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """DDPM's x_t = a x0 + s eps (a = sqrt(alpha_bar), s = sqrt(1 - alpha_bar)) as a
    point of the straight path: x_t / (a + s) = (1 - t) x0 + t eps with
    t = s / (a + s). Returns (x on the straight path, t), shapes (B, ...) and (B,).
    """
    check_tensor("alphas_cumprod", alphas_cumprod, shape=(len(sample),), floating=True)
    a, s = alphas_cumprod.sqrt(), (1 - alphas_cumprod).sqrt()
    return sample / expand_like(a + s, sample), s / (a + s)
