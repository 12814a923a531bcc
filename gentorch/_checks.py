"""Argument checks shared by every gentorch module (private: the lowest layer).

One rule for all of them: a value of the wrong *type* raises `TypeError`, a value of the
right type that is out of range raises `ValueError`, and both messages name the
argument, say what is accepted and show what arrived. Dtypes follow torch's own
convention: a dtype that cannot be used (an integer dtype where a floating one is
needed, float64 on a device without it) is a `TypeError`.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

__all__ = [
    "check_bool",
    "check_callable",
    "check_choice",
    "check_device",
    "check_dtype",
    "check_float64_support",
    "check_generator",
    "check_instance",
    "check_int",
    "check_number",
    "check_tensor",
]


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool):
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f"in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Python or NumPy integer (not bool) in [minimum, maximum], as a Python int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    value = operator.index(value)
    too_low = minimum is not None and value < minimum
    too_high = maximum is not None and value > maximum
    if too_low or too_high:
        bounds = _interval(minimum, maximum, False, False)
        raise ValueError(f"{name} must be an int {bounds}; got {value}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Finite Python/NumPy real number (not bool) within the bounds, as a float.

    `low`/`high` are inclusive unless `low_open`/`high_open`: ``low=0, low_open=True``
    accepts only positive numbers.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    value = float(value)
    ok = math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bounds = _interval(low, high, low_open, high_open)
        raise ValueError(
            f"{name} must be a finite number {bounds}".rstrip() + f"; got {value!r}"
        )
    return value


def check_bool(name: str, value: Any) -> bool:
    """A real `bool` (not 0/1)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool; got {type(value).__name__}")
    return value


def _same_choice(value: Any, choice: Any) -> bool:
    """`value` stands for `choice`: equal, and of the same kind (8.0 is not 8, True is
    not 1, but NumPy's int64(8) is 8)."""
    if choice is None or isinstance(choice, bool) or isinstance(value, bool):
        return value is choice
    if isinstance(choice, numbers.Integral):
        return isinstance(value, numbers.Integral) and value == choice
    if type(value) is not type(choice):
        return False
    try:
        return bool(value == choice)
    except (TypeError, ValueError, RuntimeError):  # arrays, tensors: no single truth
        return False


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of a closed set of values (a `Literal[...]` argument); returns the choice
    itself (so NumPy's int64(8) comes back as the int 8)."""
    choices = tuple(choices)
    for choice in choices:
        if _same_choice(value, choice):
            return choice
    accepted = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name} must be one of {accepted}; got {value!r}")


def check_instance(
    name: str,
    value: Any,
    types: type | tuple[type, ...],
    *,
    optional: bool = False,
    what: str | None = None,
) -> Any:
    """`isinstance(value, types)` (or None when `optional`), else a TypeError.

    `what` names the accepted types in the message (default: the type names).
    """
    if optional and value is None:
        return value
    if not isinstance(value, types):
        if what is None:
            names = types if isinstance(types, tuple) else (types,)
            what = " or ".join(t.__name__ for t in names)
        what = f"{what} or None" if optional else what
        raise TypeError(f"{name} must be a {what}; got {type(value).__name__}")
    return value


def check_callable(name: str, value: Any, *, signature: str | None = None) -> Callable:
    """A callable; `signature` (e.g. ``"draw(fig, **values)"``) goes in the message."""
    if not callable(value):
        shape = f" {signature}" if signature else ""
        raise TypeError(f"{name} must be callable{shape}; got {type(value).__name__}")
    return value


def check_dtype(name: str, dtype: Any, *, floating: bool = True) -> torch.dtype:
    """A `torch.dtype`, floating when `floating`."""
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"{name} must be a torch.dtype; got {type(dtype).__name__}")
    if floating and not dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating torch.dtype; got {dtype}")
    return dtype


def check_generator(generator: Any) -> torch.device:
    """A `torch.Generator` or None; returns the device it draws on (CPU for None)."""
    if generator is None:
        return torch.device("cpu")
    if not isinstance(generator, torch.Generator):
        kind = type(generator).__name__
        raise TypeError(f"generator must be a torch.Generator or None; got {kind}")
    return generator.device


def check_float64_support(dtype: torch.dtype, *devices: torch.device) -> None:
    """Refuse float64 on a device that has none (Apple MPS), naming the device."""
    for device in devices:
        if dtype == torch.float64 and device.type == "mps":
            raise TypeError(
                "dtype must not be torch.float64 with data or a generator on mps, "
                "which has no float64; use torch.float32"
            )


def check_device(name: str, device: Any) -> torch.device:
    """A `torch.device` or a device string such as "cpu" or "cuda:0"."""
    check_instance(name, device, (str, torch.device), what="torch.device or str")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"{name} must name a device such as 'cpu', 'cuda', 'cuda:0' or 'mps'; "
            f"got {device!r}"
        ) from error


def _shape_text(shape: Sequence[int | str | None]) -> str:
    dims = ["?" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def check_tensor(
    name: str,
    value: Any,
    *,
    shape: Sequence[int | str | None] | None = None,
    floating: bool = False,
) -> torch.Tensor:
    """A `torch.Tensor`, optionally floating and of a given shape.

    `shape` lists one entry per dimension: an int must match exactly, a str (a symbol
    such as ``"N"``) or None matches any size, and equal symbols must have equal sizes.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor; got dtype {value.dtype}")
    if shape is not None:
        got = tuple(value.shape)
        ok = len(got) == len(shape)
        sizes: dict[str, int] = {}
        for want, size in zip(shape, got, strict=True) if ok else ():
            if isinstance(want, str):
                ok = ok and sizes.setdefault(want, size) == size
            elif want is not None:
                ok = ok and want == size
        if not ok:
            raise ValueError(
                f"{name} must have shape {_shape_text(shape)}; got {_shape_text(got)}"
            )
    return value
