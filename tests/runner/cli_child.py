"""Runs ``ocpp-harness`` with the fake station as the built-in simulator (for CLI tests).

Usage: ``python -u -m tests.runner.cli_child [FAULT] -- ARGS...``; FAULT is ``ok``,
``empty_composite`` or ``ignore_limit``.
"""

from __future__ import annotations

import sys
from typing import Any

import harness.runner.simstation as simstation
from harness.cli import main
from harness.runner.targets import SimSpec
from tests.runner.fake_station import FakeBehaviour, FakeStation


def fake_factory(fault: str) -> Any:
    """A replacement of ``builtin_factory``: fake stations misbehaving as ``fault`` says."""

    def factory() -> Any:
        def make(spec: SimSpec) -> FakeStation:
            behaviour = FakeBehaviour(
                empty_composite=fault == "empty_composite", ignore_limit=fault == "ignore_limit"
            )
            return FakeStation(spec.clock, behaviour)

        return make

    return factory


if __name__ == "__main__":
    simstation.builtin_factory = fake_factory(sys.argv[1])
    sys.exit(main(sys.argv[3:]))
