"""One OCPP version enum: ``harness.versions`` depends on nothing of the project, every module
takes ``OcppVersion`` from it, and the transport maps versions to subprotocols."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import harness.versions
from harness.transport import OcppSubprotocol
from harness.versions import OcppVersion

ROOT = Path(harness.versions.__file__).resolve().parents[1]
PACKAGES = ("harness", "simulators", "reports", "tests", "benchmarks")
ALIAS_KEPT = {"harness/runner/engine.py"}
"""Files still naming the enum by an old alias (``OracleVersion``), left to the engine's owner:
only its import line was changed here."""


def test_versions_module_imports_nothing_of_the_project() -> None:
    tree = ast.parse(Path(harness.versions.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported, "the walk found no import at all (StrEnum comes from enum)"
    assert all(name is not None and name.split(".")[0] in {"__future__", "enum"}
               for name in imported), imported  # fmt: skip


@pytest.mark.parametrize("version", list(OcppVersion))
def test_subprotocol_round_trip(version: OcppVersion) -> None:
    subprotocol = OcppSubprotocol.of(version)
    assert subprotocol.value == f"ocpp{version.value}"
    assert subprotocol.version is version
    assert OcppSubprotocol.of(version.value) is subprotocol


def test_an_unknown_version_text_is_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.5"):
        OcppSubprotocol.of("1.5")


def imports_of_the_enum(source: str) -> list[tuple[int, str, str | None]]:
    """``(line, module, alias)`` of each ``from module import OcppVersion [as alias]``."""
    return [
        (node.lineno, node.module or "." * node.level, alias.asname)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name == "OcppVersion"
    ]


def test_the_check_sees_imports_and_aliases() -> None:
    sample = "from harness.session import OcppVersion as V\ndef f():\n from x import OcppVersion\n"
    assert imports_of_the_enum(sample) == [(1, "harness.session", "V"), (3, "x", None)]


def test_every_module_takes_the_enum_from_harness_versions() -> None:
    files = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    assert len(files) > 100, f"the walk under {ROOT} found only {len(files)} files"
    offenders = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for line, module, alias in imports_of_the_enum(path.read_text(encoding="utf-8")):
            if module != "harness.versions":
                offenders.append(f"{rel}:{line}: from {module}")
            elif alias is not None and rel not in ALIAS_KEPT:
                offenders.append(f"{rel}:{line}: as {alias}")
    assert offenders == [], "import OcppVersion from harness.versions, unaliased:\n" + "\n".join(
        offenders
    )
