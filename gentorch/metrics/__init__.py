"""Scores for generated samples, and the digits classifier that several of them read.

Three modules, each name also ``gt.metrics.<name>``:

* `gentorch.metrics.classifier`: `digits_classifier()`, a small convolutional
  classifier of the bundled digits with shipped weights, and its features;
  `train_digits_classifier()`, the recipe of those weights.
* `gentorch.metrics.coverage`: `mode_coverage`, the Gaussian-mixture benchmark's
  modes, high-quality share and reverse KL.
* `gentorch.metrics.scores`: `frechet_distance` (the FID's formula on any
  features), `precision_recall` (k-NN manifolds), `inception_score`; `psnr` and
  `ssim` of reconstructions.
"""

from gentorch.metrics.classifier import (
    DigitsClassifier,
    DigitsClassifierResult,
    digits_classifier,
    train_digits_classifier,
)
from gentorch.metrics.coverage import ModeCoverage, mode_coverage
from gentorch.metrics.scores import (
    PrecisionRecall,
    frechet_distance,
    inception_score,
    precision_recall,
    psnr,
    ssim,
)

__all__ = [
    "DigitsClassifier",
    "DigitsClassifierResult",
    "ModeCoverage",
    "PrecisionRecall",
    "digits_classifier",
    "frechet_distance",
    "inception_score",
    "mode_coverage",
    "precision_recall",
    "psnr",
    "ssim",
    "train_digits_classifier",
]
