"""`import gentorch` keeps the promise of its docstring: no side effects on import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

# Runs in a fresh interpreter. gentorch's own dependencies are imported first, so that
# only what gentorch itself does on import is measured (pyplot, for one, resolves its
# backend when imported).
PROBE = textwrap.dedent(
    """
    import json, os, random, sys
    import matplotlib, matplotlib.pyplot, numpy as np, torch, ipywidgets, tqdm.auto

    def state():
        return {
            "rcParams": {k: repr(v) for k, v in matplotlib.rcParams.items()},
            "torch_rng": torch.random.get_rng_state().tolist(),
            "numpy_rng": repr(np.random.get_state()),
            "python_rng": repr(random.getstate()),
            "environ": dict(os.environ),
            "default_dtype": str(torch.get_default_dtype()),
            "threads": torch.get_num_threads(),
            "grad_enabled": torch.is_grad_enabled(),
        }

    before = state()
    exec(sys.argv[1])
    after = state()
    changed = sorted(k for k in before if before[k] != after[k])
    print(json.dumps(changed))
    """
)


def changed_by(statement: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, statement],
        capture_output=True,
        text=True,
        check=True,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_gentorch_changes_no_global_state():
    statement = (
        "import gentorch, gentorch.data.toy, gentorch.data.bundled, "
        "gentorch.data.images, gentorch.nets, gentorch.widgets"
    )
    assert changed_by(statement) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("import torch; torch.manual_seed(1)", ["torch_rng"]),
        ("import numpy; numpy.random.seed(1)", ["numpy_rng"]),
        ("import matplotlib; matplotlib.rcParams['lines.linewidth'] = 9", ["rcParams"]),
        ("import os; os.environ['GENTORCH_SMOKE'] = '1'", ["environ"]),
        ("import torch; torch.set_default_dtype(torch.float64)", ["default_dtype"]),
    ],
)
def test_the_probe_sees_each_kind_of_side_effect(statement, expected):
    assert changed_by(statement) == expected


def test_the_wheel_holds_every_module_and_the_classifier_weights(tmp_path):
    # what `pip install` from the repository (Colab's install cell) puts on disk:
    # every .py file of gentorch and its subpackages, and the shipped weights
    pytest.importorskip("setuptools")
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    # build from a copy, so that setuptools' build/ folder stays out of the checkout
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    shutil.copytree(
        root / "gentorch", source / "gentorch",
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(tmp_path), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("gentorch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        path.relative_to(root).as_posix()
        for path in (root / "gentorch").rglob("*")
        if path.suffix in (".py", ".pt") and "__pycache__" not in path.parts
    }
    assert "gentorch/metrics/digits_classifier.pt" in wanted
    assert wanted <= names, sorted(wanted - names)
