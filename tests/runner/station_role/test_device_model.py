"""The 2.x device model and the station's answers to the CSMS's common requests."""

from __future__ import annotations

from typing import Any

import pytest

from harness.clock import ScaledClock
from harness.connection import OcppConnection
from harness.runner.station_role import (
    StationDeclaration,
    StationEndpoint,
    StationState,
    declaration_from_parameters,
)
from harness.runner.station_role.device_model import DeviceModel
from harness.session import CallErrorReceived, CallReceived, Role
from harness.transport import OcppSubprotocol, memory_pair
from harness.versions import OcppVersion


def _item(component: dict[str, Any], variable: str, **extra: Any) -> dict[str, Any]:
    return {"component": component, "variable": {"name": variable}, **extra}


def test_get_and_set_variables_follow_the_model() -> None:
    model = DeviceModel(StationDeclaration(number_of_evses=2, max_stack_level=5))
    level = model.get(_item({"name": "SmartChargingCtrlr"}, "ProfileStackLevel"))
    assert (level["attributeStatus"], level["attributeValue"]) == ("Accepted", "5")
    evse2 = model.get(_item({"name": "EVSE", "evse": {"id": 2}}, "AvailabilityState"))
    assert evse2["attributeValue"] == "Available"
    assert (
        model.get(_item({"name": "EVSE", "evse": {"id": 3}}, "Available"))["attributeStatus"]
        == "UnknownComponent"
    )
    assert model.get(_item({"name": "TxCtrlr"}, "Nope"))["attributeStatus"] == "UnknownVariable"
    hb = {"name": "OCPPCommCtrlr"}
    assert model.set(_item(hb, "HeartbeatInterval", attributeValue="60"))["attributeStatus"] == (
        "Accepted"
    )
    assert model.get(_item(hb, "HeartbeatInterval"))["attributeValue"] == "60"
    assert (
        model.set(_item(hb, "HeartbeatInterval", attributeValue="soon"))["attributeStatus"]
        == "Rejected"
    )
    read_only = _item({"name": "SmartChargingCtrlr"}, "RateUnit", attributeValue="W")
    assert model.set(read_only)["attributeStatus"] == "Rejected"
    assert model.evse_ids() == (1, 2)


class _Csms:
    """The CSMS end of a memory pair, recording the station's requests."""

    def __init__(self, version: OcppVersion, declaration: StationDeclaration | None = None) -> None:
        sub = OcppSubprotocol.V16 if version is OcppVersion.V16 else OcppSubprotocol.V201
        self.clock = ScaledClock(speed=1.0)
        station_end, csms_end = memory_pair("CP-1", sub)
        self.state = StationState(version, declaration or StationDeclaration(number_of_evses=1))
        self.endpoint = StationEndpoint(station_end, clock=self.clock, state=self.state)
        self.got: list[tuple[str, dict[str, Any]]] = []
        actions = (
            "NotifyReport",
            "StatusNotification",
            "BootNotification",
            "Heartbeat",
            "TransactionEvent",
            "StopTransaction",
            "MeterValues",
            "StartTransaction",
        )
        self.connection = OcppConnection.open(
            csms_end,
            role=Role.CSMS,
            clock=self.clock,
            handlers={a: self._handler(a) for a in actions},
        )

    def _handler(self, action: str) -> Any:
        async def handle(event: CallReceived) -> dict[str, Any]:
            self.got.append((action, dict(event.payload)))
            if action == "BootNotification":
                return {
                    "currentTime": "2026-12-07T00:00:00Z",
                    "interval": 300,
                    "status": "Accepted",
                }
            if action == "Heartbeat":
                return {"currentTime": "2026-12-07T00:00:00Z"}
            if action == "StartTransaction":
                return {"transactionId": 5, "idTagInfo": {"status": "Accepted"}}
            return {}

        return handle

    async def __aenter__(self) -> _Csms:
        self.endpoint.start()
        self.connection.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.connection.close()
        await self.endpoint.close()

    async def ask(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        result = await self.connection.call(action, payload, timeout_s=5)
        await self.endpoint.settle(timeout_s=5)
        return dict(result.payload)


async def test_get_base_report_is_answered_with_notify_reports_naming_the_evse() -> None:
    async with _Csms(OcppVersion.V201) as csms:
        answer = await csms.ask("GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
        assert answer == {"status": "Accepted"}
        reports = [p for a, p in csms.got if a == "NotifyReport"]
        assert reports
        assert all(p["requestId"] == 7 for p in reports)
        assert [p["seqNo"] for p in reports] == list(range(len(reports)))
        assert reports[-1]["tbc"] is False
        components = [d["component"] for p in reports for d in p.get("reportData", [])]
        assert {"name": "EVSE", "evse": {"id": 1}} in components
        empty = await csms.ask(
            "GetReport",
            {"requestId": 8, "componentVariable": [{"component": {"name": "NoSuchCtrlr"}}]},
        )
        assert empty == {"status": "EmptyResultSet"}


async def test_common_requests_get_sensible_answers_and_their_messages() -> None:
    async with _Csms(OcppVersion.V201) as csms:
        trigger = await csms.ask("TriggerMessage", {"requestedMessage": "StatusNotification"})
        assert trigger == {"status": "Accepted"}
        assert csms.got[-1][0] == "StatusNotification"
        assert csms.got[-1][1]["connectorStatus"] == "Available"
        off = await csms.ask("ChangeAvailability", {"operationalStatus": "Inoperative"})
        assert off == {"status": "Accepted"}
        assert csms.got[-1][1]["connectorStatus"] == "Unavailable"
        assert await csms.ask("GetLocalListVersion", {}) == {"versionNumber": 0}
        firmware = await csms.ask(
            "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}
        )
        assert firmware == {"status": "NotImplemented"}


async def test_a_reset_ends_the_running_transaction_and_boots_again() -> None:
    async with _Csms(OcppVersion.V16) as csms:
        start = {
            "connectorId": 1,
            "idTag": "04A1B2C3",
            "meterStart": 0,
            "timestamp": "2026-12-07T00:00:00Z",
        }
        outcome = await csms.endpoint.call("StartTransaction", start, timeout_s=5)
        assert outcome.payload is not None
        assert csms.state.open_transactions() == {1: "5"}
        assert await csms.ask("Reset", {"type": "Soft"}) == {"status": "Accepted"}
        sent = [a for a, _ in csms.got]
        assert sent[-3:] == ["StopTransaction", "BootNotification", "StatusNotification"]
        stop = next(p for a, p in csms.got if a == "StopTransaction")
        assert (stop["transactionId"], stop["reason"]) == (5, "SoftReset")
        assert csms.state.open_transactions() == {}


async def test_the_16_configuration_can_be_read_and_changed() -> None:
    async with _Csms(OcppVersion.V16) as csms:
        config = await csms.ask("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
        assert config["configurationKey"] == [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
        ]
        assert config["unknownKey"] == ["Nope"]
        change = {"key": "HeartbeatInterval", "value": "60"}
        assert await csms.ask("ChangeConfiguration", change) == {"status": "Accepted"}
        again = await csms.ask("GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert again["configurationKey"][0]["value"] == "60"
        read_only = {"key": "ChargeProfileMaxStackLevel", "value": "99"}
        assert await csms.ask("ChangeConfiguration", read_only) == {"status": "Rejected"}
        unknown = {"key": "NoSuchKey", "value": "1"}
        assert await csms.ask("ChangeConfiguration", unknown) == {"status": "NotSupported"}


async def test_availability_change_waits_for_the_running_transaction() -> None:
    async with _Csms(OcppVersion.V16) as csms:
        start = {
            "connectorId": 1,
            "idTag": "04A1B2C3",
            "meterStart": 0,
            "timestamp": "2026-12-07T00:00:00Z",
        }
        await csms.endpoint.call("StartTransaction", start, timeout_s=5)
        busy = await csms.ask("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
        assert busy == {"status": "Scheduled"}
        stop = await csms.ask("RemoteStopTransaction", {"transactionId": 5})
        assert stop == {"status": "Accepted"}
        assert [a for a, _ in csms.got][-2:] == ["StopTransaction", "StatusNotification"]
        assert csms.state.open_transactions() == {}
        unknown = await csms.ask("RemoteStopTransaction", {"transactionId": 5})
        assert unknown == {"status": "Rejected"}


async def test_a_station_without_smart_charging_answers_not_supported() -> None:
    """TC_K_15_CSMS: station_smart_charging false — the smart-charging requests get CALLERROR
    NotSupported (recognised, not supported), the model says SmartChargingCtrlr is not
    available, and the request still reaches a waiting step."""
    declaration = declaration_from_parameters({"station_smart_charging": False})
    async with _Csms(OcppVersion.V201, declaration) as csms:
        profile = {
            "evseId": 1,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
                    }
                ],
            },
        }
        with pytest.raises(CallErrorReceived) as refused:
            await csms.ask("SetChargingProfile", profile)
        assert str(refused.value.code) == "NotSupported"
        assert [r.action for r in csms.endpoint.all_requests] == ["SetChargingProfile"]
        got = await csms.ask(
            "GetVariables",
            {
                "getVariableData": [
                    {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "Available"}}
                ]
            },
        )
        assert got["getVariableResult"][0]["attributeValue"] == "false"
        with pytest.raises(CallErrorReceived) as unknown:  # not a smart-charging request
            await csms.ask(
                "GetLog",
                {"requestId": 1, "logType": "DiagnosticsLog", "log": {"remoteLocation": "ftp://x"}},
            )
        assert str(unknown.value.code) == "NotImplemented"


def test_station_smart_charging_must_be_a_boolean() -> None:
    assert declaration_from_parameters({}).smart_charging is True
    with pytest.raises(ValueError, match="station_smart_charging: expected true or false"):
        declaration_from_parameters({"station_smart_charging": "no"})
