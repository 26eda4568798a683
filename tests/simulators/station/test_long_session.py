"""A six-hour session on an accelerated clock: a bounded number of wakeups (seconds of wall
time), the same energy as at a slower speed and as a tick-by-tick run of the same core and
vehicle without any I/O.

The sessions over websockets run on a virtual-time loop (the CSMS is in the same loop, on
loopback): clock time moves only when the station and the CSMS both wait, so a loaded
machine cannot shift a step or an exchange by clock minutes (at speed 36 000, 5 ms of wall
time are three clock minutes). The clock still reports its speed, so the station floors its
periodic steps as it does at that speed (``min_wall_step_s`` × speed: 3 clock minutes at
36 000, 1 at 12 000): the energy is judged across different step sizes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from harness.clock import run_virtual
from harness.versions import OcppVersion
from simulators.station import StationConfig, StationCore, StationTransaction
from simulators.station.runtime import SimulatedStation
from simulators.station.smartcharging import Accepted, Purpose
from simulators.vehicle import Vehicle, VehicleParams, load_catalogue
from tests.simulators.station import requests as rq
from tests.simulators.station.csms import run_csms
from tests.simulators.station.helpers import T0, Session, profile
from tests.virtual import PacedLoopClock

SIX_HOURS_S = 6 * 3600
# 16 A for six hours from the transaction's start, then 0 A: the energy is that of exactly
# six hours, whatever the moment the session is stopped afterwards.
PERIODS = [(0, 16.0), (SIX_HOURS_S, 0.0)]


def params() -> VehicleParams:
    # A battery big enough not to fill within six hours (30 % → ~89 %: the taper is included)
    return load_catalogue().get("bev_3ph_16a").vehicle_params({"battery_capacity_wh": 100_000})


async def six_hours_over_websockets(speed: float) -> tuple[float, int]:
    """(energy Wh the CSMS received, clock sleeps during the session)."""
    clock = PacedLoopClock(speed=speed)
    config = StationConfig(station_id="LONG", ocpp_version=OcppVersion.V16, meter_interval_s=300)
    station = SimulatedStation(config, clock=clock, vehicle_params=params())
    async with run_csms(rq.V16) as csms:
        task = asyncio.create_task(station.connect(f"{csms.url}/LONG"))
        cp = await csms.station("LONG")
        await station.wait_booted(timeout_s=10 * speed)
        default = {
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in PERIODS],
            },
        }  # fmt: skip
        assert (await cp.ask(rq.set_profile(rq.V16, default)))["status"] == "Accepted"
        sleeps0 = clock.sleeps
        await station.plug_in(1)
        tx = await station.present_token(1, "TAG")
        assert isinstance(tx, StationTransaction)
        end = tx.started_at + timedelta(seconds=SIX_HOURS_S + 600)
        await clock.sleep((end - clock.now()).total_seconds())
        await station.stop_transaction(1)
        await cp.wait_for(lambda: cp.calls("StopTransaction"))
        sleeps = clock.sleeps - sleeps0
        await station.stop()
        await task
        assert len(cp.calls("MeterValues")) >= SIX_HOURS_S // 300 - 2
        return rq.energy_wh(cp, rq.V16), sleeps


def six_hours_tick_by_tick() -> float:
    """The same session with the core and the vehicle stepped in 1 s ticks (no clock, no I/O)."""
    core = StationCore(StationConfig(ocpp_version=OcppVersion.V16), now=T0)
    s = Session(core, Vehicle(params()))
    s.core.plug_in(1, T0)
    s.car.plug_in()
    s.core.on_vehicle_reading(1, s.car.reading())
    default = profile(1, Purpose.TX_DEFAULT, PERIODS)
    assert isinstance(s.core.set_charging_profile(1, default, now=T0), Accepted)
    tx = s.core.start_transaction(1, id_token="TAG", now=T0)
    assert isinstance(tx, StationTransaction)
    s.run(SIX_HOURS_S + 600)
    return s.core.meter(1).energy_import_wh - tx.meter_start_wh


def test_six_hours_in_seconds_with_the_same_energy() -> None:
    fast, fast_sleeps = run_virtual(six_hours_over_websockets(36_000))
    slower, slower_sleeps = run_virtual(six_hours_over_websockets(12_000))
    reference = six_hours_tick_by_tick()
    print(
        f"6 h at speed 36000: {fast:.0f} Wh, {fast_sleeps} sleeps; "
        f"at 12000: {slower:.0f} Wh, {slower_sleeps} sleeps"
    )
    print(f"tick by tick (1 s): {reference:.0f} Wh")
    # Seconds of wall time: the periodic steps are floored at 5 ms of wall time (3 clock
    # minutes at 36 000), so six hours and ten minutes take about 124 wakeups (measured), not
    # one per clock second (22 200).
    assert fast_sleeps < 250
    assert slower_sleeps > fast_sleeps  # the floor follows the speed
    assert fast == pytest.approx(slower, rel=0.001)
    assert fast == pytest.approx(reference, rel=0.001)
    # 16 A on three phases for six hours is 66.2 kWh; the taper above 80 % SoC takes some off
    assert 0.9 * 66_240 < fast < 66_240
