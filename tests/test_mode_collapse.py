"""gentorch.mode_collapse: the benchmark's datasets, methods and runs, checked against
the papers' definitions, brute force and closed forms; and the benchmark's JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gentorch import data, mode_collapse
from gentorch.gan import MinibatchStd

ROOT = Path(__file__).resolve().parents[1]


# every test here runs on one thread (conftest.one_thread)
pytestmark = pytest.mark.usefixtures("one_thread")


def test_datasets_are_the_papers_mixtures():
    ring, grid = mode_collapse.DATASETS["ring"], mode_collapse.DATASETS["grid"]
    angles = [2 * math.pi * k / 8 for k in range(8)]
    expected = torch.tensor([[math.cos(a), math.sin(a)] for a in angles])
    torch.testing.assert_close(ring.centers, expected)
    # eight distinct modes (the linspace(0, 2 pi, 8) bug would give seven)
    gaps = torch.cdist(ring.centers, ring.centers) + 9 * torch.eye(8)
    assert gaps.min() > 0.7
    assert sorted(map(tuple, grid.centers.tolist())) == [
        (float(a), float(b)) for a in range(-4, 5, 2) for b in range(-4, 5, 2)
    ]
    assert (ring.std, grid.std) == (0.01, 0.05)
    assert ring.sample is data.ring and grid.sample is data.grid


def test_players_change_only_the_discriminator():
    torch.manual_seed(0)
    linear_inputs = {}
    for method in mode_collapse.METHODS:
        G, D = mode_collapse.players(method)
        linears = [m for m in D.body.modules() if isinstance(m, torch.nn.Linear)]
        linear_inputs[method] = linears[0].in_features
        sn = [m for m in D.modules() if hasattr(m, "parametrizations")]
        assert bool(sn) == (method == "spectral_norm")
        assert any(isinstance(m, MinibatchStd) for m in D.modules()) == (
            method == "minibatch_std"
        )
        assert G(torch.randn(8, 2)).shape == (8, 2)
        assert D(torch.randn(8, 2)).shape == (8 // D.pack,)
    assert linear_inputs["pacgan2"] == 4 and linear_inputs["pacgan4"] == 8
    assert linear_inputs["gan"] == 2


def test_instance_noise_fades_linearly_to_zero():
    recipe = mode_collapse.Recipe(noise_start=0.2, noise_end=0.5)
    for p in (0.0, 0.1, 0.3, 0.5, 0.8, 1.0):
        expected = 0.2 * 3.0 * max(0.0, 1 - p / 0.5)
        assert math.isclose(mode_collapse.instance_noise_std(p, 3.0, recipe), expected)
    with pytest.raises(ValueError, match="progress"):
        mode_collapse.instance_noise_std(1.5, 3.0, recipe)


def test_reconstruction_loss_is_the_squared_error_summed_over_noise_dims():
    F = mode_collapse.reconstructor(mode_collapse.Recipe(latent_dim=3))
    fake, z = torch.randn(5, 2), torch.randn(5, 3)
    recovered = F(fake).detach().tolist()
    by_hand = torch.tensor(
        [
            sum((a - b) ** 2 for a, b in zip(zi, fi, strict=True))
            for zi, fi in zip(z.tolist(), recovered, strict=True)
        ]
    )
    torch.testing.assert_close(mode_collapse.reconstruction_loss(F, fake, z), by_hand)


def test_train_is_deterministic_and_keeps_the_snapshots_asked_for():
    kwargs = dict(steps=30, seed=3, snapshot_steps=(0, 10, 30), n_snapshot=50)
    first = mode_collapse.train("pacgan2", "ring", **kwargs)
    second = mode_collapse.train("pacgan2", "ring", **kwargs)
    assert first.coverage == second.coverage and first.steps == 30
    assert sorted(first.snapshots) == [0, 10, 30]
    for step, samples in first.snapshots.items():
        torch.testing.assert_close(samples, second.snapshots[step])
        assert samples.shape == (50, 2)
    assert not torch.equal(first.snapshots[0], first.snapshots[30])
    assert not any(p.requires_grad for p in first.G.parameters())


@pytest.mark.parametrize("method", mode_collapse.METHODS)
def test_every_method_trains_and_moves_its_generator(method):
    run = mode_collapse.train(
        method,
        "grid",
        steps=40,
        recipe=mode_collapse.Recipe(ema=0.0),
        snapshot_steps=(0, 40),
        n_snapshot=200,
    )
    before, after = run.snapshots[0], run.snapshots[40]
    # with ema=0 the scored generator is the trained one, which has moved
    assert (before - after).abs().max() > 1e-3
    assert torch.isfinite(after).all() and 0 <= run.coverage.hq_fraction <= 1


def test_ema_of_zero_scores_the_last_generator_and_ema_of_one_the_first():
    frozen = mode_collapse.train(
        "gan", "ring", steps=20, recipe=mode_collapse.Recipe(ema=1.0),
        snapshot_steps=(0, 20),
    )  # fmt: skip
    torch.testing.assert_close(frozen.snapshots[0], frozen.snapshots[20])


def test_budget_seconds_stops_on_time():
    run = mode_collapse.train("gan", "ring", budget_seconds=0.5)
    assert run.steps >= 1 and 0.5 <= run.seconds < 3.0


def test_train_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        mode_collapse.train("gans", "ring", steps=1)
    with pytest.raises(ValueError, match="dataset"):
        mode_collapse.train("gan", "circle", steps=1)
    with pytest.raises(ValueError, match="exactly one of steps and budget_seconds"):
        mode_collapse.train("gan", "ring")
    with pytest.raises(ValueError, match="exactly one of steps and budget_seconds"):
        mode_collapse.train("gan", "ring", steps=5, budget_seconds=1.0)
    with pytest.raises(ValueError, match="steps"):
        mode_collapse.train("gan", "ring", steps=0)
    with pytest.raises(ValueError, match="method"):
        mode_collapse.players("wgan")


def test_table_reports_mean_and_std_over_seeds_beside_the_anchors():
    rows = [
        dict(method="gan", dataset="grid", seed=s, modes=m, hq_fraction=h,
             reverse_kl=r, seconds=10.0)
        for s, (m, h, r) in enumerate([(20, 0.9, 0.1), (22, 0.8, 0.3)])
    ]  # fmt: skip
    text = mode_collapse.table(rows)
    assert "21.0 ± 1.4" in text and "85.0 ± 7.1" in text and "0.200 ± 0.141" in text
    assert "PacGAN Table 1: PacGAN4" in text and "24.8" in text
    assert "ring" not in text.split("grid")[0]


def test_benchmark_script_writes_the_promised_json(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "mode_collapse.py"), "--seeds",
         "2", "--steps", "5", "--methods", "gan", "pacgan2", "--datasets", "ring",
         "--jobs", "1", "--json", str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    results = json.loads(out.read_text())["results"]
    assert len(results) == 4
    types = dict(method=str, dataset=str, seed=int, modes=int, hq_fraction=float,
                 reverse_kl=float, seconds=float)  # fmt: skip
    for row in results:
        for key, kind in types.items():
            assert isinstance(row[key], kind), key
    assert {(r["method"], r["seed"]) for r in results} == {
        (m, s) for m in ("gan", "pacgan2") for s in (0, 1)
    }
    snapshots = torch.load(tmp_path / "bench_snapshots.pt", weights_only=True)
    assert set(snapshots) == {"gan/ring", "pacgan2/ring"}
