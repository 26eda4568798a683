"""No import cycle in the product code (issue #17).

The graph is drawn from the source with :mod:`ast`, not by importing: every ``import``
statement counts, at module level and inside functions (a local import hides a loop, it
does not remove it), and so do imports under ``if TYPE_CHECKING:``: they never run, but a
type-only loop is still two modules that cannot be understood apart (the loops issue #17
named between the engine and its step kinds were of that sort). ``from pkg import name`` is
an edge to ``pkg.name`` when that is a module, else to ``pkg``; relative imports are
resolved. Only the named module is an edge, not
its parent packages (importing ``a.b.c`` also runs ``a/__init__``, but a package that
re-exports its submodules would otherwise make every module a cycle with it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("harness", "simulators", "reports")


def _modules(root: Path, packages: Iterable[str]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package) for every ``.py`` under *packages*."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in *tree*, wherever it stands."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        stack.extend(ast.iter_child_nodes(node))


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]
) -> set[str]:
    """The modules of *known* that *node*, found in *module*, imports."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    found: set[str] = set()
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        if submodule in known:
            found.add(submodule)
        elif source in known:
            found.add(source)
    return found


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the modules it imports, among the modules of *packages* under *root*."""
    modules = _modules(root, packages)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in _import_nodes(tree):
            edges |= _targets(node, name, is_package, known)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path ``a -> b -> a``) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0

    def connect(start: str) -> None:
        # Iterative Tarjan: the graph is deep enough to trouble the recursion limit.
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)

    for name in sorted(graph):
        if name not in index:
            connect(name)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest closed path through the first module of *component* (breadth first)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def _describe(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_product_code_has_no_import_cycle() -> None:
    graph = import_graph(ROOT, PRODUCT_PACKAGES)
    assert "harness.runner.engine" in graph  # the walk found the product code
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + _describe(cycles)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("b_source", "cycle"),
    [
        ("from pkg import a\n", ["pkg.a", "pkg.b", "pkg.a"]),
        ("def f():\n    from . import a\n", ["pkg.a", "pkg.b", "pkg.a"]),
        ("import pkg.sub.c\n", ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n",
            ["pkg.a", "pkg.b", "pkg.a"],
        ),
    ],
    ids=["module-level", "function-level-relative", "through-subpackage", "type-checking"],
)
def test_a_cycle_is_found_and_printed(tmp_path: Path, b_source: str, cycle: list[str]) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": b_source,
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from ..a import other\n",
        },
    )
    cycles = find_cycles(import_graph(tmp_path, ["pkg"]))
    assert cycles == [cycle]
    assert _describe(cycles) == " -> ".join(cycle)


def test_a_package_importing_its_submodules_is_no_cycle(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg import a, b\n",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "import json\nfrom pkg import c\n",
            "pkg/c.py": "def f():\n    import json\n",
        },
    )
    graph = import_graph(tmp_path, ["pkg"])
    assert graph == {
        "pkg": {"pkg.a", "pkg.b"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": set(),
    }
    assert find_cycles(graph) == []
