"""gentorch.metrics: the digits classifier, checked against the data it was trained on.

Training takes seconds, once per process: only the first test clears the cache and
trains afresh; every other test reads the cached weights.
"""

from __future__ import annotations

import pytest
import torch

from gentorch import metrics
from gentorch.data import digits


@pytest.fixture(autouse=True)
def one_thread():
    """The small CNN trains fastest on one thread (and far faster on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_digits_classifier_leaves_the_callers_random_state_alone():
    # the first test of the file: it alone trains afresh (a few seconds)
    metrics._trained_state.cache_clear()
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    result = metrics.digits_classifier()  # trains
    after_training = torch.get_rng_state()
    metrics.digits_classifier()  # cached
    after_cached = torch.get_rng_state()
    assert isinstance(result, metrics.DigitsClassifierResult)
    assert torch.equal(after_training, before)
    assert torch.equal(after_cached, before)


def test_digits_classifier_is_accurate_on_the_test_split():
    model, accuracy = metrics.digits_classifier()
    assert type(accuracy) is float and accuracy >= 0.97
    # the reported accuracy is the one measured again on digits("test")
    test = digits("test")
    assert len(test.x) == 270
    with torch.no_grad():
        predictions = model(test.x).argmax(dim=1)
    assert accuracy == pytest.approx((predictions == test.y).double().mean().item())


def test_digits_classifier_returns_fresh_copies_of_the_same_weights():
    first, second = metrics.digits_classifier().model, metrics.digits_classifier().model
    assert first is not second
    state1, state2 = first.state_dict(), second.state_dict()
    assert state1.keys() == state2.keys()
    for name in state1:
        assert torch.equal(state1[name], state2[name]), name
        assert state1[name].data_ptr() != state2[name].data_ptr(), name
    # changing one copy leaves the other, and later calls, alone
    with torch.no_grad():
        first.head.bias.add_(1.0)
    third = metrics.digits_classifier().model
    assert torch.equal(third.head.bias, second.head.bias)
    assert not torch.equal(first.head.bias, second.head.bias)


def test_digits_classifier_is_in_eval_mode_on_the_cpu():
    model = metrics.digits_classifier().model
    assert isinstance(model, metrics.DigitsClassifier)
    assert not any(module.training for module in model.modules())
    assert all(p.device.type == "cpu" for p in model.parameters())
    x = digits("test").x[:32]
    with torch.no_grad():
        # dropout is off: two passes agree exactly
        assert torch.equal(model(x), model(x))


def test_digits_classifier_features_and_logits():
    model = metrics.digits_classifier().model
    x = digits("train").x[:7]
    with torch.no_grad():
        features, logits = model.features(x), model(x)
    assert features.shape == (7, 128) == (7, model.feature_dim)
    assert features.dtype == torch.float32 and (features >= 0).all()  # after a ReLU
    assert logits.shape == (7, 10)
    # the logits are the head read off the features
    torch.testing.assert_close(logits, model.head(features))
    # probabilities favour the true class on training digits
    labels = digits("train").y[:7]
    assert (logits.argmax(dim=1) == labels).float().mean() >= 6 / 7


def test_digits_classifier_rejects_bad_input():
    model = metrics.digits_classifier().model
    for shape in ((4, 8, 8), (4, 1, 28, 28), (4, 3, 8, 8), (64,)):
        with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 8, 8\)"):
            model(torch.zeros(shape))
        with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 8, 8\)"):
            model.features(torch.zeros(shape))
    with pytest.raises(TypeError, match="x must be a floating"):
        model(torch.zeros(4, 1, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model.features([[0.0] * 8] * 8)
