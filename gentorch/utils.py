"""Small helpers shared by every chapter: seeding, device choice, broadcasting, modes.

Nothing here holds state: `seed_everything` returns a `torch.Generator` for the caller
to pass on explicitly, and `eval_mode` restores exactly what it changed.
"""

from __future__ import annotations

import contextlib
import numbers
import operator
import random
from collections.abc import Iterator

import numpy as np
import torch

__all__ = [
    "count_parameters",
    "eval_mode",
    "expand_like",
    "get_device",
    "seed_everything",
]


def _check_int(name: str, value: object, *, minimum: int) -> int:
    """Python or NumPy integer (not bool) >= minimum, as a Python int.

    Shared by gentorch's modules: a wrong type is a TypeError, a wrong value a
    ValueError, and both name the argument.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value}")
    return value


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's `random`, NumPy's global RNG and torch (CPU and CUDA).

    Seeding the global generators makes code that does not take a `generator`
    (weight initialisation, dropout) reproducible; the returned generator is the one
    to pass explicitly to gentorch functions.

    Args:
        seed: a non-negative integer below 2**63 (Python or NumPy integer).

    Returns:
        A fresh CPU `torch.Generator` seeded with `seed`.
    """
    seed = _check_int("seed", seed, minimum=0)
    if not seed < 2**63:
        raise ValueError(f"seed must satisfy 0 <= seed < 2**63; got {seed}")
    random.seed(seed)
    # NumPy's legacy global RNG only accepts 32-bit seeds.
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def get_device() -> torch.device:
    """Return the best available device: CUDA, then Apple MPS, then CPU.

    Returns:
        `torch.device("cuda")`, `torch.device("mps")` or `torch.device("cpu")`.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def expand_like(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reshape per-example values so they broadcast against a batch `x`.

    Typical use: a schedule value per example, `alphas_cumprod[t]` of shape (B,),
    multiplied with images of shape (B, C, H, W).

    Args:
        values: one value per example (or a single value for the whole batch).
        x: the floating batch the values will be broadcast against.

    Returns:
        `values` viewed as (B, 1, ..., 1) with `x.ndim` dimensions, on `x`'s device
        and with `x`'s dtype.

    Shapes:
        values: (B,) or (1,); x: (B, ...); output: (B, 1, ..., 1) or (1, 1, ..., 1).
    """
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"values must be a torch.Tensor; got {type(values).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        # The values are cast to x's dtype; an integer x would silently truncate them.
        raise TypeError(f"x must be a floating tensor; got dtype {x.dtype}")
    if values.ndim != 1:
        shape = tuple(values.shape)
        raise ValueError(f"values must be 1-D, shape (B,); got shape {shape}")
    if x.ndim < 1:
        raise ValueError("x must have at least one (batch) dimension; got a 0-d tensor")
    if values.shape[0] not in (1, x.shape[0]):
        raise ValueError(
            f"values must have length 1 or x.shape[0]={x.shape[0]}; "
            f"got length {values.shape[0]}"
        )
    # (B,) -> (B, 1, ..., 1)
    shape = (values.shape[0],) + (1,) * (x.ndim - 1)
    return values.to(device=x.device, dtype=x.dtype).reshape(shape)


def count_parameters(model: torch.nn.Module, *, trainable_only: bool = True) -> int:
    """Count the scalar parameters of a module.

    Args:
        model: any `torch.nn.Module`.
        trainable_only: count only parameters with `requires_grad=True`.

    Returns:
        The total number of scalar entries.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not isinstance(trainable_only, bool):
        raise TypeError(
            f"trainable_only must be a bool; got {type(trainable_only).__name__}"
        )
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )


def eval_mode(
    model: torch.nn.Module,
) -> contextlib.AbstractContextManager[torch.nn.Module]:
    """Context manager: evaluation mode and no gradients, undone on exit.

    Each submodule's `.training` flag is restored individually, so a model that was
    partly frozen (say, a BatchNorm left in eval) comes back exactly as it was.

    Args:
        model: the module to switch to `eval()`.

    Returns:
        A context manager yielding `model`.

    Example:
        >>> with eval_mode(model):
        ...     samples = model.sample(16)
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return _eval_mode(model)


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    previous = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        for module, training in previous:
            module.training = training
