"""End to end: a simulated station of each version over real websockets (127.0.0.1) against
a CSMS written with the ``ocpp`` package, on an accelerated clock.

The clock is virtual (``tests.virtual``: the CSMS shares the test's loop), reporting speed
40 so that the station steps as at that speed: "sleep 12 clock seconds, then read the
meter" does not depend on the load of the machine (on a scaled wall clock 25 ms of load
were a clock second)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import fastjsonschema
import ocpp.exceptions
import pytest

from harness.versions import OcppVersion
from simulators.station import StationConfig, StationTransaction
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue
from tests.simulators.station import requests as rq
from tests.simulators.station.csms import run_csms
from tests.virtual import PacedLoopClock, on_virtual_time

VERSION = {rq.V16: OcppVersion.V16, rq.V201: OcppVersion.V201, rq.V21: OcppVersion.V21}
SPEED = 40.0  # one clock second = 25 ms


@asynccontextmanager
async def live(
    subprotocol: str, *, archetype: str = "bev_3ph_16a", speed: float = SPEED, **config: Any
) -> AsyncIterator[tuple[SimulatedStation, Any, PacedLoopClock]]:
    """A booted station ``CP1`` connected to a test CSMS; yields (station, csms side, clock)."""
    clock = PacedLoopClock(speed=speed)
    settings = {"station_id": "CP1", "meter_interval_s": 5, **config}
    station = SimulatedStation(
        StationConfig(ocpp_version=VERSION[subprotocol], **settings),
        clock=clock,
        vehicle_params=load_catalogue().get(archetype).vehicle_params(),
    )
    async with run_csms(subprotocol) as csms:
        task = asyncio.create_task(station.connect(f"{csms.url}/CP1"))
        cp = await csms.station("CP1")
        await station.wait_booted(timeout_s=60 * speed)
        try:
            yield station, cp, clock
        finally:
            await station.stop()
            await task
        # everything the station sent passed its own schema check and was answered
        assert station.stats.errors == 0
        assert station.connection is not None
        assert station.connection.local_errors == []


async def started(station: SimulatedStation, cp: Any, subprotocol: str) -> str:
    """Plug in and start locally; the transaction id the CSMS knows."""
    await station.plug_in(1)
    assert isinstance(await station.present_token(1, "TAG"), StationTransaction)
    if subprotocol == rq.V16:
        await cp.wait_for(lambda: cp.calls("StartTransaction"))
        await cp.wait_for(lambda: station.core.transaction(1).transaction_id != "1")
    tx = station.core.transaction(1)
    assert tx is not None
    return tx.transaction_id


def near(values: list[float], expected_a: float) -> bool:
    """Every phase within 0.2 A of ``expected_a``."""
    return all(abs(v - expected_a) <= 0.2 for v in values)


def phase_currents(cp: Any, subprotocol: str) -> list[float]:
    found = rq.latest(cp, subprotocol, "Current.Import")
    return [found.get(p, 0.0) for p in ("L1", "L2", "L3")]


@pytest.mark.parametrize("subprotocol", rq.VERSIONS)
@on_virtual_time
async def test_boot_transaction_and_tx_profile_limit_followed(subprotocol: str) -> None:
    async with live(subprotocol) as (station, cp, _clock):
        assert cp.calls("BootNotification")
        await cp.wait_for(lambda: cp.calls("StatusNotification"))
        tx_id = await started(station, cp, subprotocol)
        # vehicle delay 2 s + ramp, then a sample (every 5 s): ~10 clock s (the bound is in
        # virtual clock seconds)
        await cp.wait_for(lambda: near(phase_currents(cp, subprotocol), 16), timeout_s=60)

        profile = rq.tx_profile(subprotocol, tx_id=tx_id, limit=10)
        answer = await cp.ask(rq.set_profile(subprotocol, profile))
        assert answer["status"] == "Accepted"
        sent = len(rq.meter_values(cp, subprotocol))
        # apply delay 1 s + vehicle delay 2 s + ramp, then a sample
        await cp.wait_for(lambda: near(phase_currents(cp, subprotocol), 10), timeout_s=60)
        assert len(rq.meter_values(cp, subprotocol)) > sent
        assert rq.latest(cp, subprotocol, "Current.Offered")[None] == pytest.approx(10)

        # the ocpp package validates the answer (call() raises on a schema violation) ...
        answer = await cp.ask(rq.composite(subprotocol, duration_s=300, unit="A"))
        # ... and so do we, against the schema file it ships
        rq.schema_validate(
            subprotocol,
            "GetCompositeScheduleResponse",
            answer,
        )
        assert answer["status"] == "Accepted"
        periods = rq.composite_periods(subprotocol, answer)
        assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 10)]


@pytest.mark.parametrize("subprotocol", rq.VERSIONS)
@on_virtual_time
async def test_remote_start_with_tx_profile_then_clear(subprotocol: str) -> None:
    async with live(subprotocol) as (station, cp, clock):
        await station.plug_in(1)
        profile = rq.tx_profile(subprotocol, tx_id=None, limit=8, pid=3)
        answer = await cp.ask(rq.remote_start(subprotocol, profile=profile))
        assert answer["status"] == "Accepted"
        await clock.sleep(12)
        assert phase_currents(cp, subprotocol) == pytest.approx([8, 8, 8], abs=0.2)
        if subprotocol == rq.V16:
            assert cp.calls("StartTransaction")[0]["idTag"] == "REMOTE"
        else:
            started_event = cp.calls("TransactionEvent")[0]
            assert started_event["eventType"] == "Started"
            assert started_event["triggerReason"] == "RemoteStart"
            assert started_event["transactionInfo"]["remoteStartId"] == 42

        answer = await cp.ask(rq.clear_profile(subprotocol, pid=3))
        assert answer["status"] == "Accepted"
        await clock.sleep(12)
        assert phase_currents(cp, subprotocol) == pytest.approx([16, 16, 16], abs=0.2)
        answer = await cp.ask(rq.clear_profile(subprotocol, pid=3))
        assert answer["status"] == "Unknown"


@on_virtual_time
async def test_16_configuration_keys() -> None:
    from ocpp.v16 import call

    async with live(rq.V16) as (_, cp, _clock):
        keys = ["ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
                "ChargingScheduleMaxPeriods", "MaxChargingProfilesInstalled",
                "MeterValuesSampledData", "MeterValueSampleInterval", "HeartbeatInterval",
                "ConnectorPhaseRotation", "NoSuchKey"]  # fmt: skip
        answer = await cp.ask(call.GetConfiguration(key=keys))
        values = {k["key"]: k["value"] for k in answer["configurationKey"]}
        assert values["ChargeProfileMaxStackLevel"] == "8"
        assert values["ChargingScheduleAllowedChargingRateUnit"] == "Current,Power"
        assert values["ChargingScheduleMaxPeriods"] == "24"
        assert values["MeterValueSampleInterval"] == "5"
        assert values["HeartbeatInterval"] == "60"  # as the CSMS said at boot
        assert answer["unknownKey"] == ["NoSuchKey"]
        answer = await cp.ask(call.ChangeConfiguration(key="MeterValueSampleInterval", value="30"))
        assert answer["status"] == "Accepted"
        answer = await cp.ask(call.ChangeConfiguration(key="ChargeProfileMaxStackLevel", value="3"))
        assert answer["status"] == "Rejected"
        answer = await cp.ask(call.ChangeConfiguration(key="NoSuchKey", value="3"))
        assert answer["status"] == "NotSupported"
        answer = await cp.ask(call.GetConfiguration(key=["MeterValueSampleInterval"]))
        assert answer["configurationKey"][0]["value"] == "30"


def variable(component: str, name: str) -> dict[str, Any]:
    return {"component": {"name": component}, "variable": {"name": name}}


@pytest.mark.parametrize("subprotocol", [rq.V201, rq.V21])
@on_virtual_time
async def test_2x_smart_charging_variables(subprotocol: str) -> None:
    module = rq._CALLS[subprotocol]
    names = ["Enabled", "Available", "LimitChangeSignificance", "PeriodsPerSchedule",
             "ProfileStackLevel", "RateUnit", "ExternalControlSignalsEnabled",
             "NotifyChargingLimitWithSchedules", "Phases3to1"]  # fmt: skip
    async with live(subprotocol) as (_, cp, _clock):
        data = [
            {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": n}} for n in names
        ]
        data.append({"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "Nope"}})
        data.append({"component": {"name": "NoCtrlr"}, "variable": {"name": "Enabled"}})
        answer = await cp.ask(module.GetVariables(get_variable_data=data))
        results = answer["getVariableResult"]
        values = {r["variable"]["name"]: r.get("attributeValue") for r in results[:-2]}
        assert all(r["attributeStatus"] == "Accepted" for r in results[:-2])
        assert values["PeriodsPerSchedule"] == "24"
        assert values["ProfileStackLevel"] == "8"
        assert values["RateUnit"] == "A,W"
        assert values["Phases3to1"] == "false"
        assert [r["attributeStatus"] for r in results[-2:]] == [
            "UnknownVariable",
            "UnknownComponent",
        ]
        set_data = [
            {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"},
             "attributeValue": "30"},
            {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"},
             "attributeValue": "W"},
        ]  # fmt: skip
        answer = await cp.ask(module.SetVariables(set_variable_data=set_data))
        statuses = [r["attributeStatus"] for r in answer["setVariableResult"]]
        assert statuses == ["Accepted", "Rejected"]
        again = [
            {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}}
        ]
        answer = await cp.ask(module.GetVariables(get_variable_data=again))
        assert answer["getVariableResult"][0]["attributeValue"] == "30"


@pytest.mark.parametrize("subprotocol", rq.VERSIONS)
@on_virtual_time
async def test_trigger_message(subprotocol: str) -> None:
    async with live(subprotocol) as (station, cp, _clock):
        await started(station, cp, subprotocol)
        for message, action in (
            ("MeterValues", "MeterValues"),
            ("StatusNotification", "StatusNotification"),
            ("Heartbeat", "Heartbeat"),
        ):
            before = len(cp.calls(action))
            answer = await cp.ask(rq.trigger(subprotocol, message))
            assert answer["status"] == "Accepted"
            await cp.wait_for(lambda a=action, n=before: len(cp.calls(a)) > n)
        triggered = cp.calls("MeterValues")[-1]["meterValue"][0]["sampledValue"]
        assert {s["context"] for s in triggered} == {"Trigger"}


@pytest.mark.parametrize("subprotocol", rq.VERSIONS)
@on_virtual_time
async def test_unsupported_action_gets_not_implemented(subprotocol: str) -> None:
    async with live(subprotocol) as (_, cp, _clock):
        with pytest.raises(ocpp.exceptions.NotImplementedError):
            await cp.call(rq.unsupported(subprotocol), suppress=False)
        assert cp.last_error()[2] == "NotImplemented"


@on_virtual_time
async def test_21_central_setpoint_negative_makes_the_vehicle_export() -> None:
    async with live(rq.V21, archetype="bev_bidirectional", reports_soc=True) as (
        station,
        cp,
        clock,
    ):
        tx_id = await started(station, cp, rq.V21)
        needs = await cp.wait_for(lambda: cp.calls("NotifyEVChargingNeeds"))
        v2x = needs[0]["chargingNeeds"]["v2xChargingParameters"]
        assert needs[0]["chargingNeeds"]["requestedEnergyTransfer"] == "AC_BPT"
        assert v2x["maxDischargePower"] > 0
        profile = rq.tx_profile(
            rq.V21, tx_id=tx_id, limit=11000, unit="W",
            operationMode="CentralSetpoint", setpoint=-5000, dischargeLimit=-11000,
        )  # fmt: skip
        answer = await cp.ask(rq.set_profile(rq.V21, profile))
        assert answer["status"] == "Accepted"
        await clock.sleep(15)
        assert rq.latest(cp, rq.V21, "Power.Active.Export")[None] == pytest.approx(5000, rel=0.05)
        assert rq.latest(cp, rq.V21, "Power.Active.Import")[None] == 0
        soc = rq.latest(cp, rq.V21, "SoC")[None]
        assert 59 < soc < 61  # it started at 60 %: a few seconds of charge and export
        export_a = rq.latest(cp, rq.V21, "Current.Export")
        assert export_a == {} or export_a["L1"] > 0  # Current.Export is not in the default set


@pytest.mark.parametrize("subprotocol", [rq.V201, rq.V21])
@on_virtual_time
async def test_2x_get_charging_profiles_reports_what_is_installed(subprotocol: str) -> None:
    module = rq._CALLS[subprotocol]
    async with live(subprotocol) as (station, cp, _clock):
        tx_id = await started(station, cp, subprotocol)
        profile = rq.tx_profile(subprotocol, tx_id=tx_id, limit=12, pid=21)
        assert (await cp.ask(rq.set_profile(subprotocol, profile)))["status"] == "Accepted"
        answer = await cp.ask(
            module.GetChargingProfiles(request_id=5, charging_profile={"stackLevel": 0})
        )
        assert answer["status"] == "Accepted"
        reports = await cp.wait_for(lambda: cp.calls("ReportChargingProfiles"))
        assert reports[0]["requestId"] == 5
        assert reports[0]["evseId"] == 1
        assert reports[0]["tbc"] is False
        assert [p["id"] for p in reports[0]["chargingProfile"]] == [21]
        answer = await cp.ask(
            module.GetChargingProfiles(request_id=6, charging_profile={"stackLevel": 3})
        )
        assert answer["status"] == "NoProfiles"


@pytest.mark.parametrize("subprotocol", rq.VERSIONS)
@on_virtual_time
async def test_remote_stop_then_unplug(subprotocol: str) -> None:
    async with live(subprotocol) as (station, cp, clock):
        tx_id = await started(station, cp, subprotocol)
        await clock.sleep(30)
        if subprotocol == rq.V16:
            answer = await cp.ask(rq.c16.RemoteStopTransaction(transaction_id=int(tx_id)))
        else:
            module = rq._CALLS[subprotocol]
            answer = await cp.ask(module.RequestStopTransaction(transaction_id=tx_id))
        assert answer["status"] == "Accepted"
        if subprotocol == rq.V16:
            stop = (await cp.wait_for(lambda: cp.calls("StopTransaction")))[0]
            assert stop["reason"] == "Remote"
            assert stop["transactionId"] == int(tx_id)
        else:
            ended = await cp.wait_for(
                lambda: [e for e in cp.calls("TransactionEvent") if e["eventType"] == "Ended"]
            )
            assert ended[0]["transactionInfo"]["stoppedReason"] == "Remote"
            assert ended[0]["triggerReason"] == "RemoteStop"
            seq = [e["seqNo"] for e in cp.calls("TransactionEvent")]
            assert seq == list(range(len(seq)))
        assert rq.energy_wh(cp, subprotocol) > 0
        await station.unplug(1)
        available = "Available"
        await cp.wait_for(
            lambda: (
                cp.calls("StatusNotification")[-1].get("status", available) == available
                and cp.calls("StatusNotification")[-1].get("connectorStatus", available)
                == available
            )
        )


@on_virtual_time
async def test_21_allowed_energy_transfer_without_bpt_stops_export() -> None:
    async with live(rq.V21, archetype="bev_bidirectional") as (station, cp, clock):
        tx_id = await started(station, cp, rq.V21)
        answer = await cp.ask(
            rq.c21.NotifyAllowedEnergyTransfer(
                transaction_id=tx_id, allowed_energy_transfer=["AC_three_phase"]
            )
        )
        assert answer["status"] == "Accepted"
        profile = rq.tx_profile(
            rq.V21, tx_id=tx_id, limit=11000, unit="W",
            operationMode="CentralSetpoint", setpoint=-5000, dischargeLimit=-11000,
        )  # fmt: skip
        assert (await cp.ask(rq.set_profile(rq.V21, profile)))["status"] == "Accepted"
        await clock.sleep(15)
        assert rq.latest(cp, rq.V21, "Power.Active.Export")[None] == 0
        answer = await cp.ask(
            rq.c21.NotifyAllowedEnergyTransfer(
                transaction_id="nope", allowed_energy_transfer=["AC_BPT"]
            )
        )
        assert answer["status"] == "Rejected"


@pytest.mark.parametrize(
    ("subprotocol", "fault"),
    [(rq.V16, "too_many_decimals"), (rq.V201, "empty_composite"), (rq.V21, "empty_composite")],
)
@on_virtual_time
async def test_the_ocpp_package_really_validates_the_composite_answer(
    subprotocol: str, fault: str
) -> None:
    """The control for the schema checks above: a composite that breaks the schema (1.6: a
    limit with more than one decimal; 2.x: no periods — a station fault) is refused by the
    ``ocpp`` package's validation and by the shipped schema file."""
    async with live(subprotocol, faults=frozenset({fault})) as (station, cp, _):
        tx_id = await started(station, cp, subprotocol)
        profile = rq.tx_profile(subprotocol, tx_id=tx_id, limit=5000, unit="W")
        assert (await cp.ask(rq.set_profile(subprotocol, profile)))["status"] == "Accepted"
        request = rq.composite(subprotocol, duration_s=300, unit="A")
        with pytest.raises(ocpp.exceptions.OCPPError):
            await cp.call(request, suppress=False)
        answer = cp.last_result()
        periods = rq.composite_periods(subprotocol, answer)
        assert periods == [] if fault == "empty_composite" else periods[0]["limit"] == 5000 / 690
        with pytest.raises(fastjsonschema.JsonSchemaValueException):
            rq.schema_validate(subprotocol, "GetCompositeScheduleResponse", answer)


@pytest.mark.parametrize("subprotocol", rq.VERSIONS)
@on_virtual_time
async def test_change_availability(subprotocol: str) -> None:
    module = rq._CALLS[subprotocol]
    async with live(subprotocol) as (station, cp, _clock):
        if subprotocol == rq.V16:
            request = module.ChangeAvailability(connector_id=1, type="Inoperative")
        else:
            request = module.ChangeAvailability(operational_status="Inoperative", evse={"id": 1})
        assert (await cp.ask(request))["status"] == "Accepted"
        key = "status" if subprotocol == rq.V16 else "connectorStatus"
        await cp.wait_for(lambda: cp.calls("StatusNotification")[-1][key] == "Unavailable")
        await station.plug_in(1)
        answer = await cp.ask(rq.remote_start(subprotocol, profile=None))
        assert answer["status"] == "Rejected"


async def test_16_meter_and_timeout_keys_are_writable() -> None:
    """What the OCA 1.6 Core cases configure (TC_011_2_CS ConnectionTimeOut, TC_070/071_CS
    the sampled and clock-aligned intervals and measurands): each key is writable and takes
    effect; a station whose vehicle gives no state of charge does not list SoC."""
    from ocpp.v16 import call

    async with live(rq.V16) as (station, cp, _clock):
        answer = await cp.ask(call.GetConfiguration(key=["MeterValuesSampledData"]))
        assert "SoC" not in answer["configurationKey"][0]["value"].split(",")
        for key, value in (
            ("ClockAlignedDataInterval", "10"),
            ("MeterValuesAlignedData", "Energy.Active.Import.Register,Current.Import"),
            ("MeterValueSampleInterval", "0"),
            ("ConnectionTimeOut", "15"),
        ):
            answer = await cp.ask(call.ChangeConfiguration(key=key, value=value))
            assert answer["status"] == "Accepted", key
        answer = await cp.ask(call.ChangeConfiguration(key="ClockAlignedDataInterval", value="x"))
        assert answer["status"] == "Rejected"
        assert station.core.config.connection_timeout_s == 15
        await started(station, cp, rq.V16)
        meter_values = await cp.wait_for(lambda: cp.calls("MeterValues")[2:], timeout_s=60)
        for payload in meter_values:
            (value,) = payload["meterValue"]
            assert value["timestamp"].endswith(("0.000Z", "0Z")), value["timestamp"]
            measurands = [s["measurand"] for s in value["sampledValue"]]
            assert measurands[0] == "Energy.Active.Import.Register"
            assert {s["context"] for s in value["sampledValue"]} == {"Sample.Clock"}
