"""``ocpp-harness run`` (smoke version): the harness as CSMS, one station per OCPP version.

In one process it starts the harness as CSMS on 127.0.0.1 (an ephemeral port), connects a
minimal station for each of OCPP 1.6, 2.0.1 and 2.1 over real WebSockets, exchanges
BootNotification, Heartbeat and StatusNotification, and checks that every answer arrives and
validates against its schema. One line per check, then ``N passed, N failed, 0 inconclusive,
N skipped, N errors``; exit 1 on a FAIL, 4 on an ERROR (:mod:`harness.exitcodes`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import click

from harness.clock import Clock, ScaledClock
from harness.connection import ConnectionClosed, Handler, OcppConnection
from harness.exitcodes import ExitCode, worst
from harness.session import (
    CallErrorReceived,
    CallReceived,
    CallTimeout,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
)
from harness.transport import OcppSubprotocol, TransportError, connect_ocpp, serve_ocpp
from harness.versions import OcppVersion

__all__ = ["Outcome", "SmokeCheck", "csms_handlers", "run_command", "run_smoke"]


class Outcome(StrEnum):
    """The verdict of one smoke check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class SmokeCheck:
    """One check: what was required, expected and seen."""

    version: OcppVersion
    name: str
    outcome: Outcome
    expected: str
    actual: str

    def line(self) -> str:
        """The one-line report of this check."""
        return f"{self.outcome.value:<5} OCPP {self.version:<5} {self.name}: {self.actual}"


def _timestamp(clock: Clock) -> str:
    return clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def csms_handlers(version: OcppVersion, clock: Clock) -> dict[str, Handler]:
    """The harness-as-CSMS answers for the smoke exchange (valid for ``version``)."""

    async def boot(_: CallReceived) -> dict[str, Any]:
        return {"status": "Accepted", "currentTime": _timestamp(clock), "interval": 300}

    async def heartbeat(_: CallReceived) -> dict[str, Any]:
        return {"currentTime": _timestamp(clock)}

    async def status(_: CallReceived) -> dict[str, Any]:
        return {}

    return {"BootNotification": boot, "Heartbeat": heartbeat, "StatusNotification": status}


def _station_requests(version: OcppVersion, clock: Clock) -> list[tuple[str, dict[str, Any]]]:
    if version is OcppVersion.V16:
        boot: dict[str, Any] = {"chargePointVendor": "ocpp-harness", "chargePointModel": "smoke"}
        status: dict[str, Any] = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    else:
        boot = {"chargingStation": {"vendorName": "ocpp-harness", "model": "smoke"},
                "reason": "PowerUp"}  # fmt: skip
        status = {"timestamp": _timestamp(clock), "connectorStatus": "Available",
                  "evseId": 1, "connectorId": 1}  # fmt: skip
    return [("BootNotification", boot), ("Heartbeat", {}), ("StatusNotification", status)]


HandlerFactory = Callable[[OcppVersion, Clock], Mapping[str, Handler]]


@dataclass
class _Csms:
    clock: Clock
    handlers: HandlerFactory
    connections: dict[str, OcppConnection] = field(default_factory=dict)

    async def accept(self, transport: Any) -> None:
        version = transport.subprotocol.version
        conn = OcppConnection.open(
            transport, role=Role.CSMS, clock=self.clock, handlers=self.handlers(version, self.clock)
        )
        self.connections[transport.station_id] = conn
        conn.start()
        await conn.wait_closed()


async def run_smoke(
    *,
    versions: tuple[OcppVersion, ...] = tuple(OcppVersion),
    timeout_s: float = 10.0,
    clock: Clock | None = None,
    handlers: HandlerFactory = csms_handlers,
) -> list[SmokeCheck]:
    """Run the smoke exchange; return the checks in order. ``handlers`` builds the CSMS side."""
    clock = clock if clock is not None else ScaledClock()
    csms = _Csms(clock, handlers)
    checks: list[SmokeCheck] = []
    async with serve_ocpp(csms.accept, host="127.0.0.1", port=0) as server:
        for version in versions:
            checks.extend(await _one_station(server.url(f"SMOKE-{version}"), version, csms,
                                             clock, timeout_s))  # fmt: skip
    return checks


async def _one_station(
    url: str, version: OcppVersion, csms: _Csms, clock: Clock, timeout_s: float
) -> list[SmokeCheck]:
    checks: list[SmokeCheck] = []

    def check(name: str, outcome: Outcome, expected: str, actual: str) -> None:
        checks.append(SmokeCheck(version, name, outcome, expected, actual))

    subprotocol = OcppSubprotocol.of(version)
    try:
        transport = await connect_ocpp(url, subprotocols=[subprotocol])
    except TransportError as exc:
        check("connect", Outcome.ERROR, f"a {subprotocol} connection", str(exc))
        return checks
    negotiated = str(transport.subprotocol)
    ok = negotiated == subprotocol
    check("subprotocol", Outcome.PASS if ok else Outcome.FAIL,
          f"{subprotocol} negotiated", f"{negotiated} negotiated")  # fmt: skip
    station = OcppConnection.open(transport, role=Role.CHARGING_STATION, clock=clock)
    async with station:
        for action, payload in _station_requests(version, clock):
            checks.append(await _exchange(station, version, action, payload, clock, timeout_s))
        station_id = transport.station_id
        await asyncio.sleep(0)
    seen = csms.connections.get(station_id)
    peers = [] if seen is None else seen.violations
    mine = station.violations
    if seen is None:
        check("csms side", Outcome.ERROR, "the CSMS accepted the connection", "no connection")
    elif peers or mine:
        details = "; ".join(v.violation.detail for v in [*peers, *mine])
        check("no violations", Outcome.FAIL, "no protocol violation either way", details)
    else:
        check("no violations", Outcome.PASS, "no protocol violation either way",
              f"{len(seen.session.trace)} frames, none faulty")  # fmt: skip
    return checks


async def _exchange(
    station: OcppConnection,
    version: OcppVersion,
    action: str,
    payload: dict[str, Any],
    clock: Clock,
    timeout_s: float,
) -> SmokeCheck:
    expected = f"a CALLRESULT to {action} that validates against the OCPP {version} schema"
    try:
        result = await station.call(action, payload, timeout_s=timeout_s)
    except (CallErrorReceived, RemoteProtocolError, CallTimeout) as exc:
        return SmokeCheck(version, action, Outcome.FAIL, expected, str(exc))
    except (LocalProtocolError, ConnectionClosed) as exc:
        return SmokeCheck(version, action, Outcome.ERROR, expected, f"harness: {exc}")
    return SmokeCheck(version, action, Outcome.PASS, expected,
                      f"valid answer {result.raw[:80]}")  # fmt: skip


def summary(checks: list[SmokeCheck]) -> str:
    """``N passed, N failed, 0 inconclusive, N skipped, N errors`` (the run's summary line;
    a smoke check is never inconclusive)."""
    count = {o: sum(1 for c in checks if c.outcome is o) for o in Outcome}
    return (f"{count[Outcome.PASS]} passed, {count[Outcome.FAIL]} failed, 0 inconclusive, "
            f"{count[Outcome.SKIP]} skipped, {count[Outcome.ERROR]} errors")  # fmt: skip


def report(checks: list[SmokeCheck], echo: Callable[[str], None]) -> int:
    """Print the lines, a recap of failures and the summary; return the exit code."""
    for c in checks:
        echo(c.line())
    bad = [c for c in checks if c.outcome in (Outcome.FAIL, Outcome.ERROR)]
    if bad:
        echo("")
        echo("Failures:")
        for c in bad:
            echo(f"  {c.outcome.value} OCPP {c.version} {c.name}")
            echo(f"    Expected: {c.expected}")
            echo(f"    Actual:   {c.actual}")
    echo(summary(checks))
    codes = [ExitCode.FAILED if c.outcome is Outcome.FAIL else ExitCode.HARNESS_ERROR for c in bad]
    return int(worst(*codes))


@click.command("run")
@click.option("--timeout-s", default=10.0, show_default=True, help="Answer timeout per call.")
def run_command(timeout_s: float) -> int:
    """Smoke run: harness as CSMS, one minimal station per OCPP version, on loopback."""
    checks = asyncio.run(run_smoke(timeout_s=timeout_s))
    return report(checks, click.echo)
