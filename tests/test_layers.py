"""gentorch's imports go one way, low to high, and never in a circle.

Layers (STYLE.md): private checks and utils -> data, nets, distributions, divergences
-> model modules -> metrics -> train (and mode_collapse, the benchmark's runs) -> plot
-> widgets -> the package's __init__.
Every import counts, including those inside functions and under TYPE_CHECKING: an
import written inside a function to dodge a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gentorch"

LAYERS = [
    {"_checks"},
    {"utils"},
    {"data", "nets", "distributions", "divergences"},
    {"ae", "arm", "gan", "vae", "vq", "diffusion", "flow"},
    {"metrics"},
    # mode_collapse runs a whole benchmark training loop: it sits beside train
    {"train", "mode_collapse"},
    {"plot"},
    {"widgets"},
    {"__init__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def unit(module: str) -> str:
    """gentorch.data.toy -> "data"; gentorch -> "__init__"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def gentorch_imports(source: str, module: str, is_package: bool) -> set[str]:
    """Every gentorch module `source` imports (absolute or relative, anywhere)."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from gentorch import data` imports the module gentorch.data
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "gentorch" or name.startswith("gentorch."):
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """{unit: units it imports}, units being the entries of LAYERS."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        imports = gentorch_imports(
            path.read_text(), module, is_package=path.name == "__init__.py"
        )
        # `from gentorch.data import toy` names gentorch.data.toy: unit "data"
        # a bare `import gentorch` reaches every module through __init__
        targets = {unit(name) for name in imports}
        if module == "gentorch":
            targets = {t for t in targets if t in LAYER and t != "__init__"}
        graph.setdefault(unit(module), set()).update(targets - {unit(module)})
    return graph


def violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for source, targets in sorted(graph.items()):
        if source not in LAYER:
            problems.append(f"gentorch.{source} has no layer: add it to LAYERS")
            continue
        for target in sorted(targets):
            if target not in LAYER:
                problems.append(f"gentorch.{target} has no layer: add it to LAYERS")
            elif LAYER[target] > LAYER[source]:
                problems.append(f"{source} imports {target}, a higher layer")
    # cycles among units of the same layer
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
                problems.append("import cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return problems


def test_gentorch_imports_go_one_way_without_cycles():
    graph = import_graph()
    assert "train" in graph and "plot" in graph  # the walk found the package
    assert violations(graph) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"train": {"plot"}, "plot": {"train"}}, "train imports plot, a higher layer"),
        ({"gan": {"vae"}, "vae": {"gan"}}, "import cycle: gan -> vae -> gan"),
        ({"utils": set(), "fancy": {"utils"}}, "gentorch.fancy has no layer"),
        ({"train": {"__init__"}}, "train imports __init__, a higher layer"),
    ],
)
def test_the_checker_catches_upward_imports_cycles_and_strays(graph, expected):
    assert any(expected in p for p in violations(graph)), violations(graph)


def test_imports_inside_functions_and_relative_imports_count():
    source = (
        "from . import widgets\n"
        "from .data import toy\n"
        "def f():\n"
        "    from gentorch.plot import history\n"
        "    import gentorch.metrics\n"
    )
    found = gentorch_imports(source, "gentorch.train", is_package=False)
    assert {"gentorch.widgets", "gentorch.data.toy"} <= found
    assert {"gentorch.plot", "gentorch.metrics"} <= found
    bare = gentorch_imports("import gentorch as gt\n", "gentorch.train", False)
    assert bare == {"gentorch"} and unit("gentorch") == "__init__"
    inner = gentorch_imports("from ._common import x\n", "gentorch.data", True)
    assert "gentorch.data._common" in inner
