"""scikit-learn's bundled 8x8 handwritten digits (offline), in the range [-1, 1]."""

from __future__ import annotations

import functools
from typing import Literal

import torch

from gentorch._checks import check_choice, check_number, check_tensor
from gentorch.data._common import LabeledData, _check_dtype

__all__ = [
    "DIGITS_ORDERED_SPLIT_SIZES",
    "DIGITS_SPLIT_SEED",
    "DIGITS_SPLIT_SIZES",
    "digits",
    "to_pixel_range",
]

#: `digits` split sizes (train, val, test); they add up to the 1797 images.
DIGITS_SPLIT_SIZES: dict[str, int] = {"train": 1257, "val": 270, "test": 270}
#: split sizes of ``digits(..., order="ordered")``: consecutive blocks of the images
#: in scikit-learn's order, the protocol of the book's likelihood benchmark
DIGITS_ORDERED_SPLIT_SIZES: dict[str, int] = {"train": 1000, "val": 350, "test": 447}
#: Seed of the fixed permutation behind the `digits` split (independent of user seeds).
DIGITS_SPLIT_SEED = 1797


@functools.lru_cache(maxsize=1)
def _load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float64)  # (1797, 8, 8), 0..16
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    return images, labels


def digits(
    split: Literal["train", "val", "test"] = "train",
    *,
    order: Literal["shuffled", "ordered"] = "shuffled",
    dtype: torch.dtype = torch.float32,
) -> LabeledData:
    """scikit-learn's bundled 8x8 handwritten digits, offline, in the model range.

    Pixels p in 0..16 become x = p / 8 - 1 in [-1, 1] (17 grey levels). The splits
    are fixed. ``order="shuffled"`` (the book's default): a permutation drawn from
    `torch.Generator().manual_seed(DIGITS_SPLIT_SEED)` whose first 1257 indices are
    "train", next 270 "val", last 270 "test" (`DIGITS_SPLIT_SIZES`).
    ``order="ordered"``: the images in `sklearn.datasets.load_digits` order,
    unshuffled, the first 1000 "train", the next 350 "val", the last 447 "test"
    (`DIGITS_ORDERED_SPLIT_SIZES`), the protocol of published VAE likelihoods on
    these digits, so that numbers compare.

    Args:
        split: "train", "val" or "test".
        order: "shuffled" or "ordered".
        dtype: floating dtype of x.

    Returns:
        `LabeledData(x, y)` with x (N, 1, 8, 8) and y (N,) int64 in 0..9.
    """
    check_choice("split", split, ("train", "val", "test"))
    check_choice("order", order, ("shuffled", "ordered"))
    _check_dtype(dtype)
    images, labels = _load_digits()
    if order == "shuffled":
        split_generator = torch.Generator().manual_seed(DIGITS_SPLIT_SEED)
        permutation = torch.randperm(len(images), generator=split_generator)
        sizes = DIGITS_SPLIT_SIZES
    else:
        permutation = torch.arange(len(images))
        sizes = DIGITS_ORDERED_SPLIT_SIZES
    names = list(sizes)
    start = sum(sizes[name] for name in names[: names.index(split)])
    index = permutation[start : start + sizes[split]]
    x = images[index].unsqueeze(1) / 8 - 1  # (N, 8, 8) -> (N, 1, 8, 8)
    return LabeledData(x.to(dtype), labels[index])


def to_pixel_range(x: torch.Tensor, *, high: float = 1.0) -> torch.Tensor:
    """Map the model range [-1, 1] to [0, high]: (x + 1) / 2 * high, clamped.

    `high=16` undoes `digits`' scaling; `high=255` gives 8-bit image values.
    """
    check_tensor("x", x, floating=True)
    high = check_number("high", high, low=0, low_open=True)
    return ((x + 1) * (high / 2)).clamp(0, high)
