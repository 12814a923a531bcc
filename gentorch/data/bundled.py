"""scikit-learn's bundled 8x8 handwritten digits (offline), in the range [-1, 1]."""

from __future__ import annotations

import functools
from typing import Literal

import torch
import torch.nn.functional as F

from gentorch._checks import check_choice, check_number, check_tensor
from gentorch.data._common import LabeledData, _check_dtype
from gentorch.utils import rand

__all__ = [
    "DIGITS_ORDERED_SPLIT_SIZES",
    "DIGITS_SPLIT_SEED",
    "DIGITS_SPLIT_SIZES",
    "digits",
    "shift_pixels",
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


def shift_pixels(
    x: torch.Tensor,
    *,
    prob: float = 1.0,
    fill: float = -1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Move each image by at most one pixel: a cheap way to get more digits.

    With probability `prob` an image is replaced by one of the nine windows at
    offsets -1, 0, +1 in each direction (picked uniformly, so one in nine stays
    put); the pixels that enter at the border take the value `fill` (the
    background, -1 in the model range).

    Args:
        x: images (B, H, W) or (B, C, H, W).
        prob: probability that an image is replaced by a random window, in [0, 1].
        fill: the value of the pixels that enter at the border.
        generator: source of randomness (drawn on its device).

    Returns:
        A new tensor of the shape of `x`.
    """
    check_tensor("x", x)
    if x.dim() not in (3, 4):
        raise ValueError(
            f"x must have shape (B, H, W) or (B, C, H, W); got {tuple(x.shape)}"
        )
    prob = check_number("prob", prob, low=0.0, high=1.0)
    fill = check_number("fill", fill)
    h, w = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1), value=fill)
    # the nine one-pixel windows, (B, 9, ..., H, W); window 4 is the image itself
    windows = torch.stack(
        [padded[..., i : i + h, j : j + w] for i in range(3) for j in range(3)], 1
    )
    u = rand((2, len(x)), generator=generator, device=x.device)
    pick = torch.where(u[0] < prob, (u[1] * 9).long().clamp(max=8), 4)
    return windows[torch.arange(len(x), device=x.device), pick]
