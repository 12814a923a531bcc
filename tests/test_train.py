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
    assert history.steps("loss") == [0, 1]
    assert history.steps("acc") == [0, 10]
    assert history.names == ["loss", "acc"]
    assert len(history) == 2 and "loss" in history and "kl" not in history
    assert history.last("loss") == 0.25
    assert history.to_dict() == {
        "loss": {"steps": [0, 1], "values": [1.0, 0.25]},
        "acc": {"steps": [0, 10], "values": [0.5, 3.0]},
    }
    assert "loss" in repr(history)


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
    "value",
    [torch.ones(2), torch.ones(1), np.ones(3), "0.5", None, True, torch.tensor(True)],
)
def test_history_rejects_non_scalars(value):
    history = History()
    with pytest.raises(ValueError, match="loss"):
        history.log(loss=value)
    assert "loss" not in history


def test_history_log_is_atomic_and_checks_step():
    history = History()
    with pytest.raises(ValueError, match="bad"):
        history.log(good=1.0, bad=[1.0])
    assert len(history) == 0
    with pytest.raises(ValueError, match="step"):
        history.log(step=-1, loss=1.0)
    with pytest.raises(ValueError, match="step"):
        history.log(step=1.5, loss=1.0)
    with pytest.raises(ValueError, match="scalar"):
        history.log()


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
    calls = []
    empty = train_loop(lambda step: calls.append(step) or {}, 0, progress=False)
    assert calls == [] and len(empty) == 0


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


def test_train_loop_rejects_bad_arguments():
    def ok(step):
        return {"loss": 1.0}

    with pytest.raises(ValueError, match="num_steps"):
        train_loop(ok, -1)
    with pytest.raises(TypeError, match="num_steps"):
        train_loop(ok, 2.0)
    with pytest.raises(ValueError, match="log_every"):
        train_loop(ok, 2, log_every=0)
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
