"""Tests for gentorch.train."""

import math

import numpy as np
import pytest
import torch

from gentorch.train import History, train_loop


def test_history_logs_values_and_default_steps():
    history = History()
    history.log(loss=1.0, acc=torch.tensor(0.5))
    history.log(loss=np.float32(0.25))
    history.log(step=10, acc=3)
    assert history["loss"] == [1.0, 0.25]
    assert history["acc"] == [0.5, 3.0]
    assert all(type(v) is float for v in history["loss"] + history["acc"])
    # one step axis: the second call is step 1 for every name
    assert history.steps("loss") == [0, 1]
    assert history.steps("acc") == [0, 10]
    assert history.next_step == 11
    assert history.names == ["loss", "acc"]
    assert len(history) == 2 and "loss" in history and "kl" not in history
    assert history.last("loss") == 0.25
    assert history.to_dict() == {
        "loss": {"steps": [0, 1], "values": [1.0, 0.25]},
        "acc": {"steps": [0, 10], "values": [0.5, 3.0]},
    }
    assert "loss" in repr(history)
    assert list(history) == ["loss", "acc"]


def test_history_iterates_over_names_and_tolerates_logging_meanwhile():
    history = History()
    assert list(history) == []
    history.log(b=1.0)
    history.log(a=2.0)
    for name in history:  # iterates over a snapshot of the names
        history.log(**{name + "_copy": history.last(name)})
    assert list(history) == ["b", "a", "b_copy", "a_copy"]


def test_history_mixed_rates_share_one_step_axis():
    """A metric logged every 1,000 steps sits at the loss's steps, not 0, 1, 2."""
    history = History()
    for step in range(3001):
        if step % 1000 == 0:
            history.log(loss=1.0 / (step + 1), val_loss=2.0 / (step + 1))
        else:
            history.log(loss=1.0 / (step + 1))
    assert history.steps("loss") == list(range(3001))
    assert history.steps("val_loss") == [0, 1000, 2000, 3000]
    # a later call without step continues after the largest step of any name
    history.log(step=5000, val_loss=0.0)
    history.log(loss=0.0)
    assert history.steps("loss")[-1] == 5001 and history.next_step == 5002


def test_history_next_step_after_explicit_steps():
    history = History()
    assert history.next_step == 0
    history.log(step=7, a=1.0)
    history.log(step=3, b=1.0)  # an earlier step does not move the axis back
    assert history.next_step == 8
    history.log(b=2.0)
    assert history.steps("b") == [3, 8]


def test_history_returns_copies():
    history = History()
    history.log(loss=1.0)
    history["loss"].append(5.0)
    history.steps("loss").append(9)
    history.to_dict()["loss"]["values"].append(7.0)
    assert history["loss"] == [1.0] and history.steps("loss") == [0]


def test_history_keeps_nan_and_detaches_tensors():
    history = History()
    weight = torch.tensor(2.0, requires_grad=True)
    history.log(loss=weight * 3, ratio=float("nan"))
    assert history["loss"] == [6.0]
    assert math.isnan(history.last("ratio"))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (torch.ones(2), ValueError),
        (torch.ones(1), ValueError),
        (np.ones(3), ValueError),
        ("0.5", TypeError),
        (None, TypeError),
        (True, TypeError),
        (np.True_, TypeError),
        (torch.tensor(True), TypeError),
        (torch.tensor(1j), TypeError),
        ([1.0], TypeError),
    ],
)
def test_history_rejects_non_scalars(value, error):
    history = History()
    with pytest.raises(error, match="loss"):
        history.log(loss=value)
    assert "loss" not in history


def test_history_log_is_atomic_and_checks_step():
    history = History()
    with pytest.raises(TypeError, match="bad"):
        history.log(good=1.0, bad=[1.0])
    assert len(history) == 0
    with pytest.raises(ValueError, match="step"):
        history.log(step=-1, loss=1.0)
    with pytest.raises(TypeError, match="step"):
        history.log(step=1.5, loss=1.0)
    with pytest.raises(TypeError, match="step"):
        history.log(step=True, loss=1.0)
    with pytest.raises(ValueError, match="scalar"):
        history.log()
    history.log(step=np.int64(3), loss=1.0)
    assert history.steps("loss") == [3] and type(history.steps("loss")[0]) is int


def test_history_unknown_name_lists_known_names():
    history = History()
    history.log(loss=1.0)
    for access in (history.__getitem__, history.steps, history.last):
        with pytest.raises(KeyError, match="known names: \\['loss'\\]"):
            access("los")


def test_train_loop_calls_step_fn_and_logs_every_n():
    calls = []

    def step_fn(step):
        calls.append(step)
        return {"loss": torch.tensor(float(step)), "lr": 0.1}

    history = train_loop(step_fn, 10, log_every=3, progress=False)
    assert calls == list(range(10))
    assert history.steps("loss") == [0, 3, 6, 9]
    assert history["loss"] == [0.0, 3.0, 6.0, 9.0]
    assert history["lr"] == [0.1] * 4


def test_train_loop_extends_given_history_and_allows_zero_steps():
    history = History()
    history.log(loss=5.0)
    out = train_loop(lambda step: {"loss": 1.0}, 2, history=history, progress=False)
    assert out is history and history["loss"] == [5.0, 1.0, 1.0]
    assert history.steps("loss") == [0, 1, 2]
    calls = []
    empty = train_loop(lambda step: calls.append(step) or {}, 0, progress=False)
    assert calls == [] and len(empty) == 0


def test_train_loop_continues_step_numbers_across_calls():
    calls = []

    def step_fn(step):
        calls.append(step)
        return {"loss": float(step)}

    history = train_loop(step_fn, 5, log_every=2, progress=False)
    train_loop(step_fn, 5, history=history, log_every=2, progress=False)
    assert calls == list(range(10))  # step_fn sees the global step
    assert history.steps("loss") == [0, 2, 4, 6, 8, 9]
    assert history["loss"] == [0.0, 2.0, 4.0, 6.0, 8.0, 9.0]
    # The default start is one past the largest step of any series.
    history.log(step=20, lr=0.1)
    train_loop(step_fn, 1, history=history, progress=False)
    assert calls[-1] == 21 and history.steps("loss")[-1] == 21


def test_train_loop_explicit_start_step():
    calls = []
    history = train_loop(
        lambda step: calls.append(step) or {"loss": 1.0},
        4,
        start_step=np.int64(100),
        log_every=3,
        progress=False,
    )
    assert calls == [100, 101, 102, 103]
    assert history.steps("loss") == [102, 103]


def test_train_loop_logs_the_last_step():
    history = train_loop(
        lambda step: {"loss": float(step)}, 10, log_every=4, progress=False
    )
    assert history.steps("loss") == [0, 4, 8, 9]
    one = train_loop(
        lambda step: {"loss": 0.0}, 1, log_every=5, start_step=7, progress=False
    )
    assert one.steps("loss") == [7]


def test_train_loop_rejects_a_scalar_named_step():
    history = History()
    with pytest.raises(ValueError, match="'step'"):
        train_loop(
            lambda step: {"loss": 1.0, "step": step},
            3,
            history=history,
            log_every=2,
            progress=False,
        )
    assert len(history) == 0


def test_train_loop_with_progress_bar_and_empty_mapping(capsys):
    history = train_loop(lambda step: {}, 3, desc="warm-up", progress=True)
    assert len(history) == 0
    assert "warm-up" in capsys.readouterr().err


def test_train_loop_trains_a_model():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step_fn(step):
        optimizer.zero_grad()
        loss = (model(x).squeeze(-1) - y).pow(2).mean()
        loss.backward()
        optimizer.step()
        return {"loss": loss.detach()}

    history = train_loop(step_fn, 100, progress=False)
    assert history["loss"][-1] < 1e-2 * history["loss"][0]


def test_train_loop_accepts_numpy_integers():
    history = train_loop(
        lambda step: {"loss": 1.0}, np.int64(3), log_every=np.int32(2), progress=False
    )
    assert history.steps("loss") == [0, 2]


def test_train_loop_rejects_bad_arguments():
    def ok(step):
        return {"loss": 1.0}

    with pytest.raises(ValueError, match="num_steps"):
        train_loop(ok, -1)
    with pytest.raises(TypeError, match="num_steps"):
        train_loop(ok, 2.0)
    with pytest.raises(TypeError, match="num_steps"):
        train_loop(ok, True)
    with pytest.raises(ValueError, match="log_every"):
        train_loop(ok, 2, log_every=0)
    with pytest.raises(TypeError, match="log_every"):
        train_loop(ok, 2, log_every=1.5)
    with pytest.raises(TypeError, match="log_every"):
        train_loop(ok, 2, log_every=True)
    with pytest.raises(ValueError, match="start_step"):
        train_loop(ok, 2, start_step=-1)
    with pytest.raises(TypeError, match="start_step"):
        train_loop(ok, 2, start_step=1.0)
    with pytest.raises(TypeError, match="step_fn"):
        train_loop("ok", 2)
    with pytest.raises(TypeError, match="history"):
        train_loop(ok, 2, history={})
    with pytest.raises(TypeError, match="desc"):
        train_loop(ok, 2, desc=3)
    with pytest.raises(TypeError, match="progress"):
        train_loop(ok, 2, progress=None)
    with pytest.raises(TypeError, match="step_fn must return a mapping"):
        train_loop(lambda step: 0.5, 2, progress=False)


def test_train_loop_neither_skips_nor_repeats_steps():
    seen = []

    def step_fn(step):
        seen.append(step)
        # nothing to log on most steps: the next call must still carry on
        return {"loss": 1.0} if step % 10 == 0 else {}

    history = History()
    train_loop(step_fn, 15, history=history, progress=False)
    train_loop(step_fn, 3, history=history, progress=False)
    assert seen == list(range(18))
    assert history.steps("loss") == [0, 10]
    assert history.next_step == 18


def test_log_inside_step_fn_records_at_the_running_step():
    history = History()

    def step_fn(step):
        if step % 25 == 0:
            history.log(val=float(step))
        return {"loss": 0.0}

    train_loop(step_fn, 60, history=history, log_every=10, progress=False)
    assert history.steps("val") == [0, 25, 50]
    assert history["val"] == [0.0, 25.0, 50.0]
    assert history.steps("loss") == [0, 10, 20, 30, 40, 50, 59]
    # outside the loop, log() takes the next step again
    history.log(val=-1.0)
    assert history.steps("val")[-1] == 60


def test_train_loop_forgets_the_running_step_when_step_fn_raises():
    history = History()

    def step_fn(step):
        if step == 3:
            raise RuntimeError("boom")
        return {"loss": 1.0}

    with pytest.raises(RuntimeError, match="boom"):
        train_loop(step_fn, 10, history=history, progress=False)
    history.log(after=1.0)
    assert history.steps("after") == [3]  # steps 0..2 ran; step 3 did not finish
