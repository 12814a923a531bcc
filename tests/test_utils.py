"""Tests for gentorch.utils."""

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from gentorch.utils import (
    call_model,
    count_parameters,
    eval_mode,
    expand_like,
    get_device,
    rand,
    randn,
    seed_everything,
)


def _draws_after_seeding(seed):
    g = seed_everything(seed)
    draws = (
        random.random(),
        np.random.rand(),
        torch.rand(3),
        torch.rand(3, generator=g),
    )
    return g, draws


def test_seed_everything_seeds_all_global_generators_and_returns_generator():
    g1, draws1 = _draws_after_seeding(123)
    g2, draws2 = _draws_after_seeding(123)
    assert isinstance(g1, torch.Generator) and g1.device.type == "cpu"
    assert draws1[0] == draws2[0] and draws1[1] == draws2[1]
    assert torch.equal(draws1[2], draws2[2]) and torch.equal(draws1[3], draws2[3])
    g3 = seed_everything(124)
    assert not torch.equal(torch.rand(3, generator=g3), draws1[3])


def test_seed_everything_accepts_large_seed():
    g = seed_everything(2**63 - 1)
    assert g.initial_seed() == 2**63 - 1


def test_seed_everything_accepts_numpy_integers():
    expected = torch.rand(3, generator=seed_everything(123))
    for seed in (np.int64(123), np.uint32(123)):
        g = seed_everything(seed)
        assert g.initial_seed() == 123
        assert torch.equal(torch.rand(3, generator=g), expected)


@pytest.mark.parametrize(
    ("seed", "error"),
    [
        (-1, ValueError),
        (2**63, ValueError),
        (np.int64(-1), ValueError),
        (np.uint64(2**63), ValueError),
        (1.0, TypeError),
        (np.float64(1.0), TypeError),
        (True, TypeError),
        (np.True_, TypeError),
        ("1", TypeError),
        (torch.tensor(1), TypeError),
    ],
)
def test_seed_everything_rejects_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        seed_everything(seed)


def test_get_device_returns_available_device(monkeypatch):
    device = get_device()
    assert isinstance(device, torch.device)
    assert device.type in {"cuda", "mps", "cpu"}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


@pytest.mark.parametrize("shape", [(4,), (4, 3), (4, 1, 8, 8)])
def test_expand_like_shape_dtype_and_broadcast(shape):
    values = torch.arange(4, dtype=torch.float64)
    x = torch.ones(shape, dtype=torch.float32)
    out = expand_like(values, x)
    assert out.shape == (4,) + (1,) * (len(shape) - 1)
    assert out.dtype == x.dtype and out.device == x.device
    product = out * x
    assert product.shape == x.shape
    for i in range(4):
        assert torch.all(product[i] == i)


@pytest.mark.parametrize("shape", [(4,), (4, 1, 8, 8)])
def test_expand_like_follows_x_device(shape):
    # A CPU values tensor must move to x's device; meta stands in for a GPU.
    x = torch.empty(shape, device="meta")
    out = expand_like(torch.arange(4, dtype=torch.float64), x)
    assert out.is_meta and out.device == x.device
    assert out.dtype == x.dtype and out.shape == (4,) + (1,) * (len(shape) - 1)


def test_expand_like_follows_float64_and_accepts_length_one():
    x = torch.ones(5, 2, dtype=torch.float64)
    out = expand_like(torch.tensor([0.5]), x)
    assert out.shape == (1, 1) and out.dtype == torch.float64


def test_expand_like_rejects_bad_input():
    x = torch.ones(4, 2)
    with pytest.raises(ValueError, match="values"):
        expand_like(torch.ones(4, 1), x)
    with pytest.raises(ValueError, match="values"):
        expand_like(torch.ones(3), x)
    with pytest.raises(ValueError, match="x"):
        expand_like(torch.ones(1), torch.tensor(1.0))
    with pytest.raises(TypeError, match="values"):
        expand_like([1.0, 2.0, 3.0, 4.0], x)
    with pytest.raises(TypeError, match="x"):
        expand_like(torch.ones(4), np.ones((4, 2)))
    # Casting 0.5 to an integer x would silently truncate it to 0.
    for dtype in (torch.int64, torch.uint8, torch.bool):
        with pytest.raises(TypeError, match="x must be a floating"):
            expand_like(torch.full((4,), 0.5), torch.ones(4, 2, dtype=dtype))


def test_count_parameters_trainable_and_all():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    assert count_parameters(model) == (3 * 4 + 4) + (4 * 2 + 2)
    model[0].requires_grad_(False)
    assert count_parameters(model) == 4 * 2 + 2
    assert count_parameters(model, trainable_only=False) == 16 + 10


def test_count_parameters_rejects_bad_input():
    with pytest.raises(TypeError, match="model"):
        count_parameters([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(TypeError, match="trainable_only"):
        count_parameters(torch.nn.Linear(2, 2), trainable_only="yes")


def test_call_model_passes_labels_only_when_given():
    calls = []

    def unconditional(x, t):
        calls.append((x, t))
        return x + t

    def conditional(x, t, labels):
        return x + t + labels

    x, t, y = torch.ones(2), torch.full((2,), 2.0), torch.tensor([3, 4])
    torch.testing.assert_close(call_model(unconditional, x, t), x + t)
    assert len(calls) == 1
    torch.testing.assert_close(call_model(conditional, x, t, y), x + t + y)
    with pytest.raises(TypeError):
        # a labelled call to a network without a labels argument fails loudly
        call_model(unconditional, x, t, y)


def test_eval_mode_switches_modes_and_restores_each_flag():
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.Dropout(0.5), torch.nn.BatchNorm1d(2)
    )
    model.train()
    model[2].eval()  # a submodule deliberately left in eval mode
    before = [m.training for m in model.modules()]
    x = torch.randn(64, 2)
    with eval_mode(model) as m:
        assert m is model
        assert not any(module.training for module in model.modules())
        # dropout is off: two passes agree exactly
        assert torch.equal(model(x), model(x))
    assert [m.training for m in model.modules()] == before
    assert torch.is_grad_enabled()


def test_eval_mode_lets_gradients_flow():
    """A GAN generator step through D in eval mode must still reach G's weights."""
    G = torch.nn.Linear(3, 2)
    D = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Dropout(0.5))
    z = torch.randn(5, 3)
    with eval_mode(D):
        loss = -D(G(z)).sum()
        assert loss.requires_grad
    loss.backward()
    assert G.weight.grad is not None and G.weight.grad.abs().sum() > 0
    # and the gradient equals the one of D without dropout (eval mode), by hand
    W, b = D[0].weight, D[0].bias
    expected = torch.autograd.grad(-(G(z) @ W.T + b).sum(), G.weight)[0]
    torch.testing.assert_close(G.weight.grad, expected)


def test_eval_mode_restores_flags_after_exception():
    model = torch.nn.Linear(2, 2).train()
    with pytest.raises(RuntimeError, match="boom"), eval_mode(model):
        raise RuntimeError("boom")
    assert model.training and torch.is_grad_enabled()


def test_eval_mode_rejects_non_module():
    with pytest.raises(TypeError, match="model"):
        eval_mode("model")


def test_randn_is_standard_normal_and_reproducible():
    g = torch.Generator().manual_seed(5)
    eps = randn((100_000,), generator=g)
    assert eps.dtype == torch.float32 and eps.device.type == "cpu"
    # the same numbers as torch.randn with the same generator state
    torch.testing.assert_close(
        eps, torch.randn(100_000, generator=torch.Generator().manual_seed(5))
    )
    # moments of N(0, 1): standard errors 1/sqrt(n) and sqrt(2/n)
    assert abs(eps.mean().item()) < 5 / 100_000**0.5
    assert abs(eps.var().item() - 1) < 5 * (2 / 100_000) ** 0.5
    x = randn([2, 3], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert x.shape == (2, 3) and x.dtype == torch.float64


# randn and rand share one drawing helper; each is checked against its torch twin
DRAWS = pytest.mark.parametrize(
    "draw, torch_draw",
    [(randn, torch.randn), (rand, torch.rand)],
    ids=["randn", "rand"],
)


@DRAWS
def test_draw_on_the_generator_device_then_move(draw, torch_draw):
    # meta stands in for an accelerator: the numbers come from the CPU generator
    g = torch.Generator().manual_seed(0)
    out = draw((4,), generator=g, device="meta")
    assert out.is_meta and out.shape == (4,)
    # the draw advanced the CPU generator exactly as a CPU draw would
    h = torch.Generator().manual_seed(0)
    torch_draw(4, generator=h)
    assert torch.equal(g.get_state(), h.get_state())


@DRAWS
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_draw_with_a_cpu_generator_for_cuda_data(draw, torch_draw):
    g = seed_everything(0)
    on_gpu = draw((3, 4), generator=g, device="cuda")
    assert on_gpu.device.type == "cuda"
    expected = torch_draw(3, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(on_gpu.cpu(), expected)
    g_cuda = torch.Generator(device="cuda").manual_seed(0)
    assert draw((3,), generator=g_cuda).device.type == "cuda"
    assert draw((3,), generator=g_cuda, device="cpu").device.type == "cpu"


@DRAWS
def test_draw_rejects_bad_input(draw, torch_draw):
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        draw((2,), generator=0)
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        draw(3)
    with pytest.raises(TypeError, match="shape entries must be an int"):
        draw((2.0,))
    with pytest.raises(ValueError, match="shape entries must be an int >= 0"):
        draw((-1,))
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        draw((2,), dtype=torch.int64)
    with pytest.raises(ValueError, match="device must name a device"):
        draw((2,), device="gpu")


@DRAWS
def test_draw_refuses_float64_for_an_mps_target_with_a_cpu_generator(draw, torch_draw):
    # the check looks at where the noise goes, not only at the generator
    with pytest.raises(TypeError, match="float64 .* mps"):
        draw((2,), generator=torch.Generator(), device="mps", dtype=torch.float64)


@DRAWS
def test_draw_without_generator_draws_on_the_target_device(draw, torch_draw):
    torch.manual_seed(3)
    expected = torch_draw(5)
    torch.manual_seed(3)
    torch.testing.assert_close(draw((5,)), expected)
    # meta stands in for an accelerator: nothing is drawn on the CPU, the CPU
    # generator's state is untouched
    state = torch.random.get_rng_state()
    assert draw((4,), device="meta").is_meta
    assert torch.equal(torch.random.get_rng_state(), state)


def test_rand_is_uniform_and_reproducible():
    g = torch.Generator().manual_seed(5)
    u = rand((100_000,), generator=g)
    assert u.dtype == torch.float32 and u.device.type == "cpu"
    # the same numbers as torch.rand with the same generator state
    torch.testing.assert_close(
        u, torch.rand(100_000, generator=torch.Generator().manual_seed(5))
    )
    # U[0, 1): mean 1/2 and variance 1/12, standard errors sqrt(1/12n), sqrt(1/180n)
    assert ((u >= 0) & (u < 1)).all()
    assert abs(u.mean().item() - 0.5) < 5 * (1 / (12 * 100_000)) ** 0.5
    assert abs(u.var().item() - 1 / 12) < 5 * (1 / (180 * 100_000)) ** 0.5
    # a tenth of the draws in each tenth of [0, 1): binomial standard error
    counts = torch.histc(u, bins=10, min=0, max=1)
    assert ((counts - 10_000).abs() < 5 * (100_000 * 0.1 * 0.9) ** 0.5).all()
    x = rand([2, 3], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert x.shape == (2, 3) and x.dtype == torch.float64
    assert ((x >= 0) & (x < 1)).all()


def test_book_file_reads_the_checkout(tmp_path):
    from gentorch.utils import book_file

    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "x.json").write_bytes(b'{"a": 1}')
    assert book_file("benchmarks/results/x.json", root=tmp_path) == b'{"a": 1}'
    # the repository's own results, from the tests' folder
    root = Path(__file__).resolve().parents[1]
    text = book_file("benchmarks/results/arm_digits.json", root=root)
    assert json.loads(text)["test_nll_nats"] > 0


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "../secret", "benchmarks/../../x", "a\\b"]
)
def test_book_file_rejects_paths_outside_the_repository(path):
    from gentorch.utils import book_file

    with pytest.raises(ValueError, match="relative path inside the repository"):
        book_file(path)


def test_book_file_bad_types():
    from gentorch.utils import book_file

    with pytest.raises(TypeError, match="path must be a str"):
        book_file(Path("x"))
    with pytest.raises(ValueError, match="timeout"):
        book_file("x.json", timeout=0)
