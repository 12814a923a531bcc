"""Time every chapter end to end (smoke and full mode), and `make test` as CI runs it.

Targets (developers' guide): a chapter runs in <= 60 s in smoke mode and <= 4 min in
full mode on a 2-core CPU; `make test` from a fresh clone, set-up included, in <= 10
min. Full mode runs as `make book` does (GENTORCH_SITE=1: explorers pre-render their
frames). This script measures; it asserts nothing. It prints a table and writes JSON
to benchmarks/results/chapter_times.json.

Usage:
    .venv/bin/python benchmarks/chapter_times.py [--modes smoke full make-test] [NB ...]

`make-test` clones the repository's HEAD into a temporary folder and times `make test`
there, set-up (a new virtual environment) included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"smoke": 60.0, "full": 240.0, "make-test": 600.0}


def run(path: Path, mode: str) -> dict:
    """Execute one notebook in a fresh kernel and time it (kernel start included)."""
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("GENTORCH_SMOKE", None)
    env.pop("GENTORCH_SITE", None)
    if mode == "smoke":
        env["GENTORCH_SMOKE"] = "1"
    else:
        env["GENTORCH_SITE"] = "1"
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


def time_make_test() -> dict:
    """`make test` in a fresh clone of HEAD, as CI runs it (set-up included)."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENTORCH")}
        start = time.perf_counter()
        done = subprocess.run(
            ["make", "test"], cwd=clone, env=env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
    error = None
    if done.returncode != 0:
        error = f"exit {done.returncode}: {done.stdout.strip().splitlines()[-1][:200]}"
    return {
        "chapter": "make test (fresh clone, set-up included)",
        "mode": "make-test",
        "seconds": round(seconds, 2),
        "target_s": TARGETS_S["make-test"],
        "within_target": error is None and seconds <= TARGETS_S["make-test"],
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
    notebook_modes = [m for m in args.modes if m != "make-test"]
    rows = [run(path, mode) for path in chapters for mode in notebook_modes]
    if "make-test" in args.modes:
        rows.append(time_make_test())

    print(f"{'chapter':<42} {'mode':<9} {'seconds':>8} {'target':>7}  ok")
    for r in rows:
        ok = "yes" if r["within_target"] else "NO"
        note = f"  ({r['error']})" if r["error"] else ""
        print(
            f"{r['chapter']:<42} {r['mode']:<9} {r['seconds']:>8.1f} "
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
