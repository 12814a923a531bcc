"""Time every chapter end to end, in smoke mode and in full mode.

Targets (issue 2): a chapter runs in <= 30 s in smoke mode and <= 2 min in full mode on
a 2-core CPU. This script measures; it asserts nothing. It prints a table and writes
JSON to benchmarks/results/chapter_times.json.

Usage:
    .venv/bin/python benchmarks/chapter_times.py [--modes smoke full] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"smoke": 30.0, "full": 120.0}


def run(path: Path, mode: str) -> dict:
    """Execute one notebook in a fresh kernel and time it (kernel start included)."""
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("GENTORCH_SMOKE", None)
    if mode == "smoke":
        env["GENTORCH_SMOKE"] = "1"
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=env)
    except Exception as exc:  # report, don't hide: the table shows the failure
        error = f"{type(exc).__name__}: {str(exc).splitlines()[-1][:200]}"
    seconds = time.perf_counter() - start
    return {
        "chapter": path.name,
        "mode": mode,
        "seconds": round(seconds, 2),
        "target_s": TARGETS_S[mode],
        "within_target": error is None and seconds <= TARGETS_S[mode],
        "error": error,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument(
        "--modes", nargs="+", default=["smoke", "full"], choices=sorted(TARGETS_S)
    )
    args = parser.parse_args()
    chapters = args.chapters or sorted((ROOT / "chapters").glob("*.ipynb"))
    rows = [run(path, mode) for path in chapters for mode in args.modes]

    print(f"{'chapter':<40} {'mode':<6} {'seconds':>8} {'target':>7}  ok")
    for r in rows:
        ok = "yes" if r["within_target"] else "NO"
        note = f"  ({r['error']})" if r["error"] else ""
        print(
            f"{r['chapter']:<40} {r['mode']:<6} {r['seconds']:>8.1f} "
            f"{r['target_s']:>7.0f}  {ok}{note}"
        )
    machine = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "cuda": torch.cuda.is_available(),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "chapter_times.json").write_text(
        json.dumps({"machine": machine, "rows": rows}, indent=2)
    )
    print(json.dumps({"machine": machine, "rows": rows}))


if __name__ == "__main__":
    main()
