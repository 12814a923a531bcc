"""What the likelihood benchmarks share: the mean over seeds, the table, the JSON."""

from __future__ import annotations

import json
import platform
import statistics
from pathlib import Path

import torch


def mean_over_seeds(runs: list[dict]) -> dict:
    """The mean of every number the runs report, except the seed."""
    keys = [key for key in runs[0] if key != "seed"]
    return {key: statistics.fmean(run[key] for run in runs) for key in keys}


def print_table(runs: list[dict], means: dict, columns: list[tuple]) -> None:
    """One row per seed (and the mean when there are several); `columns` lists
    (header, key, format) such as ("NLL nats", "test_nll_nats", ">9.2f")."""
    print(" ".join([f"{'seed':>6}"] + [f"{h:>{len(h) + 1}}" for h, _, _ in columns]))
    for run in [*runs, {"seed": "mean", **means}] if len(runs) > 1 else runs:
        cells = [f"{run[key]:{fmt}}".rjust(len(h) + 1) for h, key, fmt in columns]
        print(" ".join([f"{run['seed']:>6}"] + cells))


def write_json(path: Path, args, runs: list[dict], means: dict, **extra) -> None:
    """The means at the top level, then `extra`, the recipe (every command-line
    option but --json and --seed), each run, and the machine."""
    payload = {
        **means,
        **extra,
        "recipe": {k: v for k, v in vars(args).items() if k not in ("json", "seed")},
        "runs": runs,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {path}")
