"""Helpers for scenario tests: write YAML to a temporary file and collect its problems."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.scenario import ScenarioLoadError, load_cases

MINIMAL = """\
id: TC_T
title: a test case
suite: tests
ocpp_versions: ["1.6"]
dut_role: station
steps:
  - kind: wait
    duration_s: 1
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented YAML text to ``tmp_path / name`` and return the path."""

    def _write(text: str, name: str = "case.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def problems(write: Callable[[str, str], Path]) -> Callable[[str], list[str]]:
    """Load YAML text as a case file and return its problems as text (none: empty list)."""

    def _problems(text: str) -> list[str]:
        path = write(text, "case.yaml")
        try:
            load_cases([path])
        except ScenarioLoadError as exc:
            return [str(p).replace(str(path), "case.yaml") for p in exc.problems]
        return []

    return _problems
