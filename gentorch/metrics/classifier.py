"""A small convolutional classifier of the bundled 8x8 digits, with fixed weights.

`digits_classifier()` returns the book's classifier: weights trained once by
`train_digits_classifier()` and shipped with gentorch (`digits_classifier.pt`, 290 kB),
so that every machine, thread count and session scores with the same network, as
every FID uses the same Inception weights. Chapters use its class probabilities to
judge generated digits (is this a recognisable digit? which one?) and its
`features` for Fréchet distances.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gentorch._checks import check_tensor
from gentorch.data import digits

__all__ = [
    "DigitsClassifier",
    "DigitsClassifierResult",
    "digits_classifier",
    "train_digits_classifier",
]

#: The shipped weights, a state_dict next to this module.
WEIGHTS_FILE = "digits_classifier.pt"

#: Seed of the classifier's initialisation, shuffling and augmentation.
CLASSIFIER_SEED = 8
_EPOCHS = 10
_BATCH = 64


class DigitsClassifier(nn.Module):
    """A small CNN for 8x8 digits: two 3x3 conv blocks, a 128-d feature layer, logits.

    Shapes:
        x: (B, 1, 8, 8) in [-1, 1]; `features(x)`: (B, 128); output: (B, 10) logits.
    """

    feature_dim = 128

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 8, 8) -> (B, 32, 4, 4)
            nn.Flatten(),  # (B, 32, 4, 4) -> (B, 512)
            nn.Dropout(0.3),
            nn.Linear(32 * 16, self.feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(self.feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128 penultimate activations, the feature space of Fréchet distances."""
        check_tensor("x", x, shape=("B", 1, 8, 8), floating=True)
        return self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DigitsClassifierResult(NamedTuple):
    """What `digits_classifier` returns."""

    #: the trained classifier, on the CPU, in eval mode
    model: DigitsClassifier
    #: its accuracy on the 270 test digits
    test_accuracy: float


def _shift(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to one pixel in each direction (zero = background)."""
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # (B, 1, 8, 8) -> (B, 1, 10, 10)
    offsets = torch.randint(0, 3, (2, x.shape[0], 1), generator=generator)
    window = torch.arange(8)
    rows = (offsets[0] + window)[:, :, None]  # (B, 8, 1)
    cols = (offsets[1] + window)[:, None, :]  # (B, 1, 8)
    batch = torch.arange(x.shape[0])[:, None, None]  # (B, 1, 1)
    return padded[:, 0][batch, rows, cols].unsqueeze(1)  # (B, 8, 8) -> (B, 1, 8, 8)


def train_digits_classifier() -> DigitsClassifier:
    """Train the classifier with the recipe of the shipped weights (a few seconds).

    Adam (lr 2e-3) for 10 epochs of minibatches of 64 on `gt.data.digits("train")`,
    each image shifted by up to one pixel, with fixed seeds and the caller's random
    state untouched. Floating-point results depend on the CPU and the number of
    threads, so a retrained copy scores the digits like the shipped one but not
    bit for bit; the shipped weights were written by
    ``torch.save(train_digits_classifier().state_dict(), ...)`` on two threads.

    Returns:
        The trained model, in eval mode, on the CPU.
    """
    generator = torch.Generator().manual_seed(CLASSIFIER_SEED)
    with torch.random.fork_rng(devices=[]):
        # the initialisation draws from the global generator: fork it, so that the
        # caller's random state is left as it was
        torch.manual_seed(CLASSIFIER_SEED)
        model = DigitsClassifier()
    train = digits("train")
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CLASSIFIER_SEED)  # dropout masks
        for _ in range(_EPOCHS):
            order = torch.randperm(len(train.x), generator=generator)
            for batch in order.split(_BATCH):
                x = _shift(train.x[batch], generator)
                loss = F.cross_entropy(model(x), train.y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    return model.eval()


def _test_accuracy(model: DigitsClassifier) -> float:
    """The share of `gt.data.digits("test")` that `model` (on the CPU) gets right."""
    test = digits("test")
    with torch.no_grad():
        return (model(test.x).argmax(1) == test.y).double().mean().item()


@functools.lru_cache(maxsize=1)
def _shipped_state() -> tuple[dict[str, torch.Tensor], float]:
    with resources.files(__package__).joinpath(WEIGHTS_FILE).open("rb") as file:
        state = torch.load(file, map_location="cpu", weights_only=True)
    with torch.random.fork_rng(devices=[]):
        model = DigitsClassifier()
    model.load_state_dict(state)
    return state, _test_accuracy(model.eval())


def digits_classifier() -> DigitsClassifierResult:
    """The book's classifier of the bundled 8x8 digits and its test accuracy.

    The shipped weights (see `train_digits_classifier` for their recipe), read once
    per process; every call returns a fresh copy, so moving one copy to a GPU leaves
    the others alone, and the caller's random state is untouched. Test accuracy is
    measured on `digits("test")`.

    Returns:
        `DigitsClassifierResult(model, test_accuracy)`; the model is in eval mode,
        on the CPU (move it with ``.to(device)``).
    """
    state, accuracy = _shipped_state()
    with torch.random.fork_rng(devices=[]):
        # construction draws initial weights, soon overwritten: leave no trace
        model = DigitsClassifier()
    model.load_state_dict(state)
    model.eval()
    return DigitsClassifierResult(model, accuracy)
