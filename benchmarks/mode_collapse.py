"""The mode-collapse benchmark: every method on ring and grid, beside the papers' rows.

Each run trains one method of `gentorch.mode_collapse` on one dataset for a fixed
budget (--steps generator steps, or --budget-seconds of wall time), then scores 2,500
samples of its EMA generator with `gentorch.metrics.mode_coverage` (Lin et al. 2018's
protocol). The script prints, per method and dataset, mean +- std over the seeds of
modes, HQ fraction, reverse KL and seconds per run, beside the published anchors, and
writes every run to JSON ({"results": [{"method", "dataset", "seed", "modes",
"hq_fraction", "reverse_kl", "seconds"}, ...]}, plus the recipe and budget), and the
seed-0 runs' samples over training beside it (NAME_snapshots.pt, for chapter 4's
explorer). It measures; it asserts nothing (the targets are in the README).

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
import os
import platform
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch
from tqdm.auto import tqdm

from gentorch import mode_collapse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "mode_collapse.json"
#: snapshots of each seed-0 run kept for the chapter's explorer
SNAPSHOTS = 11


def one_run(method: str, dataset: str, seed: int, steps, budget_seconds):
    """Train and score one run in this (worker) process, on one thread.

    Seed 0 also keeps SNAPSHOTS snapshots of its EMA generator's samples over training
    (with --steps only: a time budget does not know its steps in advance).
    """
    torch.set_num_threads(1)
    keep = []
    if seed == 0 and steps:
        keep = torch.linspace(0, steps, SNAPSHOTS).round().int().tolist()
    run = mode_collapse.train(
        method,
        dataset,
        steps=steps,
        budget_seconds=budget_seconds,
        seed=seed,
        snapshot_steps=keep,
        n_snapshot=500,
    )
    return run.snapshots, {
        "method": method,
        "dataset": dataset,
        "seed": seed,
        "modes": run.coverage.modes,
        "hq_fraction": run.coverage.hq_fraction,
        "reverse_kl": run.coverage.reverse_kl,
        "seconds": run.seconds,
        "steps": run.steps,
    }


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
    results, snapshots = [], {}
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_run, *job) for job in jobs]
        for future in tqdm(as_completed(futures), total=len(futures), desc="runs"):
            kept, result = future.result()
            results.append(result)
            if kept:
                snapshots[f"{result['method']}/{result['dataset']}"] = kept
    order = {job[:3]: i for i, job in enumerate(jobs)}
    results.sort(key=lambda r: order[r["method"], r["dataset"], r["seed"]])
    recipe = dataclasses.asdict(mode_collapse.Recipe())
    print(
        f"\nrecipe: {recipe}\nbudget: "
        + (f"{steps} generator steps" if steps else f"{args.budget_seconds} s")
        + f" per run, {args.jobs} runs at a time, one thread each"
    )
    print(mode_collapse.table(results))
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
    if snapshots:
        # {"method/dataset": {step: (500, 2) float32 samples}}, for torch.load
        path = args.json.with_name(args.json.stem + "_snapshots.pt")
        torch.save(snapshots, path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
