"""from-trace: the station's housekeeping requests and the vehicle steps they imply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.proxy import load_recording
from harness.scenario.fields import DutRole
from harness.scenario.from_trace import FromTraceOptions, scenario_from_recording


def status16(n: str, connector: int, status: str) -> list[Any]:
    payload = {"connectorId": connector, "errorCode": "NoError", "status": status}
    return [2, n, "StatusNotification", payload]


def status2x(n: str, evse: int, status: str) -> list[Any]:
    payload = {"timestamp": "2026-11-28T03:00:00Z", "connectorStatus": status,
               "evseId": evse, "connectorId": 1}  # fmt: skip
    return [2, n, "StatusNotification", payload]


def log(tmp_path: Path, station_calls: list[list[Any]], csms_call: list[Any]) -> Path:
    """Each station CALL one second apart and answered ``{}``, then one CSMS CALL."""
    lines: list[list[Any]] = []
    for second, call in enumerate(station_calls):
        lines.append(["station->csms", 1_700_000_000 + second, call])
        lines.append(["csms->station", 1_700_000_000 + second + 0.1, [3, call[1], {}]])
    end = 1_700_000_000 + len(station_calls)
    lines.append(["csms->station", end, csms_call])
    lines.append(["station->csms", end + 0.1, [3, csms_call[1], {"status": "Accepted"}]])
    path = tmp_path / "tool.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


CLEAR16 = [2, "c", "ClearChargingProfile", {"id": 1}]
CLEAR2X = [2, "c", "ClearChargingProfile", {"chargingProfileId": 1}]


@pytest.mark.parametrize(
    ("calls", "last"),
    [
        (
            [status16("1", 0, "Available"), status16("2", 1, "Preparing"),
             [2, "h", "Heartbeat", {}], status16("3", 1, "Charging"),
             status16("4", 1, "Finishing"), status16("5", 1, "Available")],
            CLEAR16,
        ),
        (
            [status2x("1", 1, "Available"), status2x("2", 1, "Occupied"),
             status2x("3", 1, "Available")],
            CLEAR2X,
        ),
    ],
)  # fmt: skip
def test_station_role_turns_plug_in_and_unplug_into_vehicle_steps(
    tmp_path: Path, calls: list[list[Any]], last: list[Any]
) -> None:
    recording = load_recording(log(tmp_path, calls, last))
    case = scenario_from_recording(recording, FromTraceOptions(role=DutRole.STATION))
    kinds = [(s["kind"], s.get("action"), s.get("evse")) for s in case["steps"]]
    assert [k for k in kinds if k[0] != "wait"] == [
        ("vehicle", "plug_in", 1),
        ("vehicle", "unplug", 1),
        ("send", "ClearChargingProfile", None),
    ]
    # Waits count from the previous recorded exchange (the runner answers the skipped ones).
    waits = [s["duration_s"] for s in case["steps"] if s["kind"] == "wait"]
    assert waits == [0.9] * len(waits)
    assert f"{len(calls)} of the station's BootNotification" in case["description"]


def test_csms_role_sends_every_housekeeping_request(tmp_path: Path) -> None:
    calls = [status16("1", 0, "Available"), status16("2", 1, "Preparing")]
    recording = load_recording(log(tmp_path, calls, CLEAR16))
    case = scenario_from_recording(recording, FromTraceOptions(role=DutRole.CSMS))
    sent = [(s["kind"], s["action"]) for s in case["steps"] if s["kind"] != "wait"]
    assert sent == [
        ("send", "StatusNotification"),
        ("send", "StatusNotification"),
        ("expect_request", "ClearChargingProfile"),
    ]


def test_an_empty_recorded_answer_is_left_to_the_runner(tmp_path: Path) -> None:
    meter = [2, "m", "MeterValues", {"connectorId": 1, "meterValue": []}]
    recording = load_recording(log(tmp_path, [meter], CLEAR16))
    case = scenario_from_recording(recording, FromTraceOptions(role=DutRole.STATION))
    (expected,) = [s for s in case["steps"] if s["kind"] == "expect_request"]
    assert expected["action"] == "MeterValues"
    assert "respond_with" not in expected  # {} says nothing the default answer does not
