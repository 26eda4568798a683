"""CSMS → station requests of each OCPP version as ``ocpp`` package dataclasses, and readers
of what the station sent (meter values, energy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
from ocpp.v16 import call as c16
from ocpp.v21 import call as c21
from ocpp.v201 import call as c201

V16, V201, V21 = "ocpp1.6", "ocpp2.0.1", "ocpp2.1"
VERSIONS = (V16, V201, V21)
_CALLS = {V16: c16, V201: c201, V21: c21}
_SCHEMA_DIRS = {V16: "v16", V201: "v201", V21: "v21"}


def schema_validate(subprotocol: str, name: str, payload: dict[str, Any]) -> None:
    """Validate ``payload`` against the schema file ``name`` the ``ocpp`` package ships
    (e.g. ``GetCompositeScheduleResponse``); raises on a violation."""
    folder = Path(ocpp.__file__).parent / _SCHEMA_DIRS[subprotocol] / "schemas"
    schema = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    schema.pop("$id", None)
    fastjsonschema.compile(schema)(payload)


def tx_profile(
    subprotocol: str,
    *,
    tx_id: str | None,
    limit: float,
    pid: int = 7,
    unit: str = "A",
    **period: Any,
) -> dict[str, Any]:
    """A Relative TxProfile with one period (``tx_id=None``: for a remote start)."""
    periods = [{"startPeriod": 0, "limit": limit, **period}]
    if subprotocol == V16:
        profile: dict[str, Any] = {
            "chargingProfileId": pid,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": unit, "chargingSchedulePeriod": periods},
        }
        if tx_id is not None:
            profile["transactionId"] = int(tx_id)
        return profile
    profile = {
        "id": pid,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": unit, "chargingSchedulePeriod": periods}
        ],
    }
    if tx_id is not None:
        profile["transactionId"] = tx_id
    return profile


def set_profile(subprotocol: str, profile: dict[str, Any], evse: int = 1) -> Any:
    if subprotocol == V16:
        return c16.SetChargingProfile(connector_id=evse, cs_charging_profiles=profile)
    return _CALLS[subprotocol].SetChargingProfile(evse_id=evse, charging_profile=profile)


def remote_start(subprotocol: str, *, profile: dict[str, Any] | None, evse: int = 1) -> Any:
    if subprotocol == V16:
        return c16.RemoteStartTransaction(
            id_tag="REMOTE", connector_id=evse, charging_profile=profile
        )
    return _CALLS[subprotocol].RequestStartTransaction(
        id_token={"idToken": "REMOTE", "type": "Central"},
        remote_start_id=42,
        evse_id=evse,
        charging_profile=profile,
    )


def composite(subprotocol: str, *, duration_s: int, unit: str | None = None, evse: int = 1) -> Any:
    if subprotocol == V16:
        return c16.GetCompositeSchedule(
            connector_id=evse, duration=duration_s, charging_rate_unit=unit
        )
    return _CALLS[subprotocol].GetCompositeSchedule(
        duration=duration_s, evse_id=evse, charging_rate_unit=unit
    )


def composite_periods(subprotocol: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
    key = "chargingSchedule" if subprotocol == V16 else "schedule"
    periods: list[dict[str, Any]] = answer[key]["chargingSchedulePeriod"]
    return periods


def clear_profile(subprotocol: str, *, pid: int) -> Any:
    if subprotocol == V16:
        return c16.ClearChargingProfile(id=pid)
    return _CALLS[subprotocol].ClearChargingProfile(charging_profile_id=pid)


def trigger(subprotocol: str, message: str) -> Any:
    if subprotocol == V16:
        return c16.TriggerMessage(requested_message=message, connector_id=1)
    return _CALLS[subprotocol].TriggerMessage(requested_message=message, evse={"id": 1})


def unsupported(subprotocol: str) -> Any:
    """A request the simulated station does not implement."""
    if subprotocol == V16:
        return c16.Reset(type="Soft")
    return _CALLS[subprotocol].UnlockConnector(evse_id=1, connector_id=1)  # 2.x has Reset


# --------------------------------------------------------------------- reading what was sent
def meter_values(cp: Any, subprotocol: str) -> list[dict[str, Any]]:
    """Every MeterValueType the station sent (MeterValues, Stop/TransactionEvent), in order."""
    found: list[dict[str, Any]] = []
    for frame in cp.frames:
        if frame[0] != 2:
            continue
        action, payload = frame[2], frame[3]
        if action == "MeterValues" or action == "TransactionEvent":
            found += payload.get("meterValue", [])
        elif action == "StopTransaction":
            found += payload.get("transactionData", [])
    return found


def readings(value: dict[str, Any], measurand: str) -> dict[str | None, float]:
    """``phase → value`` of ``measurand`` in one MeterValueType."""
    return {
        s.get("phase"): float(s["value"])
        for s in value["sampledValue"]
        if s.get("measurand") == measurand
    }


def latest(cp: Any, subprotocol: str, measurand: str) -> dict[str | None, float]:
    """The latest reported values of ``measurand`` (empty when never reported)."""
    for value in reversed(meter_values(cp, subprotocol)):
        found = readings(value, measurand)
        if found:
            return found
    return {}


def energy_wh(cp: Any, subprotocol: str) -> float:
    """Energy of the (last) transaction as the CSMS received it."""
    if subprotocol == V16:
        start = cp.calls("StartTransaction")[-1]["meterStart"]
        return float(cp.calls("StopTransaction")[-1]["meterStop"] - start)
    events = cp.calls("TransactionEvent")
    begin = next(e for e in events if e["eventType"] == "Started")
    end = [e for e in events if e["eventType"] == "Ended"][-1]
    register = "Energy.Active.Import.Register"
    first = readings(begin["meterValue"][0], register)[None]
    last = readings(end["meterValue"][0], register)[None]
    return last - first
