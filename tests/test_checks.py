"""Tests for gentorch._checks: TypeError for a wrong type, ValueError for a value."""

import math

import numpy as np
import pytest
import torch

from gentorch import _checks as c


def test_check_int_accepts_python_and_numpy_integers():
    assert c.check_int("n", 3, minimum=1) == 3
    value = c.check_int("n", np.int64(4), minimum=0, maximum=4)
    assert value == 4 and type(value) is int


@pytest.mark.parametrize("bad", [1.0, True, "3", None, np.float64(2.0)])
def test_check_int_wrong_type(bad):
    with pytest.raises(TypeError, match="n must be an int; got"):
        c.check_int("n", bad)


def test_check_int_out_of_range_names_bounds_and_value():
    with pytest.raises(ValueError, match=r"n must be an int >= 1; got 0"):
        c.check_int("n", 0, minimum=1)
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 3\]; got 4"):
        c.check_int("k", 4, minimum=0, maximum=3)
    with pytest.raises(ValueError, match=r"k must be an int <= 3; got 4"):
        c.check_int("k", 4, maximum=3)


def test_check_number():
    assert c.check_number("x", 2) == 2.0 and type(c.check_number("x", 2)) is float
    assert c.check_number("p", 0.5, low=0, high=1, low_open=True) == 0.5
    for bad in ("1", None, True, 1j):
        with pytest.raises(TypeError, match="x must be a real number"):
            c.check_number("x", bad)
    with pytest.raises(ValueError, match=r"std must be a finite number > 0; got 0.0"):
        c.check_number("std", 0.0, low=0, low_open=True)
    with pytest.raises(ValueError, match=r"p must be a finite number in \(0, 1\)"):
        c.check_number("p", 1.0, low=0, high=1, low_open=True, high_open=True)
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError, match="x must be a finite number; got"):
            c.check_number("x", bad)


def test_check_bool_and_callable_and_instance():
    assert c.check_bool("flag", False) is False
    with pytest.raises(TypeError, match="flag must be a bool; got int"):
        c.check_bool("flag", 0)
    with pytest.raises(TypeError, match=r"draw must be callable draw\(fig\); got int"):
        c.check_callable("draw", 1, signature="draw(fig)")
    assert c.check_instance("title", None, str, optional=True) is None
    with pytest.raises(TypeError, match="title must be a str or None; got int"):
        c.check_instance("title", 3, str, optional=True)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes; got str"):
        c.check_instance("ax", "a", int, what="matplotlib Axes")


def test_check_choice_lists_accepted_values():
    assert c.check_choice("split", "val", ("train", "val")) == "val"
    message = r"split must be one of 'train', 'val'; got 'x'"
    with pytest.raises(ValueError, match=message):
        c.check_choice("split", "x", ("train", "val"))
    with pytest.raises(
        ValueError, match="got \\[1\\]"
    ):  # unhashable: still a value error
        c.check_choice("split", [1], ("train", "val"))
    with pytest.raises(ValueError, match="got True"):  # True == 1, but not a choice
        c.check_choice("k", True, (1, 2))


def test_check_dtype_and_generator():
    assert c.check_dtype("dtype", torch.float64) is torch.float64
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        c.check_dtype("dtype", torch.int64)
    with pytest.raises(TypeError, match="dtype must be a torch.dtype; got str"):
        c.check_dtype("dtype", "float32")
    assert c.check_generator(None) == torch.device("cpu")
    assert c.check_generator(torch.Generator()).type == "cpu"
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None"):
        c.check_generator(0)


def test_check_tensor_shapes():
    x = torch.zeros(3, 2)
    assert c.check_tensor("x", x, shape=("N", 2), floating=True) is x
    c.check_tensor("x", x, shape=(None, None))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\); got \(3, 2\)"):
        c.check_tensor("x", x, shape=("N", 3))
    with pytest.raises(ValueError, match=r"must have shape \(N, N\); got \(3, 2\)"):
        c.check_tensor("x", x, shape=("N", "N"))
    with pytest.raises(ValueError, match=r"must have shape \(N,\); got \(3, 2\)"):
        c.check_tensor("x", x, shape=("N",))
    with pytest.raises(TypeError, match="x must be a floating tensor; got dtype"):
        c.check_tensor("x", torch.zeros(2, dtype=torch.long), floating=True)
    with pytest.raises(TypeError, match="x must be a torch.Tensor; got list"):
        c.check_tensor("x", [1.0])


def test_check_choice_matches_kind_and_returns_the_choice():
    assert type(c.check_choice("size", np.int64(8), (8, 28))) is int
    for bad in (8.0, "8", True):
        with pytest.raises(ValueError, match="size must be one of 8, 28"):
            c.check_choice("size", bad, (8, 28))
    # a bool among the choices does not make every other value fail
    assert c.check_choice("x", "a", ("a", True)) == "a"
    assert c.check_choice("x", None, (None, "tanh")) is None
    with pytest.raises(ValueError, match="got array"):
        c.check_choice("x", np.array([1, 2]), ("a", "b"))


def test_check_device_and_float64_support():
    assert c.check_device("device", "cpu") == torch.device("cpu")
    assert c.check_device("device", torch.device("meta")).type == "meta"
    with pytest.raises(ValueError, match="device must name a device such as"):
        c.check_device("device", "gpu")
    with pytest.raises(TypeError, match="device must be a torch.device or str"):
        c.check_device("device", 3.5)
    c.check_float64_support(torch.float64, torch.device("cpu"))
    c.check_float64_support(torch.float32, torch.device("mps"))
    with pytest.raises(TypeError, match="float64 .* mps"):
        c.check_float64_support(torch.float64, torch.device("cpu"), torch.device("mps"))
