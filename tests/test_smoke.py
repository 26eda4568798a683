"""``ocpp-harness run`` (smoke): three stations, one per OCPP version, over real WebSockets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from harness.cli import main
from harness.clock import Clock
from harness.connection import CallErrorReply, Handler
from harness.session import CallReceived
from harness.smoke import Outcome, csms_handlers, report, run_smoke
from harness.versions import OcppVersion


@pytest.fixture
def _reset_logging() -> Iterator[None]:
    """``main`` points structlog at this test's captured stderr; undo that afterwards."""
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("_reset_logging")
def test_run_passes_against_the_built_in_csms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "15 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors"
    for version in ("1.6", "2.0.1", "2.1"):
        for action in ("BootNotification", "Heartbeat", "StatusNotification"):
            assert any(
                line.startswith("PASS") and f"OCPP {version} " in line and action in line
                for line in out
            ), (version, action)


async def test_a_refused_heartbeat_fails_and_is_explained() -> None:
    def refusing(version: OcppVersion, clock: Clock) -> dict[str, Handler]:
        handlers = csms_handlers(version, clock)

        async def refuse(_: CallReceived) -> dict[str, Any]:
            raise CallErrorReply("NotSupported", "no heartbeats today")

        if version is OcppVersion.V201:
            handlers["Heartbeat"] = refuse
        return handlers

    checks = await run_smoke(handlers=refusing, timeout_s=5)
    failed = [c for c in checks if c.outcome is Outcome.FAIL]
    assert [(c.version, c.name) for c in failed] == [(OcppVersion.V201, "Heartbeat")]
    assert "NotSupported" in failed[0].actual
    lines: list[str] = []
    assert report(checks, lines.append) == 1
    assert (
        "    Expected: a CALLRESULT to Heartbeat that validates against the OCPP 2.0.1 schema"
        in lines
    )
    assert lines[-1] == "14 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors"


async def test_an_invalid_answer_fails() -> None:
    def broken(version: OcppVersion, clock: Clock) -> dict[str, Handler]:
        handlers = csms_handlers(version, clock)

        async def no_time(_: CallReceived) -> dict[str, Any]:
            return {}

        if version is OcppVersion.V16:
            handlers["Heartbeat"] = no_time
        return handlers

    checks = await run_smoke(handlers=broken, versions=(OcppVersion.V16,), timeout_s=5)
    heartbeat = next(c for c in checks if c.name == "Heartbeat")
    assert heartbeat.outcome is Outcome.FAIL
    assert "InternalError" in heartbeat.actual  # our CSMS refused to send the invalid answer
