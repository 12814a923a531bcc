"""The mode-collapse benchmark of the GAN papers: ring and grid, the cures, one run.

The protocol of Srivastava et al. (2017, VEEGAN) and Lin et al. (2018, PacGAN): a GAN
learns a mixture of 8 Gaussians on a ring (std 0.01) or 25 on a grid (std 0.05), and
2,500 of its samples are scored by `gentorch.metrics.mode_coverage`. `METHODS` names
the cures; `players` builds a method's generator and discriminator; `train` is one
run, its loop written out: Algorithm 1 of Goodfellow et al. (2014) plus the switches
each cure needs (packing and the minibatch-std feature live in the discriminator,
WGAN-GP in the loss, instance noise and the reconstruction term in the loop). Every
method shares one `Recipe` (networks, optimiser, EMA of G, learning-rate decay), so
the methods differ only in their cure.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

import torch
from torch import nn
from tqdm.auto import tqdm

from gentorch._checks import check_choice, check_int, check_number
from gentorch.data import grid, grid_centers, ring, ring_centers
from gentorch.gan import (
    MLPDiscriminator,
    MLPGenerator,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    spectral_normalize,
)
from gentorch.metrics import ModeCoverage, mode_coverage
from gentorch.nets import MLP
from gentorch.utils import randn

__all__ = [
    "ANCHORS",
    "DATASETS",
    "METHODS",
    "Benchmark",
    "Recipe",
    "Run",
    "instance_noise_std",
    "players",
    "reconstruction_loss",
    "reconstructor",
    "table",
    "train",
]

Method = Literal[
    "gan",
    "pacgan2",
    "pacgan4",
    "minibatch_std",
    "wgan_gp",
    "spectral_norm",
    "veegan",
    "instance_noise",
]
#: the methods of the benchmark, the vanilla GAN first
METHODS: tuple[str, ...] = get_args(Method)


class Benchmark(NamedTuple):
    """One dataset of the benchmark: its centres, its std and a sampler."""

    name: str
    centers: torch.Tensor
    std: float
    sample: Callable[..., torch.Tensor]


#: ring: 8 modes on the unit circle, std 0.01; grid: 25 modes on {-4,...,4}^2, std 0.05
DATASETS: dict[str, Benchmark] = {
    "ring": Benchmark("ring", ring_centers(), 0.01, ring),
    "grid": Benchmark("grid", grid_centers(), 0.05, grid),
}


#: published rows, means over trials: (source, modes, HQ %, reverse KL or None)
ANCHORS: dict[str, list[tuple[str, float, float, float | None]]] = {
    "grid": [
        ("PacGAN Table 1: GAN", 17.3, 94.8, 0.70),
        ("PacGAN Table 1: ALI", 24.1, 95.7, 0.14),
        ("PacGAN Table 1: PacGAN2", 23.8, 91.3, 0.13),
        ("PacGAN Table 1: PacGAN3", 24.6, 94.2, 0.06),
        ("PacGAN Table 1: PacGAN4", 24.8, 93.6, 0.04),
        ("VEEGAN Table 1: GAN", 3.3, 0.5, None),
        ("VEEGAN Table 1: Unrolled GAN", 23.6, 16.0, None),
        ("VEEGAN Table 1: VEEGAN", 24.6, 40.0, None),
        ("GDPP Table 1: WGAN-GP", 24.2, 28.7, None),
        ("GDPP Table 1: GDPP", 24.8, 68.5, None),
    ],
    "ring": [
        ("PacGAN Table 1: GAN", 6.3, 98.2, 0.45),
        ("PacGAN Table 1: ALI", 6.6, 97.6, 0.36),
        ("PacGAN Table 1: PacGAN2", 7.9, 95.6, 0.07),
        ("PacGAN Table 1: PacGAN3", 7.8, 97.7, 0.10),
        ("PacGAN Table 1: PacGAN4", 7.8, 95.9, 0.07),
        ("VEEGAN Table 1: GAN", 1.0, 99.3, None),
        ("VEEGAN Table 1: Unrolled GAN", 7.6, 35.6, None),
        ("VEEGAN Table 1: VEEGAN", 8.0, 52.9, None),
        ("GDPP Table 1: WGAN-GP", 6.8, 59.6, None),
        ("GDPP Table 1: GDPP", 8.0, 71.7, None),
    ],
}


@dataclass(frozen=True)
class Recipe:
    """What every method shares: networks, optimiser and the cures' settings."""

    #: size of the noise z
    latent_dim: int = 2
    #: hidden units per layer and number of hidden layers, G and D alike
    width: int = 128
    depth: int = 3
    #: real examples per step (and as many fakes)
    batch_size: int = 256
    #: Adam's learning rate and betas, G and D alike
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    #: decay of the exponential moving average of G's weights that is scored
    ema: float = 0.999
    #: fraction of training after which both learning rates decay linearly to 0
    decay_start: float = 0.5
    #: weight of WGAN-GP's gradient penalty
    gp_weight: float = 10.0
    #: instance noise: start std as a fraction of the data's std, and the fraction
    #: of training over which it decays linearly to 0
    noise_start: float = 0.2
    noise_end: float = 0.5
    #: VEEGAN-style reconstruction: weight of ||z - F(G(z))||^2 in G's loss
    recon_weight: float = 1.0


class Run(NamedTuple):
    """What `train` returns."""

    #: `mode_coverage` of `n_eval` samples of the EMA generator after training
    coverage: ModeCoverage
    #: wall-clock seconds of training (evaluation excluded)
    seconds: float
    #: generator steps taken
    steps: int
    #: the EMA generator after training
    G: nn.Module
    #: {step: samples (n_snapshot, 2) of the EMA generator on fixed noise}
    snapshots: dict[int, torch.Tensor]


def players(method: str, recipe: Recipe | None = None) -> tuple[nn.Module, nn.Module]:
    """A method's fresh generator and discriminator for 2-D data.

    G and D are MLPs of `recipe.depth` hidden layers of `recipe.width` units. The
    method changes D only: ``pacgan2`` and ``pacgan4`` pack 2 or 4 examples,
    ``minibatch_std`` appends the batch's spread, ``spectral_norm`` normalises every
    layer. `recipe` defaults to ``Recipe()``.

    Returns:
        ``(G, D)`` on the CPU in float32.
    """
    check_choice("method", method, METHODS)
    recipe = Recipe() if recipe is None else recipe
    hidden = (recipe.width,) * recipe.depth
    G = MLPGenerator(recipe.latent_dim, (2,), hidden=hidden)
    pack = {"pacgan2": 2, "pacgan4": 4}.get(method, 1)
    D = MLPDiscriminator(
        (2,), hidden=hidden, pack=pack, minibatch_std=method == "minibatch_std"
    )
    if method == "spectral_norm":
        spectral_normalize(D)
    return G, D


def instance_noise_std(progress: float, data_std: float, recipe: Recipe) -> float:
    """Std of the instance noise at a fraction `progress` of training.

    sigma(p) = noise_start * data_std * max(0, 1 - p / noise_end): both real and fake
    examples are blurred by N(0, sigma^2 I) before D sees them (Sonderby et al. 2017;
    chapter 2), so the two distributions overlap and D's gradient reaches every mode;
    the blur fades out so that the generator ends sharp.
    """
    progress = check_number("progress", progress, low=0.0, high=1.0)
    return recipe.noise_start * data_std * max(0.0, 1 - progress / recipe.noise_end)


def reconstructor(recipe: Recipe | None = None) -> nn.Module:
    """VEEGAN's reconstructor F: data -> noise, an MLP shaped like the generator.

    Trained with G on `reconstruction_loss`, it makes G invertible on its samples
    (Srivastava et al. 2017): a generator that maps many codes z to one mode cannot be
    inverted there, so collapse costs reconstruction error. (VEEGAN's discriminator
    also sees the pairs (z, x); here D stays the benchmark's D.)
    """
    recipe = Recipe() if recipe is None else recipe
    return MLP(2, recipe.latent_dim, hidden=(recipe.width,) * recipe.depth)


def reconstruction_loss(
    F: nn.Module, fake: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """||z - F(G(z))||^2 per example, summed over the noise dimensions: shape (B,).

    Args:
        F: the reconstructor.
        fake: G(z), with its graph, shape (B, 2).
        z: the noise that made `fake`, shape (B, latent_dim).
    """
    return (z - F(fake)).pow(2).sum(dim=1)


def train(
    method: str,
    dataset: Literal["ring", "grid"],
    *,
    steps: int | None = None,
    budget_seconds: float | None = None,
    seed: int = 0,
    recipe: Recipe | None = None,
    snapshot_steps: Iterable[int] = (),
    n_snapshot: int = 1000,
    n_eval: int = 2500,
    progress: bool = False,
) -> Run:
    """Train one method on one dataset and score it, for `steps` generator steps or
    `budget_seconds` of wall-clock time (exactly one of the two).

    Progress p runs from 0 to 1 (steps done / `steps`, or time spent / budget); the
    learning rates decay linearly to 0 over p in [decay_start, 1] and the instance
    noise over p in [0, noise_end]. The scored generator is the EMA of G's weights.
    Runs on the CPU, in float32: the networks are small, and the benchmark's numbers
    are CPU numbers.

    Args:
        method: one of `METHODS`.
        dataset: ``"ring"`` or ``"grid"``.
        steps: generator steps (one D step each).
        budget_seconds: wall-clock budget instead of `steps`.
        seed: seeds the networks' initialisation and every draw of the run.
        recipe: the shared settings (default ``Recipe()``).
        snapshot_steps: steps at which to keep `n_snapshot` EMA samples (0 = start).
        n_snapshot: samples per snapshot, drawn from one fixed noise batch.
        n_eval: samples scored at the end (2,500 in the papers).
        progress: show a tqdm progress bar.

    Returns:
        `Run(coverage, seconds, steps, G, snapshots)`.
    """
    check_choice("method", method, METHODS)
    check_choice("dataset", dataset, tuple(DATASETS))
    if (steps is None) == (budget_seconds is None):
        raise ValueError("give exactly one of steps and budget_seconds")
    if steps is not None:
        steps = check_int("steps", steps, minimum=1)
    else:
        budget_seconds = check_number(
            "budget_seconds", budget_seconds, low=0, low_open=True
        )
    seed = check_int("seed", seed, minimum=0)
    recipe = Recipe() if recipe is None else recipe
    data = DATASETS[dataset]
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        G, D = players(method, recipe)
    G_ema = copy.deepcopy(G).requires_grad_(False)
    trained = list(G.parameters())
    if method == "veegan":
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            F = reconstructor(recipe)
        trained += list(F.parameters())
    opt_G = torch.optim.Adam(trained, lr=recipe.lr, betas=recipe.betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=recipe.lr, betas=recipe.betas)
    kind = "wasserstein" if method == "wgan_gp" else "standard"
    g_kind = "wasserstein" if method == "wgan_gp" else "non_saturating"
    data_std = data.sample(10_000, generator=generator).std().item()
    z_fixed = randn((n_snapshot, recipe.latent_dim), generator=generator)
    keep = set(snapshot_steps)
    snapshots = {}
    bar = tqdm(total=steps or budget_seconds, disable=not progress, leave=False)
    start, step, p = time.perf_counter(), 0, 0.0
    while p < 1:
        if step in keep:
            snapshots[step] = _samples(G_ema, z_fixed)
        # instance noise blurs both sides equally; 0 for every other method
        sigma = (
            instance_noise_std(p, data_std, recipe) if method == "instance_noise" else 0
        )
        batch = recipe.batch_size
        real = data.sample(batch, generator=generator)
        z = randn((batch, recipe.latent_dim), generator=generator)
        # 1. the discriminator's step, G fixed
        with torch.no_grad():
            fake = G(z)
        real_seen = real + sigma * randn(real.shape, generator=generator)
        fake_seen = fake + sigma * randn(fake.shape, generator=generator)
        loss_D = discriminator_loss(D(real_seen), D(fake_seen), kind=kind).mean()
        if method == "wgan_gp":
            penalty = gradient_penalty(D, real, fake, generator=generator)
            loss_D = loss_D + recipe.gp_weight * penalty.mean()
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        # 2. the generator's step, through D (D's parameters frozen)
        z = randn((batch, recipe.latent_dim), generator=generator)
        fake = G(z)
        fake_seen = fake + sigma * randn(fake.shape, generator=generator)
        D.requires_grad_(False)
        loss_G = generator_loss(D(fake_seen), kind=g_kind).mean()
        if method == "veegan":
            # F(G(z)) must recover z: G may not send two codes to one point
            loss_G = (
                loss_G + recipe.recon_weight * reconstruction_loss(F, fake, z).mean()
            )
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
        D.requires_grad_(True)
        # 3. the scored generator: a moving average of G's weights
        with torch.no_grad():
            for p_ema, p_G in zip(G_ema.parameters(), G.parameters(), strict=True):
                p_ema.lerp_(p_G, 1 - recipe.ema)
        step += 1
        elapsed = time.perf_counter() - start
        p = min(1.0, step / steps if steps else elapsed / budget_seconds)
        factor = min(1.0, (1 - p) / (1 - recipe.decay_start))
        for optimizer in (opt_G, opt_D):
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * factor
        bar.update(1 if steps else elapsed - bar.n)
    bar.close()
    seconds = time.perf_counter() - start
    if step in keep:
        snapshots[step] = _samples(G_ema, z_fixed)
    scored = _samples(G_ema, randn((n_eval, recipe.latent_dim), generator=generator))
    coverage = mode_coverage(scored, data.centers, data.std)
    return Run(coverage, seconds, step, G_ema, snapshots)


def _mean_std(values: list[float], digits: int) -> str:
    if any(math.isinf(v) for v in values):
        return "inf"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


def table(results: list[dict]) -> str:
    """The benchmark's table: mean ± std over seeds per method, then `ANCHORS`.

    Args:
        results: rows with keys method, dataset, seed, modes, hq_fraction,
            reverse_kl and seconds, as `benchmarks/mode_collapse.py` writes them.

    Returns:
        The table as text, the ring first, HQ in percent.
    """
    lines = []
    for dataset in DATASETS:
        rows = [r for r in results if r["dataset"] == dataset]
        if not rows:
            continue
        lines += [
            f"\n{dataset} ({len(DATASETS[dataset].centers)} modes)",
            f"{'method':<36}{'modes':>14}{'HQ %':>14}{'reverse KL':>16}{'s/run':>12}",
        ]
        for method in dict.fromkeys(r["method"] for r in rows):
            runs = [r for r in rows if r["method"] == method]
            lines.append(
                f"{method + f' (this book, {len(runs)} seeds)':<36}"
                f"{_mean_std([r['modes'] for r in runs], 1):>14}"
                f"{_mean_std([100 * r['hq_fraction'] for r in runs], 1):>14}"
                f"{_mean_std([r['reverse_kl'] for r in runs], 3):>16}"
                f"{_mean_std([r['seconds'] for r in runs], 0):>12}"
            )
        for name, modes, hq, rkl in ANCHORS[dataset]:
            rkl = "-" if rkl is None else f"{rkl:.2f}"
            lines.append(f"{name:<36}{modes:>14}{hq:>14}{rkl:>16}")
    return "\n".join(lines)


def _samples(G: nn.Module, z: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return G(z)
