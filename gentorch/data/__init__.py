"""Data sets for the book, one module per kind, each name also `gt.data.<name>`.

* `gentorch.data.toy`: 2-D toy distributions (Gaussian blobs, moons, swiss roll, the
  ring and grid mixtures of the mode-collapse benchmarks), offline.
* `gentorch.data.bundled`: scikit-learn's bundled 8x8 digits, fixed splits (shuffled,
  or in scikit-learn's order for the likelihood benchmark), offline.
* `gentorch.data.images`: MNIST and Fashion-MNIST through torchvision, online only.

Images come in the model range [-1, 1]; `to_pixel_range` maps them back.
"""

from gentorch.data._common import LabeledData, infinite
from gentorch.data.bundled import (
    DIGITS_ORDERED_SPLIT_SIZES,
    DIGITS_SPLIT_SEED,
    DIGITS_SPLIT_SIZES,
    digits,
    shift_pixels,
    to_pixel_range,
)
from gentorch.data.images import MNIST_HOSTS, mnist
from gentorch.data.toy import (
    SWISS_ROLL_SCALE,
    TOY_2D_NAMES,
    gaussian_blobs,
    grid,
    grid_centers,
    moons,
    ring,
    ring_centers,
    swiss_roll,
    toy_2d,
)

__all__ = [
    "DIGITS_ORDERED_SPLIT_SIZES",
    "DIGITS_SPLIT_SEED",
    "DIGITS_SPLIT_SIZES",
    "LabeledData",
    "MNIST_HOSTS",
    "SWISS_ROLL_SCALE",
    "TOY_2D_NAMES",
    "digits",
    "gaussian_blobs",
    "grid",
    "grid_centers",
    "infinite",
    "mnist",
    "moons",
    "ring",
    "ring_centers",
    "shift_pixels",
    "swiss_roll",
    "to_pixel_range",
    "toy_2d",
]
