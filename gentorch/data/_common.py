"""Pieces shared by gentorch's data modules: the labelled-data tuple, working dtypes,
array-like parsing, and `infinite` for endless loaders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import torch

from gentorch._checks import check_dtype, check_float64_support

__all__ = ["LabeledData", "infinite"]


class LabeledData(NamedTuple):
    """Inputs and integer class labels.

    Shapes:
        x: (N, ...); y: (N,) int64.
    """

    x: torch.Tensor
    y: torch.Tensor


def _work_dtype(device: torch.device) -> torch.dtype:
    """Dtype the samplers compute in on `device`: float64, but float32 on MPS."""
    return torch.float32 if device.type == "mps" else torch.float64


def _check_dtype(dtype: Any, device: torch.device | None = None) -> None:
    """A floating dtype that the device (of the generator) supports."""
    check_dtype("dtype", dtype)
    if device is not None and _work_dtype(device) != torch.float64:
        # the samplers' working dtype tells which devices have no float64
        check_float64_support(dtype, torch.device("mps"))


def _as_cpu_float64(name: str, value: Any) -> torch.Tensor:
    """Array-like parameter -> detached CPU float64 tensor, for validation."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"{name} must hold real numbers; got dtype {value.dtype}")
        # Copy to the CPU first: MPS tensors cannot be cast to float64 where they are.
        return value.detach().to("cpu").to(torch.float64)
    try:
        # Parse Python floats straight into float64 (via float32 they would round).
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        kind = type(value).__name__
        raise TypeError(
            f"{name} must be an array-like of real numbers; got {kind}"
        ) from error


def infinite(loader: Iterable) -> Iterator:
    """Cycle through `loader` forever, re-iterating it every pass.

    Unlike `itertools.cycle`, nothing is cached: a shuffling `DataLoader` reshuffles
    each epoch.

    Args:
        loader: any re-iterable (a DataLoader, a list of batches).

    Returns:
        An endless iterator over the items of `loader`.
    """
    if not isinstance(loader, Iterable):
        raise TypeError(f"loader must be iterable; got {type(loader).__name__}")
    if isinstance(loader, Iterator):
        raise TypeError("loader must be re-iterable (a DataLoader), not an iterator")
    return _cycle(loader)


def _cycle(loader: Iterable) -> Iterator:
    while True:
        empty = True
        for item in loader:
            empty = False
            yield item
        if empty:
            raise ValueError("loader must yield at least one item; it was empty")
