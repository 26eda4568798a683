"""A simulated 1.6 station whose vehicle runs in another process (``ocpp-harness vehicle``)
over an MQTT pilot link on the real mosquitto broker (loopback), against the test CSMS."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.clock import ScaledClock
from harness.versions import OcppVersion
from simulators.pilot import MqttSettings
from simulators.station import StationConfig
from simulators.station.pilot_vehicle import MqttPilotVehicles, PilotLinkVehicle
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue
from tests.conftest import Broker, free_port
from tests.simulators.station import requests as rq
from tests.simulators.station.csms import run_csms
from tests.simulators.station.test_e2e import phase_currents, started

ROOT = Path(__file__).resolve().parents[3]
SPEED = 50.0  # both processes' clocks: one clock second = 20 ms
START_S = 10.0  # wall seconds for the vehicle process to start, connect and draw 16 A
WAIT_S = 5.0  # wall seconds for a limit to show in the meter values (needs ~0.2 s)


@asynccontextmanager
async def vehicle_process(broker: Broker, station_id: str) -> AsyncIterator[Process]:
    """``python -m harness vehicle`` for ``station_id``/EVSE 1 at ``SPEED``; SIGTERM at the
    end (it must exit 0 within 5 s), killed if it does not."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness", "vehicle", "--mqtt", broker.url,
        "--station", station_id, "--evse", "1", "--archetype", "bev_3ph_16a",
        "--speed", str(SPEED), "--step", "0.5",
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await asyncio.wait_for(ready(proc), START_S)
        yield proc
        assert proc.returncode is None, "the vehicle process ended early"
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 5.0)
        assert proc.returncode == 0, err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def ready(proc: Process) -> None:
    """Read the vehicle process's stderr until it says it is connected."""
    assert proc.stderr is not None
    while b"vehicle ready" not in (line := await proc.stderr.readline()):
        if not line:
            raise AssertionError(f"the vehicle process exited: {proc.returncode}")


async def currents_near(cp: Any, limit_a: float, what: str, *, timeout_s: float = WAIT_S) -> None:
    """Wait until the CSMS's latest Current.Import is ``limit_a`` ± 0.3 A on every phase."""

    def near() -> bool:
        return phase_currents(cp, rq.V16) == pytest.approx([limit_a] * 3, abs=0.3)

    try:
        await cp.wait_for(near, timeout_s=timeout_s)
    except TimeoutError:
        seen = phase_currents(cp, rq.V16) if rq.meter_values(cp, rq.V16) else "no MeterValues"
        raise AssertionError(f"{what}: Current.Import never ≈ {limit_a} A; last {seen}") from None


async def test_station_charges_a_vehicle_running_in_another_process(mosquitto: Broker) -> None:
    sid = f"MQ{uuid.uuid4().hex[:8]}"  # fresh topics: no retained state from other tests
    params = load_catalogue().get("bev_3ph_16a").vehicle_params()
    clock = ScaledClock(speed=SPEED)
    remote = MqttPilotVehicles(MqttSettings.from_url(mosquitto.url), params=params, clock=clock)
    station = SimulatedStation(
        StationConfig(ocpp_version=OcppVersion.V16, station_id=sid, meter_interval_s=5),
        clock=clock,
        vehicle_link_factory=remote.factory(sid),
    )
    async with vehicle_process(mosquitto, sid), run_csms(rq.V16) as csms:
        task = asyncio.create_task(station.connect(f"{csms.url}/{sid}"))
        try:
            cp = await csms.station(sid)
            await station.wait_booted(timeout_s=60 * SPEED)
            tx_id = await started(station, cp, rq.V16)  # plug-in over the link, then start
            ev = station.vehicle(1)
            assert isinstance(ev, PilotLinkVehicle), f"not a pilot-link vehicle: {ev!r}"
            await currents_near(cp, 16.0, "the vehicle process at 16 A", timeout_s=START_S)
            assert ev.end.vehicle_online is True
            assert ev.end.plugged is True

            profile = rq.tx_profile(rq.V16, tx_id=tx_id, limit=10)
            answer = await cp.ask(rq.set_profile(rq.V16, profile))
            assert answer["status"] == "Accepted"
            await currents_near(cp, 10.0, "after the 10 A TxProfile")
            assert rq.latest(cp, rq.V16, "Current.Offered")[None] == pytest.approx(10)

            assert ev.send_failures == 0, ev.last_error
            assert ev.end.stats.bad_payloads == 0, ev.end.last_bad_payload
        finally:
            await station.stop()
            await task
            await remote.aclose()
    assert station.stats.errors == 0


async def test_simulate_command_with_pilot_mqtt_drives_the_vehicle_process(
    mosquitto: Broker,
) -> None:
    prefix = f"MQ{uuid.uuid4().hex[:8]}-"
    async with vehicle_process(mosquitto, f"{prefix}1"), run_csms(rq.V16) as csms:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness", "simulate", "--csms", csms.url,
            "--id-prefix", prefix, "--speed", str(SPEED), "--duration", "40",
            "--meter-interval", "5", "--pilot-mqtt", mosquitto.url,
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), START_S)
        text = err.decode()
        assert proc.returncode == 0, text
        cp = csms.stations[f"{prefix}1"]
        assert cp.calls("StartTransaction"), text
        assert phase_currents(cp, rq.V16) == pytest.approx([16, 16, 16], abs=0.3), text
    assert "pilot links: 1 vehicles, 0 failed sends" in text


def test_simulate_refuses_a_bad_pilot_broker_url() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "simulate", "--csms", "ws://127.0.0.1:9/x",
         "--pilot-mqtt", "http://127.0.0.1:1883"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--pilot-mqtt" in proc.stderr
    assert "expected the scheme mqtt:// or mqtts://" in proc.stderr
    assert "Traceback" not in proc.stderr


async def test_simulate_says_when_the_pilot_broker_cannot_be_reached() -> None:
    nobody = f"mqtt://127.0.0.1:{free_port()}"
    async with run_csms(rq.V16) as csms:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness", "simulate", "--csms", csms.url,
            "--speed", str(SPEED), "--duration", "20", "--pilot-mqtt", nobody,
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), START_S)
    text = err.decode()
    assert proc.returncode == 0, text  # the station itself connected to the CSMS
    assert f"SIM-1: EVSE 1: pilot link: cannot connect to the MQTT broker at {nobody}" in text
    assert "Traceback" not in text
