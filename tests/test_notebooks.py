"""Structure of the book: committed notebooks, the table of contents, the Colab cell.

These checks are static (no execution); `make test` executes the chapters under nbval.
"""

from __future__ import annotations

import ast
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
def test_equation_labels_follow_the_closing_dollars(path):
    """MyST reads ``$$ ... $$ (eq-label)``; a label on the opening ``$$`` line leaves
    the whole display as raw text on the page."""
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        inside = False
        for line in source(cell).splitlines():
            if line.strip().startswith("$$"):
                if not inside:
                    assert line.strip() == "$$", (
                        f"{path.name}: display opens with {line!r}"
                    )
                inside = not inside


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
    """Every GitHub URL of this book's repository (raw files included) equals the one
    in _config.yml."""
    owner_repo = REPO_URL.removeprefix("https://github.com/")
    pattern = re.compile(r"(?:github|raw\.githubusercontent)\.com/([\w.-]+/[\w.-]+)")
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


# -- the chapter pattern (CHAPTER.md), checked on the code itself ----------------------
def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def parse(cell: dict) -> ast.Module:
    # IPython magics and shell escapes are not Python
    text = re.sub(r"^\s*[%!].*$", "", source(cell), flags=re.M)
    return ast.parse(text)


def top_level_names(tree: ast.Module) -> set[str]:
    """Names a cell defines for later cells: functions, classes, assignments."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def free_names(tree: ast.Module) -> set[str]:
    """Names a cell reads but binds nowhere (no assignment, argument or def)."""
    loads, bound = set(), set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            bound.add(n.name)
    return loads - bound


def hidden_names_used_later(nb: dict) -> list[str]:
    """Uses of a name whose latest definition sits in a remove-input cell."""
    problems, defined_in = [], {}
    for i, cell in enumerate(code_cells(nb)):
        tree = parse(cell)
        for name in sorted(free_names(tree)):
            if defined_in.get(name) is not None:
                problems.append(
                    f"code cell {i} uses {name!r}, defined in remove-input cell "
                    f"{defined_in[name]} that readers cannot see (use hide-input)"
                )
        hidden = "remove-input" in tags(cell)
        for name in top_level_names(tree):
            defined_in[name] = i if hidden else None
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_cell_uses_what_a_remove_input_cell_defined(path):
    assert hidden_names_used_later(load(path)) == []


def test_the_remove_input_check_catches_a_hidden_helper():
    def cell(text, *cell_tags):
        return {
            "cell_type": "code",
            "source": [text],
            "metadata": {"tags": list(cell_tags)},
        }

    nb = {
        "cells": [
            cell("def helper(x):\n    return x\n", "remove-input"),
            cell("helper(1)"),
        ]
    }
    assert "uses 'helper'" in hidden_names_used_later(nb)[0]
    nb["cells"][0]["metadata"]["tags"] = ["hide-input"]
    assert hidden_names_used_later(nb) == []
    # a visible redefinition in between makes the later use fine
    nb["cells"][0]["metadata"]["tags"] = ["remove-input"]
    nb["cells"].insert(1, cell("def helper(x):\n    return 2 * x\n"))
    assert hidden_names_used_later(nb) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_cells_are_short_and_fit_the_page(path):
    for i, cell in enumerate(code_cells(load(path))):
        lines = source(cell).splitlines()
        assert len(lines) <= 40, f"code cell {i} has {len(lines)} lines (split it)"
        if "remove-cell" in tags(cell):
            continue
        wide = [line for line in lines if len(line) > 80]
        assert not wide, f"code cell {i}: lines over 80 columns scroll: {wide}"


def asserts_in(tree: ast.AST) -> list[ast.AST]:
    """assert statements and torch.testing.assert_close calls (code, not comments)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.append(node)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
            "assert_close"
        ):
            found.append(node)
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_asserts_in_code(path):
    trees = [parse(c) for c in code_cells(load(path))]
    statements = [n for t in trees for n in asserts_in(t) if isinstance(n, ast.Assert)]
    closes = [n for t in trees for n in asserts_in(t) if isinstance(n, ast.Call)]
    assert statements, "no assert statement in the chapter's code"
    assert closes, "no torch.testing.assert_close in the chapter's code"


def test_assertion_check_ignores_comments_and_strings():
    tree = ast.parse("# assert this\nx = 'assert_close'\n")
    assert asserts_in(tree) == []
    tree = ast.parse("assert x > 0\ntorch.testing.assert_close(a, b)\n")
    assert len(asserts_in(tree)) == 2


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_training_cell_ends_with_an_assertion(path):
    for i, cell in enumerate(code_cells(load(path))):
        tree = parse(cell)
        trains = [
            n
            for n in tree.body
            if "train_loop(" in ast.unparse(n) and not isinstance(n, ast.FunctionDef)
        ]
        if trains:
            after = tree.body[tree.body.index(trains[-1]) + 1 :]
            assert any(asserts_in(n) for n in after), (
                f"code cell {i} trains but asserts nothing afterwards"
            )


LITERALINCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\n((?::[\w-]+:.*\n)*)")


def literalinclude_problems(markdown: str, base: Path) -> list[str]:
    problems = []
    for target, options in LITERALINCLUDE.findall(markdown):
        path = (base / target).resolve()
        if not path.is_file():
            problems.append(f"{target}: no such file")
            continue
        text = path.read_text()
        opts = dict(re.findall(r":([\w-]+):\s*(.*)", options))
        if "pyobject" in opts:
            found = None
            for node in ast.walk(ast.parse(text)):
                name = getattr(node, "name", None)
                if name == opts["pyobject"].split(".")[-1] and isinstance(
                    node, ast.FunctionDef | ast.ClassDef
                ):
                    found = node
            if found is None:
                problems.append(f"{target}: no object {opts['pyobject']!r}")
                continue
            lines = text.splitlines()
            start = found.lineno - 1 - len(found.decorator_list)
            text = "\n".join(lines[start : found.end_lineno])
        for key in ("start-at", "start-after", "end-at", "end-before"):
            if key in opts and opts[key].strip() not in text:
                problems.append(f"{target}: {key} {opts[key]!r} not found")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_literalincludes_point_at_existing_code(path):
    nb = load(path)
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert literalinclude_problems(markdown, path.parent) == []


def test_literalinclude_check_catches_broken_references():
    base = ROOT / "chapters"
    good = (
        "```{literalinclude} ../gentorch/utils.py\n"
        ":pyobject: randn\n:end-at: return\n```"
    )
    assert literalinclude_problems(good, base) == []
    for broken, message in [
        (good.replace("utils.py", "nothere.py"), "no such file"),
        (good.replace("randn", "no_such_function"), "no object"),
        (good.replace(":end-at: return", ":end-at: no such line"), "end-at"),
    ]:
        assert message in " ".join(literalinclude_problems(broken, base))
