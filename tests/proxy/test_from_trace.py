"""Scenarios from a recorded OCPP 1.6 smart-charging session, for both DUT roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.proxy import Sender, load_recording
from harness.scenario import load_cases, match, substitute
from harness.scenario.fields import DutRole
from harness.scenario.from_trace import FromTraceOptions, scenario_from_recording
from harness.scenario.steps import ExpectRequestStep, SendStep, WaitStep
from harness.session.schemas import PayloadKind, schema_set
from harness.versions import OcppVersion
from tests.proxy.session16 import AUTH_KEY, ID_TAG, SERIAL, START, record_session


@pytest.fixture
async def trace(tmp_path: Path) -> Path:
    return await record_session(tmp_path / "runs")


def generate(trace: Path, out: Path, *args: str) -> str:
    code = main(["scenario", "from-trace", str(trace), "--out", str(out), *args])
    assert code == 0
    return out.read_text(encoding="utf-8")


def fill(value: Any, variables: dict[str, Any]) -> Any:
    return substitute(value, variables=variables, now=START)


def recorded(trace: Path) -> dict[str, list[Any]]:
    """Recorded payloads by (sender, message type, action-or-id)."""
    out: dict[str, list[Any]] = {}
    for frame in load_recording(trace).frames:
        message = frame.message()
        if message is not None:
            out.setdefault(f"{frame.sender}:{message[1]}", []).append(message)
    return out


@pytest.mark.parametrize("role", ["station", "csms"])
async def test_generated_case_loads_validates_and_holds_no_personal_data(
    trace: Path, tmp_path: Path, role: str
) -> None:
    out = tmp_path / f"replay-{role}.yaml"
    text = generate(trace, out, "--role", role, "--redact-serials")
    for secret in (ID_TAG, AUTH_KEY, SERIAL, "4711" if role == "csms" else ID_TAG):
        assert secret not in text
    assert main(["scenario", "validate", str(out)]) == 0
    (case,) = load_cases([out])
    assert case.dut_role is DutRole(role)
    assert case.ocpp_versions == (OcppVersion.V16,)
    assert case.parameters["id_tag"].default == "ID-TAG-1"
    assert case.parameters["secret"].default == "SECRET-1"
    if role == "csms":  # the harness (as station) sends the recorded BootNotification
        assert case.parameters["serial"].default == "SERIAL-1"
    else:  # the runner boots the station before a case: its BootNotification is no step
        assert "serial" not in case.parameters
    # Every payload the harness sends (and every answer it gives) is valid OCPP 1.6.
    schemas = schema_set(OcppVersion.V16)
    variables: dict[str, Any] = {**case.default_parameters(), "tx": 1}
    for step in case.steps:
        if isinstance(step, SendStep):
            payload = fill(step.payload, variables)
            assert schemas.check(step.action, PayloadKind.REQUEST, payload) is None, step.action
        if isinstance(step, ExpectRequestStep) and step.respond_with is not None:
            payload = fill(step.respond_with, variables)
            assert schemas.check(step.action, PayloadKind.RESPONSE, payload) is None, step.action


async def test_station_role_replays_the_csms(trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "station.yaml"
    generate(trace, out, "--role", "station")
    (case,) = load_cases([out])
    kinds = [(type(s).__name__, getattr(s, "action", None)) for s in case.steps]
    assert [k for k in kinds if k[0] != "WaitStep"] == [
        ("SendStep", "RemoteStartTransaction"),
        ("ExpectRequestStep", "StartTransaction"),
        ("SendStep", "SetChargingProfile"),
        ("ExpectRequestStep", "MeterValues"),
        ("SendStep", "GetCompositeSchedule"),
        ("SendStep", "ChangeConfiguration"),
    ]
    steps = {(type(s).__name__, getattr(s, "action", "")): s for s in case.steps}
    start = steps[("ExpectRequestStep", "StartTransaction")]
    assert isinstance(start, ExpectRequestStep)
    # The harness (as CSMS) assigns the transaction id: a parameter, used later by reference.
    assert case.parameters["transaction_id"].default == 4711
    variables = case.default_parameters()
    assert fill(start.respond_with, variables)["transactionId"] == 4711
    profile = steps[("SendStep", "SetChargingProfile")]
    assert isinstance(profile, SendStep)
    sent = fill(profile.payload, variables)
    assert sent["csChargingProfiles"]["transactionId"] == 4711
    schedule = sent["csChargingProfiles"]["chargingSchedule"]
    assert schedule["startSchedule"] == "2026-11-28T02:59:56.000Z"  # ${now-4s}, relative again
    assert "BootNotification" in case.description  # left to the runner, and says so
    # The expectations accept what the station recorded, and reject a changed status.
    meter = steps[("ExpectRequestStep", "MeterValues")]
    assert isinstance(meter, ExpectRequestStep)
    assert meter.expect is not None
    by_id = recorded(trace)
    recorded_meter = by_id["station:m1"][0][3]
    assert match(meter.expect, recorded_meter, variables=variables)
    assert not match(meter.expect, {**recorded_meter, "transactionId": 1}, variables=variables)
    other_reading = json.loads(json.dumps(recorded_meter).replace("1234.5", "2000.25"))
    assert match(meter.expect, other_reading, variables=variables)
    not_a_number = json.loads(json.dumps(recorded_meter).replace("1234.5", "lots"))
    assert not match(meter.expect, not_a_number, variables=variables)
    composite = steps[("SendStep", "GetCompositeSchedule")]
    assert isinstance(composite, SendStep)
    assert composite.expect is not None
    answer = by_id["station:c3"][0][2]
    assert match(composite.expect, answer, variables=variables)
    assert not match(composite.expect, {**answer, "status": "Rejected"}, variables=variables)
    nudged = json.loads(json.dumps(answer).replace("16.0", "16.3"))
    assert match(composite.expect, nudged, variables=variables)  # within the tolerance
    far = json.loads(json.dumps(answer).replace("16.0", "20.0"))
    assert not match(composite.expect, far, variables=variables)
    start_request = by_id["station:s1"][0][3]
    assert start.expect is not None
    assert match(start.expect, {**start_request, "idTag": "ID-TAG-1"}, variables=variables)
    assert not match(start.expect, start_request, variables=variables)  # the placeholder rules


async def test_csms_role_replays_the_station_and_stores_the_transaction_id(
    trace: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csms.yaml"
    generate(trace, out, "--role", "csms")
    (case,) = load_cases([out])
    sends = [s for s in case.steps if isinstance(s, SendStep)]
    assert [s.action for s in sends] == ["BootNotification", "StartTransaction", "MeterValues"]
    start = sends[1]
    assert start.store == {"tx": "transactionId"}
    variables = {**case.default_parameters(), "tx": 99}
    assert fill(sends[2].payload, variables)["transactionId"] == 99
    assert fill(start.payload, variables)["idTag"] == "ID-TAG-1"
    expects = [s for s in case.steps if isinstance(s, ExpectRequestStep)]
    profile = next(s for s in expects if s.action == "SetChargingProfile")
    by_id = recorded(trace)
    asked = by_id["csms:c2"][0][3]
    assert profile.expect is not None
    assert match(profile.expect, {**asked, "csChargingProfiles": {
        **asked["csChargingProfiles"], "transactionId": 99}}, variables=variables)  # fmt: skip
    assert not match(profile.expect, asked, variables=variables)  # 4711 is not the stored 99
    boot = sends[0]
    assert boot.expect is not None
    assert match(boot.expect, by_id["csms:b1"][0][2], variables=variables)
    assert not match(boot.expect, {"status": "Rejected", "currentTime": "x", "interval": 300})


async def test_waits_reproduce_the_recorded_gaps_scaled(trace: Path, tmp_path: Path) -> None:
    recording = load_recording(trace)
    assert recording.frames[2].sender is Sender.CSMS
    full = scenario_from_recording(recording, FromTraceOptions(role=DutRole.STATION))
    half = scenario_from_recording(
        recording, FromTraceOptions(role=DutRole.STATION, time_scale=0.5)
    )
    waits = [s["duration_s"] for s in full["steps"] if s["kind"] == "wait"]
    # RemoteStart 5 s after the BootNotification answer, SetChargingProfile 4 s after the
    # StartTransaction answer (an invalid frame in between is skipped), GetCompositeSchedule
    # 4 s after the MeterValues answer, ChangeConfiguration 6 s after the composite answer.
    assert waits == [5.0, 4.0, 4.0, 6.0]
    assert [s["duration_s"] for s in half["steps"] if s["kind"] == "wait"] == [2.5, 2.0, 2.0, 3.0]
    within = [s["within_s"] for s in half["steps"] if s["kind"] == "expect_request"]
    assert within == [31.0, 35.0]  # the BootNotification is the runner's, not a step
    assert "1 other frames skipped" in full["description"]
    out = tmp_path / "half.yaml"
    generate(trace, out, "--role", "station", "--time-scale", "0.5")
    (case,) = load_cases([out])
    assert [s.duration_s for s in case.steps if isinstance(s, WaitStep)] == [2.5, 2.0, 2.0, 3.0]


def test_from_trace_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('["sideways", 0, "[]"]\n', encoding="utf-8")
    code = main(["scenario", "from-trace", str(bad), "--role", "csms", "--out", "x.yaml"])
    assert code == 1
    assert f"{bad}:1: unknown direction" in capsys.readouterr().err
    empty = tmp_path / "nocalls.jsonl"
    empty.write_text('["station→csms", 0, "[3,\\"1\\",{}]"]\n', encoding="utf-8")
    code = main(["scenario", "from-trace", str(empty), "--role", "csms", "--out", "x.yaml"])
    assert code == 1
    assert "no OCPP-J CALL" in capsys.readouterr().err


def test_ocpp201_transaction_id_is_stored_and_tokens_and_passwords_redacted(
    tmp_path: Path,
) -> None:
    tx_event = {
        "eventType": "Started",
        "timestamp": "2026-11-28T03:00:01Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "TX-0815"},
        "idToken": {"idToken": "RFID-SECRET-99", "type": "ISO14443"},
        "evse": {"id": 1, "connectorId": 1},
    }
    set_password = {
        "setVariableData": [
            {
                "attributeValue": "HUNTER2-SECRET",
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }
        ]
    }
    accepted = {"status": "Accepted"}
    lines = [
        ["station→csms", "2026-11-28T03:00:01Z", [2, "1", "TransactionEvent", tx_event]],
        ["csms→station", "2026-11-28T03:00:01.1Z", [3, "1", {"idTokenInfo": accepted}]],
        ["csms→station", "2026-11-28T03:00:05Z", [2, "2", "SetVariables", set_password]],
        ["station→csms", "2026-11-28T03:00:05.2Z", [3, "2", {"setVariableResult": [{
            "attributeStatus": "Accepted", "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"}}]}]],
        ["csms→station", "2026-11-28T03:00:09Z", [2, "3", "RequestStopTransaction",
                                                  {"transactionId": "TX-0815"}]],
        ["station→csms", "2026-11-28T03:00:09.1Z", [3, "3", {"status": "Accepted"}]],
    ]  # fmt: skip
    log = tmp_path / "csms-tool.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    out = tmp_path / "replay201.yaml"
    text = generate(log, out, "--role", "station", "--case-id", "R201")
    for secret in ("RFID-SECRET-99", "HUNTER2-SECRET", "TX-0815"):
        assert secret not in text
    (case,) = load_cases([out])
    assert case.ocpp_versions == (OcppVersion.V201,)
    first, _wait, password, _wait2, stop = case.steps
    assert isinstance(first, ExpectRequestStep)
    assert first.store == {"tx": "transactionInfo.transactionId"}
    assert first.expect is not None
    variables = {**case.default_parameters(), "tx": "TX-NEW"}
    placeholder = {"idToken": "ID-TAG-1", "type": "ISO14443"}
    assert match(first.expect, {**tx_event, "idToken": placeholder}, variables=variables)
    assert not match(first.expect, tx_event, variables=variables)
    assert isinstance(password, SendStep)
    sent = fill(password.payload, variables)
    assert sent["setVariableData"][0]["attributeValue"] == "SECRET-1"
    assert isinstance(stop, SendStep)
    assert fill(stop.payload, variables) == {"transactionId": "TX-NEW"}
    schemas = schema_set(OcppVersion.V201)
    for step in (password, stop):
        assert (
            schemas.check(step.action, PayloadKind.REQUEST, fill(step.payload, variables)) is None
        )
