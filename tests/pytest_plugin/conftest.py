"""Shared by the plugin tests (they run generated test files with ``pytester``).

Modules are imported here, in the outer session, so that pytester's in-process runs (which
restore ``sys.modules`` after each run) do not import and assertion-rewrite them again every
time; hypothesis because its pytest plugin imports it at the end of every run.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import hypothesis
import pytest

import harness.pytest_plugin
import harness.runner.simstation
import simulators.station.runtime

_KEPT_IMPORTED = (hypothesis, harness.pytest_plugin, harness.runner.simstation, simulators)


@pytest.fixture
def plugin_args() -> list[str]:
    """``-p harness.pytest_plugin`` unless the installed package already registers it (entry
    point ``pytest11``: registering the same module twice is an error in pytest)."""
    installed = any(ep.name == "ocpp_harness" for ep in entry_points(group="pytest11"))
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]  # imported by the outer run
    return quiet if installed else [*quiet, "-p", "harness.pytest_plugin"]


@pytest.fixture(autouse=True)
def _quiet_asyncio_ini(pytester: pytest.Pytester) -> None:
    """The generated projects set pytest-asyncio's loop scope (its warning otherwise)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
