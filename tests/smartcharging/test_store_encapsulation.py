"""Nothing outside :mod:`harness.smartcharging.store` reaches into a :class:`ProfileStore`'s
private state: its ``_``-names (attributes and methods) are read only through ``self``."""

from __future__ import annotations

import ast
from pathlib import Path

import harness.smartcharging.store as store_module

ROOT = Path(store_module.__file__).resolve().parents[2]
PACKAGES = ("harness", "simulators", "reports", "tests", "benchmarks")


def private_names(source: str, class_name: str) -> set[str]:
    """The single-underscore names a class defines: methods, and ``self._x`` it assigns."""
    tree = ast.parse(source)
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name)
    names = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def foreign_uses(source: str, names: set[str]) -> list[tuple[int, str]]:
    """``(line, text)`` of each ``x._name`` with ``x`` not ``self`` or ``cls``."""
    return [
        (node.lineno, f"{ast.unparse(node.value)}.{node.attr}")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in names
        and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
    ]


def test_the_check_sees_private_names_and_foreign_uses() -> None:
    names = private_names(Path(store_module.__file__).read_text(encoding="utf-8"), "ProfileStore")
    assert {"_items", "_cache", "_replaces"} <= names
    assert "install_accepted" not in names
    sample = "def f(store):\n store._items = ()\n self._items = ()\n store._cache.clear()\n"
    assert foreign_uses(sample, names) == [(2, "store._items"), (4, "store._cache")]


def test_no_module_touches_the_stores_private_state() -> None:
    store_file = Path(store_module.__file__).resolve()
    names = private_names(store_file.read_text(encoding="utf-8"), "ProfileStore")
    files = [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.resolve() != store_file
    ]
    assert len(files) > 100, f"the walk under {ROOT} found only {len(files)} files"
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in files
        for line, text in foreign_uses(path.read_text(encoding="utf-8"), names)
    ]
    assert offenders == [], "use ProfileStore's public methods instead:\n" + "\n".join(offenders)
