"""Training bookkeeping: a `History` of logged scalars and a short `train_loop`.

The chapter owns the training step (zero_grad, backward, optimizer step stay visible
in the chapter); `train_loop` only repeats it, logs what it returns and shows a
progress bar.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from tqdm.auto import trange

from gentorch._checks import check_bool, check_callable, check_instance, check_int

__all__ = ["History", "train_loop"]


def _to_float(name: str, value: Any) -> float:
    """Python number, NumPy scalar or 0-d tensor -> float; NaN is kept on purpose."""
    if isinstance(value, torch.Tensor):
        real = not value.is_complex() and value.dtype != torch.bool
    elif isinstance(value, np.ndarray | np.generic):
        real = value.dtype.kind in "iuf"
    else:
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real:
        kind = type(value).__name__
        dtype = getattr(value, "dtype", None)
        raise TypeError(
            f"{name} must be a real scalar (number or 0-d tensor); got {kind}"
            + ("" if dtype is None else f" of dtype {dtype}")
        )
    if getattr(value, "ndim", 0) != 0:
        raise ValueError(
            f"{name} must be a scalar (0-d); got shape {tuple(value.shape)}"
        )
    return float(value.item() if isinstance(value, torch.Tensor) else value)


class History:
    """Named series of scalars logged during training, on one shared step axis.

    Every call to `log` records its values at one step. Without `step`, that is the
    step `train_loop` is running (when called from inside a step function), or else
    the history's next step (`next_step`: one past the largest step logged or run
    under any name). So a metric logged every 1,000 steps sits at the loss's step,
    not at 0, 1, 2. Outside `train_loop`, log what belongs to one step in one call,
    or pass `step` explicitly.

    Example:
        >>> history = History()
        >>> history.log(loss=0.7, accuracy=0.5)
        >>> history.log(loss=0.3)
        >>> history.log(step=10, loss=0.2, accuracy=0.9)
        >>> history.steps("loss"), history.steps("accuracy")
        ([0, 1, 10], [0, 10])
    """

    def __init__(self) -> None:
        self._steps: dict[str, list[int]] = {}
        self._values: dict[str, list[float]] = {}
        self._next_step = 0
        # the step train_loop is running, None outside it
        self._running_step: int | None = None

    @property
    def next_step(self) -> int:
        """One past the largest step logged or run by `train_loop`; 0 when new."""
        return self._next_step

    def log(self, step: int | None = None, **scalars: Any) -> None:
        """Append one value to each named series, all at the same step.

        Args:
            step: step (an int >= 0) of these values; None means the step
                `train_loop` is running, or `next_step` outside it.
            **scalars: name=value with a Python/NumPy real number or a 0-d tensor
                (converted with `.item()`; NaN and inf are kept, they are telling).
        """
        if step is None:
            running = self._running_step
            step = self._next_step if running is None else running
        else:
            step = check_int("step", step, minimum=0)
        if not scalars:
            raise ValueError("log needs at least one name=value scalar")
        values = {name: _to_float(name, value) for name, value in scalars.items()}
        for name, value in values.items():
            self._steps.setdefault(name, []).append(step)
            self._values.setdefault(name, []).append(value)
        self._next_step = max(self._next_step, step + 1)

    def _check_name(self, name: str) -> None:
        if name not in self._values:
            raise KeyError(f"no series named {name!r}; known names: {self.names}")

    def __getitem__(self, name: str) -> list[float]:
        """Values logged under `name` (a copy)."""
        self._check_name(name)
        return list(self._values[name])

    def steps(self, name: str) -> list[int]:
        """Steps at which `name` was logged (a copy)."""
        self._check_name(name)
        return list(self._steps[name])

    def last(self, name: str) -> float:
        """Most recent value logged under `name`."""
        self._check_name(name)
        return self._values[name][-1]

    @property
    def names(self) -> list[str]:
        """Series names, in the order they were first logged."""
        return list(self._values)

    def __len__(self) -> int:
        """Number of named series."""
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the series names, as `names`."""
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(v)}" for name, v in self._values.items())
        return f"History({sizes})"

    def to_dict(self) -> dict[str, dict[str, list]]:
        """Plain copy: {name: {"steps": [int, ...], "values": [float, ...]}}."""
        return {
            name: {"steps": list(self._steps[name]), "values": list(values)}
            for name, values in self._values.items()
        }


def train_loop(
    step_fn: Callable[[int], Mapping[str, float | torch.Tensor]],
    num_steps: int,
    *,
    history: History | None = None,
    start_step: int | None = None,
    log_every: int = 1,
    desc: str | None = None,
    progress: bool = True,
) -> History:
    """Call `step_fn(step)` for step = start_step, ..., start_step + num_steps - 1.

    `step_fn` does one complete training step and returns a mapping of scalars such
    as `{"loss": loss.detach()}`. At every step that is a multiple of `log_every`,
    and at the last step, those scalars go into the history at that step and onto
    the progress bar. Other steps do not convert tensors to floats, so they cost no
    device synchronisation.

    Steps are global: a second call with the same `history` carries on numbering
    where the first stopped (whatever was logged), so its curve continues instead
    of starting over at 0. A `history.log(...)` without `step` inside `step_fn`
    records at the running step.

    Args:
        step_fn: one training step; receives the global step `start_step + i` for
            the i-th call (0, 1, ... when the history starts empty).
        num_steps: number of calls (0 is allowed and does nothing).
        history: history to extend; None starts a fresh one.
        start_step: step number of the first call; None means `history.next_step`
            (one past the largest step logged or run; 0 for a new history).
        log_every: log every this many steps.
        desc: label of the progress bar.
        progress: show a tqdm progress bar.

    Returns:
        The history holding the logged scalars.

    Raises:
        ValueError: if `step_fn` returns a scalar named "step", which would clash
            with the step number.
    """
    check_callable("step_fn", step_fn, signature="step_fn(step) -> mapping")
    num_steps = check_int("num_steps", num_steps, minimum=0)
    log_every = check_int("log_every", log_every, minimum=1)
    what = "gentorch.train.History"
    history = check_instance("history", history, History, optional=True, what=what)
    history = History() if history is None else history
    if start_step is None:
        start_step = history.next_step
    else:
        start_step = check_int("start_step", start_step, minimum=0)
    check_instance("desc", desc, str, optional=True)
    check_bool("progress", progress)

    last = start_step + num_steps - 1
    # The context manager closes the bar even when step_fn raises; the finally
    # clause leaves the history pointing past the steps that ran.
    with trange(
        start_step, start_step + num_steps, desc=desc, disable=not progress
    ) as bar:
        try:
            for step in bar:
                history._running_step = step
                scalars = step_fn(step)
                _log_step(history, bar, step, scalars, log_every, last)
                history._next_step = max(history._next_step, step + 1)
        finally:
            history._running_step = None
    return history


def _log_step(history, bar, step, scalars, log_every, last) -> None:
    """Check what a step function returned and log it when it is a logging step."""
    if not isinstance(scalars, Mapping):
        raise TypeError(
            "step_fn must return a mapping of name -> scalar, e.g. "
            f"{{'loss': loss.detach()}}; got {type(scalars).__name__}"
        )
    if "step" in scalars:
        raise ValueError(
            "step_fn returned a scalar named 'step', which clashes with the "
            "step number train_loop logs it at; rename that key"
        )
    if scalars and (step % log_every == 0 or step == last):
        history.log(step=step, **scalars)
        latest = {name: history.last(name) for name in scalars}
        postfix = {k: f"{v:.4g}" for k, v in latest.items()}
        bar.set_postfix(postfix, refresh=False)
