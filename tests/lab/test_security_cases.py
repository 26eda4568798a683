"""The security suite (scenarios/security): a station that discloses its Basic-auth password
fails SEC-01, and the password it disclosed reaches no artefact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.cli import main
from harness.clock import LoopClock, run_virtual
from harness.connection import OcppConnection
from harness.results import CaseResult, Manifest, RunStore, Verdict, new_run_id
from harness.runner import (
    AutoOperator,
    FleetVehicle,
    PlannedCase,
    RunOptions,
    SimProvider,
    SimSpec,
    run_cases,
)
from harness.scenario import load_case_file, resolve_parameters
from harness.session import CallReceived, Role
from harness.transport import OcppSubprotocol, Transport
from tests.runner.helpers import CAPS

SUITE = Path(__file__).resolve().parents[2] / "scenarios" / "security"
START = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD = "Leaked-password-123456"


class NoVehicle:
    """The reset unplugs the vehicle; this station has none."""

    async def plug_in(self, *, evse: int) -> None:
        return None

    async def unplug(self, *, evse: int) -> None:
        return None

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        return None

    async def wake(self, *, evse: int) -> None:
        return None


class LeakyStation:
    """An OCPP 1.6 station whose GetConfiguration returns its AuthorizationKey (a defect)."""

    def __init__(self, clock: LoopClock) -> None:
        self.clock = clock
        self.conn: OcppConnection | None = None

    @property
    def control(self) -> NoVehicle:
        return NoVehicle()

    async def serve(self, transport: Transport) -> None:
        async def clear(event: CallReceived) -> dict[str, Any]:
            return {"status": "Unknown"}

        async def configuration(event: CallReceived) -> dict[str, Any]:
            entry = {"key": "AuthorizationKey", "readonly": False, "value": PASSWORD}
            return {"configurationKey": [entry]}

        self.conn = OcppConnection.open(
            transport,
            role=Role.CHARGING_STATION,
            clock=self.clock,
            handlers={"ClearChargingProfile": clear, "GetConfiguration": configuration},
        )
        self.conn.start()
        await self.conn.call(
            "BootNotification", {"chargePointVendor": "X", "chargePointModel": "Y"}, timeout_s=30
        )
        await self.conn.wait_closed()

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()


async def _run(tmp_path: Path) -> tuple[list[CaseResult], Path]:
    clock = LoopClock(start=START)
    cases = load_case_file(SUITE / "SEC-01.yaml")
    provider = SimProvider(
        lambda spec: LeakyStation(clock),
        SimSpec("CP1", OcppSubprotocol.V16, clock, FleetVehicle("ev-1", "bev_3ph_16a")),
    )
    manifest = Manifest(new_run_id(started_at=START), START, "sim", (OcppSubprotocol.V16,))
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        results = await run_cases(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            provider=provider,
            writer=writer,
            clock=clock,
            operator=AutoOperator(),
            capabilities=CAPS,
            options=RunOptions(connect_timeout_s=30, boot_wait_s=5),
        )
    return results, writer.run_dir


def test_a_station_that_returns_its_authorization_key_fails(tmp_path: Path) -> None:
    results, run_dir = run_virtual(_run(tmp_path))
    [result] = results
    assert result.verdict is Verdict.FAIL
    [check] = result.checks
    assert check.requirement.id == "OCPP16-SEC-AUTHKEY-WO"
    assert "«redacted»" in check.actual  # the value was there, and is hidden
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace"), path


def test_the_built_in_station_passes_the_security_suite(tmp_path: Path) -> None:
    assert main(["run", "security", "--out", str(tmp_path / "runs")]) == 0
    [run_dir] = (tmp_path / "runs").iterdir()
    verdicts = {r.verdict for r in RunStore.open(run_dir).results()}
    assert verdicts == {Verdict.PASS}
