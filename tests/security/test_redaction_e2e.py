"""Passwords and private keys never reach logs, traces or the run store, end to end.

A CSMS and a station talk over the real transport with security profiles 1 (OCPP 1.6,
ChangeConfiguration AuthorizationKey) and 3 (OCPP 2.0.1, SetVariables BasicAuthPassword);
logs are captured at DEBUG as JSON lines, the trace is written with the run store, and then
every file and the log text are searched for the secrets.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from harness.clock import ScaledClock
from harness.connection import OcppConnection
from harness.logs import configure_logging, get_logger
from harness.results import Manifest, RunStore
from harness.security import (
    ProfileLevel,
    SecurityProfile,
    connect_options,
    serve_options,
)
from harness.session import CallReceived, Role
from harness.transport import OcppSubprotocol, WebSocketTransport, connect_ocpp, serve_ocpp
from tests.results.strategies import STATION, T0, VEHICLE, result_for
from tests.security.conftest import PASSWORD, Lab
from tests.transport.helpers import WAIT_S

NEW_PASSWORD = "Fresh-Password-0042-abcdef"  # what the CSMS sets on the station (26 chars)
NEW_KEY_HEX = NEW_PASSWORD.encode().hex()  # 1.6 AuthorizationKey is sent hex-encoded


def pem_body(key_file: Path) -> str:
    """The base64 body of a PEM private key: the part that must never leak."""
    lines = key_file.read_text().strip().splitlines()
    return "".join(lines[1:-1])


async def run_session(
    csms_profile: SecurityProfile,
    station_profile: SecurityProfile,
    subprotocol: OcppSubprotocol,
    csms_calls: Callable[[OcppConnection], Awaitable[None]],
) -> list[dict[str, Any]]:
    """One session; returns both sides' trace records (JSON form), CSMS side first."""
    clock = ScaledClock()
    done: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()

    async def csms_handler(transport: WebSocketTransport) -> None:
        # A careless CSMS that logs what it received: the redaction must still hold.
        get_logger("test.csms").debug("headers", headers=dict(transport.request_headers))
        async with OcppConnection.open(transport, role=Role.CSMS, clock=clock) as conn:
            await csms_calls(conn)
            done.set_result([r.to_json() for r in conn.session.trace])

    async def accept(call: CallReceived) -> dict[str, Any]:
        get_logger("test.station").debug("call_received", payload=call.payload)
        return (
            {"status": "Accepted"}
            if call.action == "ChangeConfiguration"
            else {
                "setVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                    }
                ]
            }
        )

    handlers = {"ChangeConfiguration": accept, "SetVariables": accept}
    async with serve_ocpp(
        csms_handler, ping_interval_s=None, **serve_options(csms_profile)
    ) as server:
        url = server.url("CP1")
        async with (
            connect_ocpp(
                url,
                subprotocols=[subprotocol],
                open_timeout_s=WAIT_S,
                **connect_options(station_profile),
            ) as transport,
            OcppConnection.open(
                transport, role=Role.CHARGING_STATION, clock=clock, handlers=handlers
            ) as station,
        ):
            async with asyncio.timeout(WAIT_S):
                csms_trace = await done
            station_trace = [r.to_json() for r in station.session.trace]
    return csms_trace + station_trace


async def change_configuration(conn: OcppConnection) -> None:
    result = await conn.call(
        "ChangeConfiguration", {"key": "AuthorizationKey", "value": NEW_KEY_HEX}, timeout_s=WAIT_S
    )
    assert result.payload == {"status": "Accepted"}


async def set_variables(conn: OcppConnection) -> None:
    payload = {
        "setVariableData": [
            {
                "attributeValue": NEW_PASSWORD,
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }
        ]
    }
    result = await conn.call("SetVariables", payload, timeout_s=WAIT_S)
    assert result.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"


def store(tmp_path: Path, traces: list[dict[str, Any]], secrets: tuple[str, ...]) -> Path:
    manifest = Manifest(
        run_id="run-secret",
        started_at=T0,
        target="sim",
        ocpp_versions=(OcppSubprotocol.V16,),
        options={},
        devices=(STATION, VEHICLE),
    )
    result = result_for(1)
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        sink = writer.trace_sink(result.key, secrets=secrets)
        for frame in traces:
            sink.append(frame)
        writer.write_result(result)
        writer.finish(finished_at=T0)
    return writer.run_dir


def everything_written(run_dir: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(run_dir.rglob("*")) if p.is_file())


@pytest.fixture
def captured_logs() -> io.StringIO:
    buffer = io.StringIO()
    configure_logging(json_lines=True, level="DEBUG", stream=buffer)
    return buffer


@pytest.mark.parametrize("level", [1, 3])
async def test_no_secret_in_logs_traces_or_run_store(
    lab: Lab, tmp_path: Path, captured_logs: io.StringIO, level: int
) -> None:
    csms_profile = SecurityProfile(
        profile=ProfileLevel(level),
        passwords={"CP1": PASSWORD},
        ca_file=lab.ca.cert_file,
        server_cert_file=lab.server.cert_file,
        server_key_file=lab.server.key_file,
    )
    station_profile = SecurityProfile(
        profile=ProfileLevel(level),
        station_id="CP1",
        password=PASSWORD,
        ca_file=lab.ca.cert_file,
        client_cert_file=lab.cp1.cert_file,
        client_key_file=lab.cp1.key_file,
    )
    version, calls = (
        (OcppSubprotocol.V16, change_configuration)
        if level == 1
        else (OcppSubprotocol.V201, set_variables)
    )
    # A careless component that logs a key file's content and a header it was handed.
    key_text = lab.cp1.key_file.read_text()
    get_logger("test.careless").debug("loaded", key=key_text, note=f"key file: {key_text}")
    traces = await run_session(csms_profile, station_profile, version, calls)

    # The secrets really went over the wire, so not finding them below means something.
    secret_value = NEW_KEY_HEX if level == 1 else NEW_PASSWORD
    assert any(secret_value in frame["raw"] for frame in traces)
    token = base64.b64encode(f"CP1:{PASSWORD}".encode()).decode()

    run_dir = store(tmp_path, traces, csms_profile.secrets())
    logs = captured_logs.getvalue()
    assert '"event": "headers"' in logs  # the careless log lines were written, redacted
    assert '"event": "loaded"' in logs
    written = everything_written(run_dir)
    assert "«redacted»" in written
    for text in (logs, written):
        for secret in (NEW_PASSWORD, NEW_KEY_HEX, PASSWORD, token, pem_body(lab.cp1.key_file)):
            assert secret not in text
        for line in pem_body(lab.cp1.key_file)[:64], pem_body(lab.server.key_file)[:64]:
            assert line not in text
    # The stored trace still holds every frame, each valid JSON, CALLs still readable.
    reader = RunStore.open(run_dir)
    stored = list(reader.trace(result_for(1).key))
    assert len(stored) == len(traces)
    actions = {f["action"] for f in stored if f.get("action")}
    assert actions == ({"ChangeConfiguration"} if level == 1 else {"SetVariables"})
