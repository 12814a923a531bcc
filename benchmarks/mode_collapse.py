"""The mode-collapse benchmark: every method on ring and grid, beside the papers' rows.

Each run trains one method of `gentorch.mode_collapse` on one dataset for a fixed
budget (--steps generator steps, or --budget-seconds of wall time), then scores 2,500
samples of its EMA generator with `gentorch.metrics.mode_coverage` (Lin et al. 2018's
protocol). The script prints, per method and dataset, mean +- std over the seeds of
modes, HQ fraction, reverse KL and seconds per run, beside the published anchors, and
writes every run to JSON ({"results": [{"method", "dataset", "seed", "modes",
"hq_fraction", "reverse_kl", "seconds"}, ...]}, plus the recipe and budget). It
measures; it asserts nothing (the targets are in issue 14 and the README).

Usage:
    .venv/bin/python benchmarks/mode_collapse.py [--seeds 3] [--methods gan pacgan2]
        [--datasets ring grid] [--steps 20000 | --budget-seconds 120] [--jobs 2]
        [--json benchmarks/results/mode_collapse.json]

Runs go --jobs at a time in worker processes of one thread each (2 on the book's
2-core machine); the default (8 methods x 2 datasets x 3 seeds, 20,000 steps) takes
about 45 minutes there.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch
from tqdm.auto import tqdm

from gentorch import mode_collapse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "mode_collapse.json"

#: published rows (means over trials): (modes, HQ %, reverse KL or None)
ANCHORS = {
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


def one_run(method: str, dataset: str, seed: int, steps, budget_seconds) -> dict:
    """Train and score one run in this (worker) process, on one thread."""
    torch.set_num_threads(1)
    run = mode_collapse.train(
        method, dataset, steps=steps, budget_seconds=budget_seconds, seed=seed
    )
    return {
        "method": method,
        "dataset": dataset,
        "seed": seed,
        "modes": run.coverage.modes,
        "hq_fraction": run.coverage.hq_fraction,
        "reverse_kl": run.coverage.reverse_kl,
        "seconds": run.seconds,
        "steps": run.steps,
    }


def _mean_std(values: list[float], digits: int) -> str:
    if any(math.isinf(v) for v in values):
        return "inf"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


def table(results: list[dict]) -> str:
    """Mean ± std per method and dataset, then the published anchors."""
    lines = []
    for dataset in ("ring", "grid"):
        rows = [r for r in results if r["dataset"] == dataset]
        if not rows:
            continue
        lines += [
            f"\n{dataset} ({len(mode_collapse.DATASETS[dataset].centers)} modes)",
            f"{'method':<34}{'modes':>14}{'HQ %':>14}{'reverse KL':>16}{'s/run':>12}",
        ]
        for method in dict.fromkeys(r["method"] for r in rows):
            runs = [r for r in rows if r["method"] == method]
            lines.append(
                f"{method + f' (this book, {len(runs)} seeds)':<34}"
                f"{_mean_std([r['modes'] for r in runs], 1):>14}"
                f"{_mean_std([100 * r['hq_fraction'] for r in runs], 1):>14}"
                f"{_mean_std([r['reverse_kl'] for r in runs], 3):>16}"
                f"{_mean_std([r['seconds'] for r in runs], 0):>12}"
            )
        for name, modes, hq, rkl in ANCHORS[dataset]:
            rkl = "-" if rkl is None else f"{rkl:.2f}"
            lines.append(f"{name:<34}{modes:>14}{hq:>14}{rkl:>16}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument(
        "--methods", nargs="+", default=list(mode_collapse.METHODS),
        choices=mode_collapse.METHODS,
    )  # fmt: skip
    parser.add_argument(
        "--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"]
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="generator steps (default 20000)")
    budget.add_argument("--budget-seconds", type=float, help="wall time per run")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args()
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be >= 1")
    steps = args.steps if args.steps or args.budget_seconds else 20_000
    jobs = [
        (method, dataset, seed, steps, args.budget_seconds)
        for dataset in args.datasets
        for method in args.methods
        for seed in range(args.seeds)
    ]
    results = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_run, *job) for job in jobs]
        for future in tqdm(as_completed(futures), total=len(futures), desc="runs"):
            results.append(future.result())
    order = {job[:3]: i for i, job in enumerate(jobs)}
    results.sort(key=lambda r: order[r["method"], r["dataset"], r["seed"]])
    recipe = dataclasses.asdict(mode_collapse.Recipe())
    print(
        f"\nrecipe: {recipe}\nbudget: "
        + (f"{steps} generator steps" if steps else f"{args.budget_seconds} s")
        + f" per run, {args.jobs} runs at a time, one thread each"
    )
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "results": results,
        "recipe": recipe,
        "budget": {"steps": steps, "budget_seconds": args.budget_seconds},
        "machine": {
            "cpu_count": os.cpu_count(),
            "jobs": args.jobs,
            "platform": platform.platform(),
            "torch": torch.__version__,
        },
    }
    args.json.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
