"""Tests for gentorch.data."""

import math
import socket
import sys
import time
import types
from collections import Counter

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

from gentorch import data
from gentorch.data import (
    LabeledData,
    digits,
    gaussian_blobs,
    grid,
    grid_centers,
    infinite,
    mnist,
    moons,
    ring,
    ring_centers,
    swiss_roll,
    to_pixel_range,
    toy_2d,
)

MEANS = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]


def gen(seed):
    return torch.Generator().manual_seed(seed)


# Samplers that take (n, *, generator, dtype) and return x or LabeledData.
SAMPLERS = {
    "gaussian_blobs": lambda n, **kw: gaussian_blobs(n, means=MEANS, **kw),
    "moons": moons,
    "swiss_roll": swiss_roll,
    "ring": ring,
    "grid": grid,
}


def _x(out):
    return out.x if isinstance(out, LabeledData) else out


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_shape_dtype_and_determinism(name):
    sample = SAMPLERS[name]
    a = sample(50, generator=gen(0))
    b = sample(50, generator=gen(0))
    c = sample(50, generator=gen(1))
    assert _x(a).shape == (50, 2) and _x(a).dtype == torch.float32
    assert torch.equal(_x(a), _x(b))
    assert not torch.equal(_x(a), _x(c))
    if isinstance(a, LabeledData):
        assert a.y.shape == (50,) and a.y.dtype == torch.int64
        assert torch.equal(a.y, b.y)


# First three float64 rows for generator seed 0, recorded on CPU (torch 2.13).
# A sampler that computed in float32 and cast at the end would miss them by ~1e-8.
GOLDEN_FLOAT64 = {
    "gaussian_blobs": [
        [1.2644587093281903, 3.3125736082679813],
        [0.1603812602788958, 3.3935488130759346],
        [3.2169358972296447, 1.0621710284337496],
    ],
    "moons": [
        [1.15409961082440438, -0.02934289057609464],
        [1.89154776575759787, 0.36014046046291220],
        [-0.21787893820745574, 0.55684312772806677],
    ],
    "swiss_roll": [
        [0.83497367528158262, 2.62697356524005876],
        [0.86908025039886683, -2.13789852523744583],
        [-1.71665569405893237, 0.72858996507198159],
    ],
    "grid": [
        [2.01821690951670796, 4.00671981642768138],
        [0.00821081225474290, 4.01528805103299913],
        [-1.98950095400228388, 2.04528130649912754],
    ],
}


def _ring_oracle(n, generator, modes=8, std=0.01):
    """The ring rebuilt from the same draws, with centres from math.cos/sin."""
    k = torch.randint(modes, (n,), generator=generator).tolist()
    eps = torch.randn(n, 2, dtype=torch.float64, generator=generator).tolist()
    angle = [2 * math.pi * i / modes for i in k]
    return torch.tensor(
        [
            [math.cos(a) + std * e[0], math.sin(a) + std * e[1]]
            for a, e in zip(angle, eps, strict=True)
        ],
        dtype=torch.float64,
    )


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_compute_in_float64_on_cpu(name):
    sample = SAMPLERS[name]
    out64, out32 = (
        sample(3, generator=gen(0), dtype=torch.float64),
        sample(3, generator=gen(0)),
    )
    x64, x32 = _x(out64), _x(out32)
    assert x64.dtype == torch.float64
    if name == "ring":
        expected = _ring_oracle(3, gen(0))
    else:
        expected = torch.tensor(GOLDEN_FLOAT64[name], dtype=torch.float64)
    torch.testing.assert_close(x64, expected, atol=1e-12, rtol=0)
    # Same draws, one rounding at the end: float32 is exactly float64 rounded.
    assert torch.equal(x32, x64.float())
    torch.testing.assert_close(x32.double(), expected, atol=1e-6, rtol=0)
    if isinstance(out64, LabeledData):
        assert torch.equal(out64.y, out32.y)


def test_work_dtype_is_float32_only_on_mps():
    assert data._common._work_dtype(torch.device("cpu")) == torch.float64
    assert data._common._work_dtype(torch.device("cuda")) == torch.float64
    assert data._common._work_dtype(torch.device("mps")) == torch.float32


class _FakeMPS(TorchFunctionMode):
    """Raise, as MPS does, whenever a float64 tensor lives on the meta device."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        outs = out if isinstance(out, tuple | list) else (out,)
        for t in (*args, *kwargs.values(), *outs):
            if isinstance(t, torch.Tensor) and t.is_meta and t.dtype == torch.float64:
                raise TypeError(f"fake MPS has no float64 ({func})")
        return out


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_avoid_float64_on_a_device_without_it(name, monkeypatch):
    # Stand-in for an MPS generator: draws go to the meta device, which the patched
    # working-dtype helper treats like MPS and _FakeMPS polices.
    work_dtype = data._common._work_dtype
    monkeypatch.setattr(data.toy, "_device", lambda generator: torch.device("meta"))
    for module in (data.toy, data._common):
        monkeypatch.setattr(
            module,
            "_work_dtype",
            lambda device: torch.float32
            if device.type == "meta"
            else work_dtype(device),
        )
    sample = SAMPLERS[name]
    with _FakeMPS():
        out = sample(7, generator=gen(0))
        half = _x(sample(7, generator=gen(0), dtype=torch.float16))
        with pytest.raises(TypeError, match="dtype"):
            sample(7, generator=gen(0), dtype=torch.float64)
    x = _x(out)
    assert x.is_meta and x.shape == (7, 2) and x.dtype == torch.float32
    assert half.is_meta and half.dtype == torch.float16
    if isinstance(out, LabeledData):
        assert out.y.is_meta and out.y.shape == (7,) and out.y.dtype == torch.int64


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_use_only_the_given_generator(name):
    torch.manual_seed(0)
    state = torch.random.get_rng_state()
    SAMPLERS[name](20, generator=gen(3))
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_reject_bad_arguments(name):
    sample = SAMPLERS[name]
    for n in (0, -3, np.int64(0)):
        with pytest.raises(ValueError, match="n must"):
            sample(n)
    for n in (2.5, True, np.True_, "5", None, torch.tensor(5)):
        with pytest.raises(TypeError, match="n must"):
            sample(n)
    with pytest.raises(TypeError, match="dtype"):
        sample(5, dtype=torch.int64)
    with pytest.raises(TypeError, match="generator"):
        sample(5, generator=np.random.default_rng(0))


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_accept_numpy_scalars(name):
    sample = SAMPLERS[name]
    expected = _x(sample(9, generator=gen(0)))
    for n in (np.int64(9), np.int32(9), np.uint8(9)):
        assert torch.equal(_x(sample(n, generator=gen(0))), expected)


def test_numpy_real_parameters_are_accepted():
    g = gen
    assert torch.equal(
        moons(8, noise=np.float32(0.5), generator=g(0)).x,
        moons(8, noise=float(np.float32(0.5)), generator=g(0)).x,
    )
    assert torch.equal(
        swiss_roll(8, noise=np.float64(0.1), generator=g(0)),
        swiss_roll(8, noise=0.1, generator=g(0)),
    )
    assert torch.equal(
        ring(
            8, modes=np.int64(4), radius=np.float64(2.0), std=np.int8(0), generator=g(0)
        ),
        ring(8, modes=4, radius=2.0, std=0.0, generator=g(0)),
    )
    assert torch.equal(
        grid(8, std=np.float64(0.05), generator=g(0)), grid(8, generator=g(0))
    )
    assert torch.equal(ring_centers(modes=np.int16(3)), ring_centers(modes=3))
    x = torch.tensor([-1.0, 1.0])
    assert torch.equal(
        to_pixel_range(x, high=np.float64(16)), torch.tensor([0.0, 16.0])
    )


def test_number_arguments_type_versus_value_errors():
    with pytest.raises(TypeError, match="noise"):
        moons(10, noise="0.1")
    with pytest.raises(TypeError, match="noise"):
        moons(10, noise=True)
    with pytest.raises(TypeError, match="noise"):
        swiss_roll(10, noise=torch.tensor(0.1))
    with pytest.raises(ValueError, match="noise"):
        swiss_roll(10, noise=np.float64("inf"))
    with pytest.raises(TypeError, match="high"):
        to_pixel_range(torch.zeros(3), high=None)
    with pytest.raises(ValueError, match="high"):
        to_pixel_range(torch.zeros(3), high=np.float32(-1))


def test_gaussian_blobs_class_statistics():
    covs = [
        [[1.0, 0.5], [0.5, 1.0]],
        [[0.2, 0.0], [0.0, 2.0]],
        [[1.0, 0.0], [0.0, 1.0]],
    ]
    priors = [0.2, 0.3, 0.5]
    x, y = gaussian_blobs(
        20000, means=MEANS, covs=covs, priors=priors, generator=gen(0)
    )
    freqs = torch.bincount(y, minlength=3).double() / len(y)
    torch.testing.assert_close(
        freqs, torch.tensor(priors, dtype=torch.float64), atol=0.02, rtol=0
    )
    for k in range(3):
        xk = x[y == k].double()
        torch.testing.assert_close(
            xk.mean(0), torch.tensor(MEANS[k]).double(), atol=0.06, rtol=0
        )
        torch.testing.assert_close(
            torch.cov(xk.T), torch.tensor(covs[k]).double(), atol=0.12, rtol=0
        )


def test_gaussian_blobs_shared_cov_default_identity_and_zero_prior():
    x, y = gaussian_blobs(
        5000, means=[[0.0], [10.0]], priors=[0.0, 1.0], generator=gen(1)
    )
    assert x.shape == (5000, 1) and bool((y == 1).all())
    assert abs(x.std().item() - 1.0) < 0.05
    shared = gaussian_blobs(
        5000, means=MEANS, covs=[[4.0, 0.0], [0.0, 0.25]], generator=gen(2)
    )
    x0 = shared.x[shared.y == 0]
    torch.testing.assert_close(x0.std(0), torch.tensor([2.0, 0.5]), atol=0.1, rtol=0)


def test_gaussian_blobs_rejects_bad_arguments():
    with pytest.raises(ValueError, match="means"):
        gaussian_blobs(10, means=[1.0, 2.0])
    with pytest.raises(ValueError, match="covs"):
        gaussian_blobs(10, means=MEANS, covs=torch.eye(3))
    with pytest.raises(ValueError, match="covs"):  # not positive definite
        gaussian_blobs(10, means=MEANS, covs=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="covs"):  # not symmetric
        gaussian_blobs(10, means=MEANS, covs=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="priors"):
        gaussian_blobs(10, means=MEANS, priors=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="priors"):
        gaussian_blobs(10, means=MEANS, priors=[1.2, -0.2, 0.0])
    with pytest.raises(ValueError, match="priors"):
        gaussian_blobs(10, means=MEANS, priors=[0.5, 0.5])
    for priors in (
        [float("nan"), 0.5, 0.5],
        [float("inf"), -float("inf"), 1.0],
        [float("nan")] * 3,
    ):
        with pytest.raises(ValueError, match="priors"):
            gaussian_blobs(10, means=MEANS, priors=priors)
    with pytest.raises(TypeError, match="means"):
        gaussian_blobs(10, means="origin")
    with pytest.raises(TypeError, match="covs"):
        gaussian_blobs(10, means=MEANS, covs=torch.eye(2, dtype=torch.complex64))
    with pytest.raises(TypeError, match="priors"):
        gaussian_blobs(10, means=MEANS, priors=[None, 0.5, 0.5])


def test_gaussian_blobs_parameters_as_tensors_arrays_or_lists():
    covs = [[1.0, 0.1], [0.1, 0.3]]  # 0.1 is not a float32 number
    priors = [0.2, 0.3, 0.5]
    ref = gaussian_blobs(40, means=MEANS, covs=covs, priors=priors, generator=gen(0))
    as_tensors = gaussian_blobs(
        40,
        means=torch.tensor(MEANS, requires_grad=True),
        covs=torch.tensor(covs, dtype=torch.float64),
        priors=torch.tensor(priors, dtype=torch.float64),
        generator=gen(0),
    )
    as_arrays = gaussian_blobs(
        40,
        means=np.array(MEANS),
        covs=np.array(covs),
        priors=np.array(priors),
        generator=gen(0),
    )
    for out in (as_tensors, as_arrays):
        assert torch.equal(out.x, ref.x) and torch.equal(out.y, ref.y)
        assert not out.x.requires_grad


def test_moons_matches_sklearn_geometry_without_noise():
    from sklearn.datasets import make_moons

    for n in (7, 100):
        x, y = moons(n, noise=0.0, generator=gen(0), dtype=torch.float64)
        ref_x, ref_y = make_moons(n, noise=0.0, shuffle=False)
        for label in (0, 1):
            ours = x[y == label].numpy()
            ref = ref_x[ref_y == label]
            np.testing.assert_allclose(
                np.sort(ours, axis=0), np.sort(ref, axis=0), atol=1e-12
            )
        assert int((y == 0).sum()) == n // 2


def test_moons_noise_and_shuffle():
    x, y = moons(4000, noise=0.1, generator=gen(0), dtype=torch.float64)
    upper = x[y == 0]
    radius = upper.norm(dim=1)
    assert abs(radius.mean().item() - 1.0) < 0.02
    assert 0.08 < (radius - 1).std().item() < 0.12
    assert not bool((y[:2000] == 0).all())  # rows are shuffled
    with pytest.raises(ValueError, match="noise"):
        moons(10, noise=-0.1)


def test_swiss_roll_geometry_and_scale():
    x = swiss_roll(5000, noise=0.0, generator=gen(0), dtype=torch.float64)
    t = x.norm(dim=1) / data.SWISS_ROLL_SCALE  # |(t cos t, t sin t)| = t
    assert t.min() >= 1.5 * math.pi - 1e-9 and t.max() <= 4.5 * math.pi + 1e-9
    # t ~ U[1.5 pi, 4.5 pi] covers the whole range, not a part of it.
    assert t.min() < 1.6 * math.pi and t.max() > 4.4 * math.pi
    angle = torch.atan2(x[:, 1], x[:, 0])
    torch.testing.assert_close(torch.cos(angle), torch.cos(t))
    assert x.abs().max() < 3.0
    noisy = swiss_roll(5000, noise=0.25, generator=gen(0))
    assert (noisy.double() - x).abs().max() > 0
    with pytest.raises(ValueError, match="noise"):
        swiss_roll(10, noise=float("nan"))


def test_ring_centers_and_samples():
    centers = ring_centers()
    assert centers.shape == (8, 2) and centers.dtype == torch.float32
    torch.testing.assert_close(centers[0], torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(centers.norm(dim=1), torch.ones(8))
    torch.testing.assert_close(centers[2], torch.tensor([0.0, 1.0]), atol=1e-6, rtol=0)
    assert ring_centers(modes=3, radius=2.0).shape == (3, 2)
    x = ring(4000, generator=gen(0))
    distances = torch.cdist(x, centers)
    assert distances.min(dim=1).values.max() < 0.1
    counts = torch.bincount(distances.argmin(dim=1), minlength=8)
    assert counts.min() > 400  # uniform mixture: about 500 each


def test_toy_centres_are_exact_in_float64():
    """Independent oracle: math.cos / math.sin, not values recorded from the code."""
    centers = ring_centers(dtype=torch.float64)
    assert centers.dtype == torch.float64
    expected = [
        [math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)
    ]
    torch.testing.assert_close(
        centers, torch.tensor(expected, dtype=torch.float64), atol=1e-15, rtol=0
    )
    assert abs(centers[1, 0].item() - math.sqrt(0.5)) < 1e-15
    # noise-free samples sit exactly on those centres, in float64
    x = ring(200, std=0.0, generator=gen(1), dtype=torch.float64)
    assert torch.cdist(x, centers).min(dim=1).values.max() < 1e-15
    grid64 = grid_centers(dtype=torch.float64)
    assert grid64.dtype == torch.float64
    assert sorted(map(tuple, grid64.tolist())) == [
        (float(a), float(b)) for a in range(-4, 5, 2) for b in range(-4, 5, 2)
    ]
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        ring_centers(dtype=torch.int64)


def test_ring_centers_rejects_bad_arguments():
    with pytest.raises(ValueError, match="modes"):
        ring_centers(modes=0)
    with pytest.raises(ValueError, match="radius"):
        ring_centers(radius=-1.0)
    with pytest.raises(TypeError, match="radius"):
        ring_centers(radius="1")
    with pytest.raises(TypeError, match="modes"):
        ring_centers(modes=True)
    with pytest.raises(ValueError, match="std"):
        ring(10, std=-0.01)
    with pytest.raises(TypeError, match="modes"):
        ring(10, modes=2.5)


def test_grid_centers_and_samples():
    centers = grid_centers()
    assert centers.shape == (25, 2) and centers.dtype == torch.float32
    expected = {
        (float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)
    }
    assert {tuple(c) for c in centers.tolist()} == expected
    # Ordered rows, x varying slowest, as the docstring promises.
    coords = [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert centers.tolist() == [[a, b] for a in coords for b in coords]
    x = grid(5000, generator=gen(0))
    nearest = torch.cdist(x, centers).min(dim=1)
    assert nearest.values.max() < 0.4
    assert torch.bincount(nearest.indices, minlength=25).min() > 120
    with pytest.raises(TypeError, match="std"):
        grid(10, std="0.05")
    with pytest.raises(ValueError, match="std"):
        grid(10, std=float("nan"))


@pytest.mark.parametrize(
    ("name", "sampler"),
    [
        ("moons", lambda n, generator: moons(n, generator=generator).x),
        ("swiss_roll", swiss_roll),
        ("ring", ring),
        ("grid", grid),
    ],
)
def test_toy_2d(name, sampler):
    x = toy_2d(name, 64, generator=gen(0))
    assert x.shape == (64, 2) and x.dtype == torch.float32
    assert torch.equal(x, toy_2d(name, 64, generator=gen(0)))
    # The name maps to that sampler with its default parameters.
    assert torch.equal(x, sampler(64, generator=gen(0)))
    assert torch.equal(toy_2d(name, np.int64(64), generator=gen(0)), x)


def test_toy_2d_rejects_unknown_name():
    with pytest.raises(ValueError, match="name must be one of 'moons'"):
        toy_2d("spiral", 10)
    with pytest.raises(ValueError, match="n must"):
        toy_2d("ring", 0)


def test_digits_splits():
    splits = {name: digits(name) for name in ("train", "val", "test")}
    assert {k: len(v.x) for k, v in splits.items()} == data.DIGITS_SPLIT_SIZES
    assert sum(data.DIGITS_SPLIT_SIZES.values()) == 1797
    for x, y in splits.values():
        assert x.shape[1:] == (1, 8, 8) and x.dtype == torch.float32
        assert y.dtype == torch.int64 and set(y.unique().tolist()) <= set(range(10))
        assert x.min() >= -1 and x.max() <= 1
    # Disjoint and covering: compare every image+label with the full data set.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    full = Counter(
        (bytes(img.astype(np.uint8)), int(t))
        for img, t in zip(bunch.data, bunch.target, strict=True)
    )
    seen = Counter()
    for x, y in splits.values():
        pixels = to_pixel_range(x, high=16).round().to(torch.uint8).reshape(len(x), 64)
        seen.update((bytes(p.numpy()), int(t)) for p, t in zip(pixels, y, strict=True))
    assert seen == full  # as multisets: disjoint splits that cover all 1797 images


def test_digits_split_is_pinned():
    # Recorded labels: a change in torch.randperm (or the seed) moves the split.
    assert digits("val").y[:20].tolist() == [
        0, 7, 7, 1, 2, 1, 4, 9, 6, 5, 6, 5, 9, 9, 0, 6, 5, 3, 2, 9
    ]  # fmt: skip
    assert digits("test").y[:20].tolist() == [
        2, 7, 1, 5, 0, 3, 0, 8, 4, 1, 5, 3, 3, 0, 4, 2, 0, 6, 2, 5
    ]  # fmt: skip


def test_digits_deterministic_and_dtype():
    from sklearn.datasets import load_digits

    images = torch.as_tensor(load_digits().images)
    a = digits("val", dtype=torch.float64)
    b = digits("val", dtype=torch.float64)
    assert a.x.dtype == torch.float64
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    torch.manual_seed(999)  # the split ignores the global seed
    torch.testing.assert_close(digits("val").x, a.x.float())
    pixel = to_pixel_range(a.x[:, 0], high=16)
    assert all(any(torch.equal(p, img) for img in images) for p in pixel[:5])


def test_digits_ordered_split_is_load_digits_order_in_blocks():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    sizes = data.DIGITS_ORDERED_SPLIT_SIZES
    assert sizes == {"train": 1000, "val": 350, "test": 447}
    bounds = {"train": (0, 1000), "val": (1000, 1350), "test": (1350, 1797)}
    for name, (start, stop) in bounds.items():
        x, y = digits(name, order="ordered", dtype=torch.float64)
        pixels = to_pixel_range(x, high=16).reshape(len(x), 64)
        expected = torch.as_tensor(bunch.data[start:stop])
        torch.testing.assert_close(pixels, expected)
        assert y.tolist() == bunch.target[start:stop].tolist()
    with pytest.raises(ValueError, match="order must be one of 'shuffled', 'ordered'"):
        digits("train", order="sorted")


def test_digits_rejects_bad_split():
    with pytest.raises(ValueError, match="split must be one of 'train', 'val', 'test'"):
        digits("validation")
    with pytest.raises(TypeError, match="dtype"):
        digits("train", dtype="float32")


def test_to_pixel_range_inverts_digits_scaling():
    pixels = torch.arange(17, dtype=torch.float32)
    torch.testing.assert_close(to_pixel_range(pixels / 8 - 1, high=16), pixels)
    out = to_pixel_range(torch.tensor([-3.0, -1.0, 0.0, 1.0, 5.0], dtype=torch.float64))
    assert out.dtype == torch.float64
    torch.testing.assert_close(
        out, torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0], dtype=torch.float64)
    )


def test_to_pixel_range_rejects_bad_input():
    with pytest.raises(ValueError, match="high"):
        to_pixel_range(torch.zeros(3), high=0)
    with pytest.raises(TypeError, match="x"):
        to_pixel_range(np.zeros(3))
    with pytest.raises(TypeError, match="x"):
        to_pixel_range(torch.zeros(3, dtype=torch.int64))


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_check_reachable_fails_fast_on_closed_port():
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="digits"):
        data.images._check_reachable("127.0.0.1", _closed_port(), timeout=2.0)
    assert time.monotonic() - start < 3


def test_check_reachable_succeeds_on_open_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        data.images._check_reachable("127.0.0.1", server.getsockname()[1], timeout=2.0)


def test_mnist_without_torchvision_explains_install(monkeypatch):
    # A None entry in sys.modules makes `import torchvision` raise ImportError,
    # whether or not torchvision is installed.
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(ImportError, match="pip install torchvision"):
        mnist()


class _FakeMNIST:
    """Stands in for torchvision.datasets.MNIST: files 'present' after download."""

    mirrors = ["https://example.invalid/mnist/"]
    downloaded = False

    def __init__(self, root, train=True, download=False):
        if download:
            type(self).downloaded = True
        if not type(self).downloaded:
            raise RuntimeError("Dataset not found. You can use download=True")
        n = 6 if train else 4
        self.data = (
            torch.tensor([0, 255], dtype=torch.uint8).repeat(n * 392).reshape(n, 28, 28)
        )
        self.targets = torch.arange(n)


def _install_fake_torchvision(monkeypatch, port):
    fake_cls = type(
        "FakeMNIST", (_FakeMNIST,), {"mirrors": [f"http://127.0.0.1:{port}/"]}
    )
    datasets = types.SimpleNamespace(MNIST=fake_cls, FashionMNIST=fake_cls)
    module = types.ModuleType("torchvision")
    module.datasets = datasets
    monkeypatch.setitem(sys.modules, "torchvision", module)
    return fake_cls


def test_mnist_offline_raises_connection_error(monkeypatch, tmp_path):
    fake = _install_fake_torchvision(monkeypatch, _closed_port())
    with pytest.raises(ConnectionError, match="offline|No internet"):
        mnist(root=str(tmp_path), timeout=1.0)
    assert not fake.downloaded  # no download attempted


def test_mnist_converts_to_model_range(monkeypatch, tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        fake = _install_fake_torchvision(monkeypatch, server.getsockname()[1])
        x, y = mnist("test", root=str(tmp_path), timeout=1.0)
    assert fake.downloaded
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.tolist() == [0, 1, 2, 3]
    assert x.min() == -1 and x.max() == 1


def test_mnist_rejects_bad_arguments():
    with pytest.raises(ValueError, match="split must be one of 'train', 'test'"):
        mnist("val")
    with pytest.raises(ValueError, match="timeout"):
        mnist(timeout=0)
    with pytest.raises(TypeError, match="fashion"):
        mnist(fashion="yes")
    with pytest.raises(TypeError, match="root"):
        mnist(root=3)


def test_mirror_hosts_default_ports():
    cls = type("C", (), {"mirrors": ["https://a.example/x/", "http://b.example/"]})
    assert data.images._mirror_hosts(cls, "mnist") == [
        ("a.example", 443),
        ("b.example", 80),
    ]
    assert data.images._mirror_hosts(object, "fashion") == [data.MNIST_HOSTS["fashion"]]


def test_infinite_reiterates_each_pass():
    class Epochs:
        def __init__(self):
            self.passes = 0

        def __iter__(self):
            self.passes += 1
            return iter([self.passes * 10, self.passes * 10 + 1])

    loader = Epochs()
    stream = infinite(loader)
    assert [next(stream) for _ in range(5)] == [10, 11, 20, 21, 30]
    assert loader.passes == 3


def test_infinite_with_shuffling_dataloader_reshuffles():
    dataset = torch.utils.data.TensorDataset(torch.arange(20))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=20, shuffle=True, generator=gen(0)
    )
    stream = infinite(loader)
    first, second = next(stream)[0], next(stream)[0]
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(20))
    assert not torch.equal(first, second)


def test_infinite_rejects_bad_loaders():
    with pytest.raises(TypeError, match="loader"):
        infinite(5)
    with pytest.raises(TypeError, match="loader"):
        infinite(iter([1, 2]))
    with pytest.raises(ValueError, match="loader"):
        next(infinite([]))


def test_shift_pixels_moves_each_image_by_at_most_one_pixel():
    x = data.digits("train").x[:400]  # (400, 1, 8, 8)
    g = torch.Generator().manual_seed(0)
    shifted = data.shift_pixels(x, prob=0.5, generator=g)
    assert shifted.shape == x.shape
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=-1.0)
    # brute force: which of the nine windows each result is
    offsets = []
    for image, result in zip(padded, shifted, strict=True):
        hits = [
            (i - 1, j - 1)
            for i in range(3)
            for j in range(3)
            if torch.equal(image[:, i : i + 8, j : j + 8], result)
        ]
        assert hits, "every result is a one-pixel window of its image"
        offsets.append(hits[0])
    moved = sum(o != (0, 0) for o in offsets) / len(offsets)
    # moved with probability 0.5 * 8/9 = 0.444; 5 standard errors
    assert abs(moved - 4 / 9) < 5 * (4 / 9 * 5 / 9 / 400) ** 0.5
    assert len(set(offsets)) == 9
    # prob=0 keeps everything; flat 3-D input and fill work as documented
    assert torch.equal(data.shift_pixels(x, prob=0.0, generator=g), x)
    flat = data.shift_pixels(x[:, 0], prob=1.0, fill=5.0, generator=g)
    assert flat.shape == (400, 8, 8) and (flat == 5.0).any()
    with pytest.raises(ValueError, match=r"x must have shape \(B, H, W\)"):
        data.shift_pixels(x.flatten(1))
    with pytest.raises(ValueError, match="prob must be"):
        data.shift_pixels(x, prob=1.5)
