"""Structure of the book: committed notebooks, the table of contents, the Colab cell.

These checks are static (no execution); `make test` executes the chapters under nbval.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
BIB = (ROOT / "book" / "references.bib").read_text()
# Packages Colab already has; the install cell must not name (and so swap) any of them.
COLAB_PACKAGES = ["torch", "numpy", "matplotlib", "ipywidgets", "scikit-learn", "tqdm"]


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def source(cell: dict) -> str:
    return "".join(cell["source"])


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for value in node.values():
            files += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += toc_files(item)
    return files


def test_there_is_at_least_one_chapter():
    assert CHAPTERS, "no notebooks under chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_name_pattern(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for cell in code_cells(load(path)):
        assert cell.get("outputs", []) == [], f"{path.name}: a code cell has outputs"
        assert cell.get("execution_count") is None, f"{path.name}: execution count set"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_imports_gentorch_and_reads_smoke_switch(path):
    cells = code_cells(load(path))
    setup = source(cells[1])
    assert "import gentorch as gt" in setup
    assert 'SMOKE = os.environ.get("GENTORCH_SMOKE") == "1"' in setup
    assert "gt.seed_everything(" in setup and "gt.get_device()" in setup
    later = "\n".join(source(c) for c in cells[2:])
    assert "os.environ" not in later, "only the setup cell reads the environment"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_is_the_hidden_colab_install(path):
    first = code_cells(load(path))[0]
    text = source(first)
    assert "remove-cell" in first["metadata"].get("tags", [])
    assert '"google.colab" in sys.modules' in text
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert len(installs) == 1, "exactly one pip install line"
    assert f"git+{REPO_URL}" in installs[0], (
        "install from the repository in _config.yml"
    )
    for package in COLAB_PACKAGES:
        assert not re.search(rf"\b{re.escape(package)}\b", installs[0]), package
    assert "enable_custom_widget_manager" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_is_in_the_toc(path):
    assert f"chapters/{path.stem}" in toc_files(TOC)


def test_every_toc_entry_exists():
    for entry in toc_files(TOC):
        candidates = [ROOT / f"{entry}{ext}" for ext in ("", ".md", ".ipynb")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists missing {entry}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_checks_and_exercises(path):
    nb = load(path)
    code = "\n".join(source(c) for c in code_cells(nb))
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "assert" in code and "torch.testing.assert_close" in code
    assert "gt.explore(" in code, "every chapter has an explorer"
    assert "## Exercises" in markdown and ":::{dropdown} Solution" in markdown
    assert "## Summary" in markdown and "New in gentorch" in markdown


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_citations_and_equation_labels_resolve(path):
    nb = load(path)
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    for keys in re.findall(r"\{cite(?::[tp])?\}`([^`]+)`", markdown):
        for key in keys.split(","):
            assert re.search(rf"@\w+\{{{re.escape(key.strip())},", BIB), key
    labels = set(re.findall(r"\$\$ \((eq-[\w-]+)\)", markdown))
    for ref in re.findall(r"\{eq\}`(eq-[\w-]+)`", markdown):
        assert ref in labels, f"{path.name}: {{eq}} reference to undefined {ref}"


def test_repository_url_lives_in_one_place():
    """Every GitHub URL of this book's repository equals the one in _config.yml."""
    owner_repo = REPO_URL.removeprefix("https://github.com/")
    pattern = re.compile(r"github\.com/([\w.-]+/[\w.-]+)")
    texts = [
        p for p in ROOT.rglob("*") if p.suffix in {".md", ".ipynb", ".toml", ".yml"}
    ]
    for path in texts:
        if any(part in {".venv", "_build", ".scratch"} for part in path.parts):
            continue
        for found in pattern.findall(path.read_text()):
            found = found.removesuffix(".git")
            if found.split("/")[0] == owner_repo.split("/")[0]:
                assert found == owner_repo, f"{path}: {found} != {owner_repo}"


def test_pyproject_declares_only_lower_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert not re.search(r"==|<|~=", requirement), requirement
        name = re.split(r"[<>=!~ ]", requirement)[0]
        assert ">=" in requirement, f"{name} needs a lower bound"
