"""Record and replay against a CSMS (issue #10): the harness plays the recorded station.

A simulated OCPP 1.6 station starts a session locally (plug-in, idTag, Authorize,
StartTransaction, MeterValues) with a CSMS written with the ``ocpp`` package, through the
recording proxy over loopback websockets. ``scenario from-trace --role csms`` makes a
``dut_role: csms`` case, and ``ocpp-harness run --target connect URL`` replays it against
the same CSMS (PASS) and against one that refuses the idTag when the transaction starts
(FAIL at the StartTransaction step).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import call_result as r16

from harness.cli import main
from harness.clock import ScaledClock
from harness.proxy import RecordingProxy
from harness.scenario import load_cases
from harness.scenario.fields import DutRole
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue
from tests.proxy.helpers import new_writer
from tests.simulators.station.csms import Csms16, run_csms

SPEED = 40.0
ID_TAG = "TAG-PRIVATE-5150"


class RefusingCsms(Csms16):
    """Answers StartTransaction with idTagInfo Invalid (the good CSMS says Accepted)."""

    @on("StartTransaction")
    def start_tx(self, **_: Any) -> Any:
        return r16.StartTransaction(transaction_id=1, id_tag_info={"status": "Invalid"})


async def record(root: Path) -> Path:
    clock = ScaledClock(speed=SPEED)
    station = SimulatedStation(
        StationConfig(ocpp_version=OcppVersion.V16, station_id="CP1", meter_interval_s=5),
        clock=clock,
        vehicle_params=load_catalogue().get("bev_3ph_16a").vehicle_params(),
    )
    async with run_csms("ocpp1.6") as csms:
        writer = new_writer(root, f"proxy {csms.url}", clock)
        async with RecordingProxy(upstream_url=csms.url, writer=writer, clock=clock) as proxy:
            task = asyncio.create_task(station.connect(proxy.url("CP1")))
            cp = await csms.station("CP1")
            await station.wait_booted(timeout_s=60 * SPEED)
            await station.plug_in(1)
            await station.present_token(1, ID_TAG)
            await cp.wait_for(lambda: cp.calls("MeterValues"))
            await station.stop()
            await task
        writer.finish(finished_at=clock.now())
    (trace,) = (writer.run_dir / "traces").iterdir()
    return trace


def csms_in_thread(cls: type) -> Iterator[str]:
    """A CSMS of class ``cls`` in a thread with its own loop (the command runs its own)."""
    loop = asyncio.new_event_loop()
    url: list[str] = []
    ready = threading.Event()
    stop = asyncio.Event()

    async def handler(ws: Any) -> None:
        cp = cls(ws.request.path.rsplit("/", 1)[-1], ws)
        with suppress(websockets.ConnectionClosed):
            await cp.start()

    async def serve() -> None:
        async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as s:
            url.append(f"ws://127.0.0.1:{next(iter(s.sockets)).getsockname()[1]}/ocpp")
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield url[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("csms-replay")
    trace = asyncio.run(record(root / "recorded"))
    assert ID_TAG in trace.read_text(encoding="utf-8")
    out = root / "replay-csms.yaml"
    # Recorded gaps scaled down: the command replays against a real CSMS in wall time.
    args = ["scenario", "from-trace", str(trace), "--role", "csms", "--time-scale", "0.1"]
    assert main([*args, "--out", str(out)]) == 0
    assert ID_TAG not in out.read_text(encoding="utf-8")
    return out


def replay(case_file: Path, cls: type, out: Path) -> tuple[int, dict[str, Any]]:
    for url in csms_in_thread(cls):
        code = main(["run", str(case_file), "--target", "connect", f"{url}/CP9", "--out", str(out)])
    (results,) = out.glob("*/results.jsonl")
    (line,) = results.read_text(encoding="utf-8").splitlines()
    result: dict[str, Any] = json.loads(line)
    return code, result


def test_generated_csms_case_plays_the_recorded_station(case_file: Path) -> None:
    (case,) = load_cases([case_file])
    assert case.dut_role is DutRole.CSMS
    sends = [getattr(s, "action", None) for s in case.steps if type(s).__name__ == "SendStep"]
    assert sends[0] == "BootNotification"
    assert {"Authorize", "StartTransaction", "MeterValues"} <= set(sends)


def test_replay_passes_against_the_same_csms(case_file: Path, tmp_path: Path) -> None:
    code, result = replay(case_file, Csms16, tmp_path / "good")
    assert (code, result["verdict"]) == (0, "PASS"), result["reason"]
    assert all(c["verdict"] == "PASS" for c in result["checks"])


def test_replay_fails_where_the_csms_departs(case_file: Path, tmp_path: Path) -> None:
    code, result = replay(case_file, RefusingCsms, tmp_path / "bad")
    assert code != 0
    assert result["verdict"] == "FAIL"
    failed = [c for c in result["checks"] if c["verdict"] == "FAIL"]
    assert failed
    assert failed[0]["expected"].startswith("StartTransaction answered with")
    assert '"Invalid"' in failed[0]["actual"]
    passed_before = result["checks"][: result["checks"].index(failed[0])]
    assert passed_before
    assert all(c["verdict"] == "PASS" for c in passed_before)
