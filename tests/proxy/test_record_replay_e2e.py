"""Acceptance of record and replay (issue #10), end to end over real websockets on loopback.

A simulated OCPP 1.6 station talks to a small CSMS written with the ``ocpp`` package through
the recording proxy; the CSMS runs a smart-charging session (boot, remote start,
StartTransaction, SetChargingProfile, MeterValues, GetCompositeSchedule). The recording
becomes a scenario (``scenario from-trace --role station``) which ``ocpp-harness run``
replays against the simulated station in virtual time: the good station PASSes, a station
with a catalogue fault FAILs at the step where it departs from the recording.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ocpp.v16 import call as c16

from harness.cli import main
from harness.clock import ScaledClock
from harness.proxy import RecordingProxy, load_recording
from harness.results import RunStore
from harness.scenario import load_cases
from harness.scenario.steps import ExpectRequestStep, SendStep
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue
from tests.proxy.helpers import new_writer
from tests.simulators.station.csms import run_csms

SPEED = 40.0  # one clock second = 25 ms of wall time
ID_TAG = "TAG-PRIVATE-9911"


async def record(root: Path) -> Path:
    """Record the session through the proxy; return the trace file."""
    clock = ScaledClock(speed=SPEED)
    station = SimulatedStation(
        StationConfig(ocpp_version=OcppVersion.V16, station_id="CP1", meter_interval_s=5),
        clock=clock,
        vehicle_params=load_catalogue().get("bev_3ph_16a").vehicle_params(),
    )
    async with run_csms("ocpp1.6") as csms:
        upstream = csms.url
        writer = new_writer(root, f"proxy {upstream}", clock)
        async with RecordingProxy(upstream_url=upstream, writer=writer, clock=clock) as proxy:
            task = asyncio.create_task(station.connect(proxy.url("CP1")))
            cp = await csms.station("CP1")
            await station.wait_booted(timeout_s=60 * SPEED)
            await station.plug_in(1)
            # The plug-in is in the recording before the remote start (whatever the load).
            await cp.wait_for(
                lambda: any(s["status"] == "Preparing" for s in cp.calls("StatusNotification"))
            )
            await clock.sleep(2)
            answer = await cp.ask(c16.RemoteStartTransaction(id_tag=ID_TAG, connector_id=1))
            assert answer["status"] == "Accepted"
            await cp.wait_for(lambda: cp.calls("StartTransaction"))
            await cp.wait_for(lambda: station.core.transaction(1).transaction_id != "1")
            tx = station.core.transaction(1)
            assert tx is not None
            await clock.sleep(3)
            profile = {
                "chargingProfileId": 7,
                "transactionId": int(tx.transaction_id),
                "stackLevel": 0,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
                },
            }
            answer = await cp.ask(
                c16.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
            )
            assert answer["status"] == "Accepted"
            await cp.wait_for(lambda: cp.calls("MeterValues"))
            await clock.sleep(6)
            answer = await cp.ask(
                c16.GetCompositeSchedule(connector_id=1, duration=300, charging_rate_unit="A")
            )
            assert answer["status"] == "Accepted"
            # One more reading after the composite: a step after the one that departs.
            readings = len(cp.calls("MeterValues"))
            await cp.wait_for(lambda: len(cp.calls("MeterValues")) > readings)
            await station.stop()
            await task
        writer.finish(finished_at=clock.now())
    (trace,) = (writer.run_dir / "traces").iterdir()
    return trace


def replay(case_file: Path, out: Path, *faults: str) -> tuple[int, dict[str, Any]]:
    """``ocpp-harness run FILE --target sim`` (virtual time); exit code and the case result."""
    args = ["run", str(case_file), "--target", "sim", "--jobs", "1", "--out", str(out)]
    for fault in faults:
        args += ["--station-fault", fault]
    code = main(args)
    (results,) = out.glob("*/results.jsonl")
    (line,) = results.read_text(encoding="utf-8").splitlines()
    result: dict[str, Any] = json.loads(line)
    return code, result


def test_record_generate_and_replay_pass_and_fail_where_it_departs(tmp_path: Path) -> None:
    # The run command starts its own (virtual-time) event loop: this test is not async.
    trace = asyncio.run(record(tmp_path / "recorded"))
    assert ID_TAG in trace.read_text(encoding="utf-8")  # the recording holds the idTag ...
    out = tmp_path / "replay.yaml"
    args = ["scenario", "from-trace", str(trace), "--role", "station", "--out", str(out)]
    assert main(args) == 0
    text = out.read_text(encoding="utf-8")
    assert ID_TAG not in text  # ... the generated scenario does not
    (case,) = load_cases([out])
    actions = [
        (type(step).__name__, getattr(step, "action", None))
        for step in case.steps
        if type(step).__name__ != "WaitStep"
    ]
    # (How many MeterValues fall between the exchanges depends on the wall clock.)
    assert [a for a in actions if a != ("ExpectRequestStep", "MeterValues")] == [
        ("VehicleStep", "plug_in"),  # from the recorded StatusNotification Preparing
        ("SendStep", "RemoteStartTransaction"),
        ("ExpectRequestStep", "StartTransaction"),
        ("SendStep", "SetChargingProfile"),
        ("SendStep", "GetCompositeSchedule"),
    ]
    assert ("ExpectRequestStep", "MeterValues") in actions
    composite_step = 1 + next(  # counted from 1, as the step log does
        i
        for i, step in enumerate(case.steps)
        if isinstance(step, SendStep) and step.action == "GetCompositeSchedule"
    )
    assert any(isinstance(s, ExpectRequestStep) for s in case.steps)
    recorded_calls = [f for f in load_recording(trace).frames if (f.message() or [0])[0] == 2]
    assert len(recorded_calls) > len(case.steps) // 2

    # The same (good) simulated station: every recorded exchange is reproduced.
    code, good = replay(out, tmp_path / "good")
    assert (code, good["verdict"]) == (0, "PASS"), good["reason"]
    assert good["checks"]
    assert all(c["verdict"] == "PASS" for c in good["checks"])

    # A station whose composite schedule is empty departs at GetCompositeSchedule.
    code, bad = replay(out, tmp_path / "bad", "empty_composite")
    assert code != 0
    assert bad["verdict"] == "FAIL"
    verdicts = [c["verdict"] for c in bad["checks"]]
    first_fail = verdicts.index("FAIL")
    assert first_fail > 0
    assert set(verdicts[:first_fail]) == {"PASS"}
    failed = bad["checks"][first_fail]
    assert failed["requirement"]["id"] == "REPLAY"
    assert failed["expected"].startswith("GetCompositeSchedule answered with")
    assert '"chargingSchedulePeriod":[]' in failed["actual"]
    assert "chargingSchedulePeriod: expected a list of 1" in failed["actual"]
    not_met = [s["text"] for s in bad["steps"] if ": not met" in s["text"]]
    assert not_met
    assert not_met[0].startswith(f"step {composite_step}: not met")
    (bad_run,) = (tmp_path / "bad").glob("*/run.json")
    frames = RunStore.open(bad_run.parent).trace(bad["key"])  # the run is compacted (gzip)
    asked = frames[failed["frames"][0]]
    assert "GetCompositeSchedule" in json.dumps(asked)

    # Two more catalogue faults depart at the same step, each at its own field.
    for fault, path in (
        ("endless_composite", "$.chargingSchedule.duration"),
        ("unit_ignored", "$.chargingSchedule.chargingRateUnit"),
    ):
        code, other = replay(out, tmp_path / fault, fault)
        assert (code != 0, other["verdict"]) == (True, "FAIL"), fault
        verdicts = [c["verdict"] for c in other["checks"]]
        first = other["checks"][verdicts.index("FAIL")]
        assert set(verdicts[: verdicts.index("FAIL")]) == {"PASS"}, fault
        assert first["expected"].startswith("GetCompositeSchedule answered with"), fault
        assert f"at {path}: expected" in first["actual"], fault
