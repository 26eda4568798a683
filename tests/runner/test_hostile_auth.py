"""Issue #16: failed authentication is slowed and recorded, and a password a station puts in
the wrong place (the Basic *user* field, the scheme) reaches no terminal line, response body,
log line or run-folder file — in ``listen`` and in ``serve``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from harness.clock import ScaledClock
from harness.lab import LabPlan, LabServer
from harness.results import Manifest, RunReader, RunStore, Verdict, new_run_id
from harness.runner import AutoOperator, ListenProvider, PlannedCase, RunOptions, run_cases
from harness.scenario import load_capabilities, load_case_file, resolve_parameters
from harness.security import ProfileLevel, SecurityProfile, basic_auth_header, serve_options
from harness.transport import HandshakeRefused, OcppSubprotocol, connect_ocpp
from tests.runner.helpers import CAPS
from tests.runner.peer_script import ScriptedPeer
from tests.runner.test_misbehaving_peer import _case

PASSWORD = "Station-secret-0123456789"
HERE = Path(__file__).parent
LAB = HERE.parent / "lab"


def _profile() -> SecurityProfile:
    return SecurityProfile(profile=ProfileLevel.BASIC, passwords={"CP1": PASSWORD})


async def _attempt(url: str, headers: dict[str, str]) -> HandshakeRefused:
    with pytest.raises(HandshakeRefused) as refused:
        await connect_ocpp(url, subprotocols=(OcppSubprotocol.V16,), extra_headers=headers)
    return refused.value


MISPLACED = [
    basic_auth_header(PASSWORD, "CP1"),  # the password as the Basic user
    {"Authorization": f"{PASSWORD} x"},  # the password as the scheme
]


async def _never(peer: ScriptedPeer, message_id: str) -> bool:
    raise AssertionError("no case asks for key B here")


def _files(folder: Path) -> dict[str, str]:
    return {str(p): p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


async def test_listen_slows_failed_auth_and_no_path_shows_a_misplaced_password(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(_case("A", "A"))
    clock = ScaledClock(speed=1.0)
    provider = ListenProvider(
        host="127.0.0.1", port=0, clock=clock, server_options=serve_options(_profile())
    )
    server = await provider.start()
    bodies: list[str] = []

    async def stations() -> None:
        for headers in [*MISPLACED, *MISPLACED]:
            bodies.append(str(await _attempt(server.url("CP1"), headers)))
        good = ScriptedPeer(server.url("CP1"), _never)
        good.headers = basic_auth_header("CP1", PASSWORD)
        await good.run()

    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    task = asyncio.create_task(stations())
    try:
        with RunStore.create(tmp_path / "runs", manifest, secrets=(PASSWORD,)) as writer:
            async with asyncio.timeout(60):
                [result] = await run_cases(
                    [PlannedCase(c, resolve_parameters(c)) for c in load_case_file(path)],
                    provider=provider,
                    writer=writer,
                    clock=clock,
                    operator=AutoOperator(),
                    capabilities=CAPS,
                    options=RunOptions(connect_timeout_s=30, boot_wait_s=2, reset_timeout_s=5),
                )
            writer.finish(finished_at=clock.now())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert result.verdict is Verdict.PASS, result.reason
    failed = [e for e in RunReader(writer.run_dir).events() if e["event"] == "auth_failed"]
    assert len(failed) == 4
    delays = [e["delay_s"] for e in failed]
    assert delays[0] == 0
    assert delays == sorted(delays)
    assert delays[-1] > delays[1] > 0  # a growing delay
    assert [e["failures"] for e in failed] == [1, 2, 3, 4]
    assert all(e["station_id"] == "CP1" for e in failed)
    output = capfd.readouterr()
    places = {
        "401 bodies": "\n".join(bodies),
        "log": output.out + output.err,
        **_files(writer.run_dir),
    }
    assert "user is not the station id" in places["401 bodies"]
    for where, text in places.items():
        assert PASSWORD not in text, where


async def test_serve_slows_and_records_failed_auth_without_the_password(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    [case] = load_case_file(LAB / "scenarios" / "LAB_01.yaml")
    caps = load_capabilities(LAB / "sim-station.yaml")
    lines: list[str] = []

    class Yes:
        async def ask(self, message: str, *, yes_no: bool) -> bool:
            return True

    server = LabServer(
        LabPlan(
            [PlannedCase(case, {**resolve_parameters(case), "pause_s": 0})],
            capabilities=lambda sid: caps,
            out=tmp_path / "runs",
            options=RunOptions(connect_timeout_s=None, boot_wait_s=1),
            secrets=(PASSWORD,),
        ),
        clock=ScaledClock(),
        operators=lambda sid: Yes(),
        echo=lines.append,
        security=_profile(),
    )
    await server.start()
    bodies: list[Any] = []
    try:
        for headers in MISPLACED * 2:
            bodies.append(str(await _attempt(f"{server.url}/CP1", headers)))
    finally:
        await server.close()
    log = (tmp_path / "runs" / "serve-events.jsonl").read_text().splitlines()
    failed = [json.loads(line) for line in log]
    assert [e["event"] for e in failed] == ["auth_failed"] * 4
    assert [e["delay_s"] for e in failed][-1] > 0
    output = capfd.readouterr()
    places = {
        "terminal": "\n".join(lines),
        "401 bodies": "\n".join(bodies),
        "log": output.out + output.err,
        **_files(tmp_path / "runs"),
    }
    assert "refused (HTTP 401)" in places["terminal"]
    for where, text in places.items():
        assert PASSWORD not in text, where
