"""``ocpp-harness vehicle``: one simulated vehicle in its own process, over a real broker."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from harness.cli import main
from simulators.pilot import (
    LinkStatus,
    MqttSettings,
    MqttStationEnd,
    PlugEvent,
    StationEnd,
    StationInbound,
)
from tests.conftest import Broker
from tests.simulators.pilot_helpers import near, offer_a, private_broker, reading_where, within

ROOT = Path(__file__).resolve().parents[2]
START_S = 15.0  # the child imports the harness before it connects; generous, rarely needed


@asynccontextmanager
async def vehicle_process(
    broker: Broker, station_id: str, *extra: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m harness vehicle`` for ``station_id``/EVSE 1; killed if still running."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "harness",
        "vehicle",
        "--mqtt",
        broker.url,
        "--station",
        station_id,
        "--evse",
        "1",
        "--archetype",
        "bev_3ph_16a",
        "--speed",
        "50",
        "--step",
        "0.5",
        *extra,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def until_received(
    station: StationEnd, expected: StationInbound, *, timeout_s: float = 5.0
) -> None:
    """Read the station end's inbox until ``expected`` arrives."""

    async def wait() -> None:
        while await station.receive() != expected:
            pass

    await within(wait(), f"{expected} at the station end", timeout_s=timeout_s)


ONLINE, OFFLINE = LinkStatus(online=True), LinkStatus(online=False)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_the_vehicle_process_answers_an_offer_and_stops_on_a_signal(
    mosquitto: Broker, signum: signal.Signals
) -> None:
    sid = f"C{uuid.uuid4().hex[:10]}"
    settings = MqttSettings.from_url(mosquitto.url)
    async with MqttStationEnd(settings, station_id=sid, evse_id=1) as station:
        await station.send_offer(offer_a(16.0))  # retained: the child gets it on connect
        async with vehicle_process(mosquitto, sid, "--param", "max_current_a=16") as proc:
            await until_received(station, ONLINE, timeout_s=START_S)
            drawing = await reading_where(station, near(16.0), "16 A per phase from the child")
            await station.send_offer(offer_a(6.0))
            await reading_where(station, near(6.0), "6 A per phase after the change")
            proc.send_signal(signum)
            _, err = await within(proc.communicate(), "the child to exit after the signal")
            await until_received(station, OFFLINE)
    assert proc.returncode == 0, err.decode()
    assert "vehicle ready on" in err.decode()
    assert "vehicle stopped" in err.decode()
    assert "Traceback" not in err.decode()
    assert drawing.pilot_state == "C"
    assert station.plugged is True


async def test_a_killed_vehicle_process_is_marked_offline_by_its_last_will(
    mosquitto: Broker,
) -> None:
    sid = f"K{uuid.uuid4().hex[:10]}"
    settings = MqttSettings.from_url(mosquitto.url)
    async with (
        MqttStationEnd(settings, station_id=sid, evse_id=1) as station,
        vehicle_process(mosquitto, sid, "--unplugged") as proc,
    ):
        await until_received(station, ONLINE, timeout_s=START_S)
        await until_received(station, PlugEvent(plugged=False, time_s=0.0))
        proc.kill()
        await until_received(station, OFFLINE)


def test_an_unknown_archetype_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "vehicle",
            "--mqtt",
            "mqtt://127.0.0.1:1",
            "--station",
            "CP1",
            "--evse",
            "1",
            "--archetype",
            "no_such_car",
        ]
    )
    assert code == 2
    assert "unknown vehicle archetype 'no_such_car'; expected one of:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--param", "max_current_a=200"], "field 'max_current_a': expected a current per phase"),
        (["--param", "colour=red"], "field 'colour': expected a known vehicle parameter"),
        (["--param", "max_current_a"], "expected key=value, got 'max_current_a'"),
        (["--mqtt", "http://127.0.0.1"], "expected the scheme mqtt:// or mqtts://"),
        (["--station", "a/b"], "station_id: expected a non-empty topic level"),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {
        "--mqtt": "mqtt://127.0.0.1:1",
        "--station": "CP1",
        "--evse": "1",
        "--archetype": "bev_3ph_16a",
    }
    argv = ["vehicle"]
    for key, value in base.items():
        if key not in args:
            argv += [key, value]
    code = main(argv + args)
    assert code == 2
    assert reason in capsys.readouterr().err


def test_an_unreachable_broker_exits_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main(
        [
            "vehicle",
            "--mqtt",
            f"mqtt://127.0.0.1:{port}",
            "--station",
            "CP1",
            "--evse",
            "1",
            "--archetype",
            "bev_3ph_16a",
        ]
    )
    assert code == 1
    assert (
        f"cannot connect to the MQTT broker at mqtt://127.0.0.1:{port}" in capsys.readouterr().err
    )


async def test_a_lost_broker_ends_the_vehicle_process_with_status_1(
    mosquitto: Broker, tmp_path: Path
) -> None:
    with private_broker(tmp_path) as (port, broker_proc):
        own = Broker(host="127.0.0.1", port=port)
        settings = MqttSettings.from_url(own.url)
        async with (
            MqttStationEnd(settings, station_id="L1", evse_id=1) as station,
            vehicle_process(own, "L1") as proc,
        ):
            await until_received(station, ONLINE, timeout_s=START_S)
            broker_proc.terminate()
            _, err = await within(
                proc.communicate(), "the child to exit after the broker", timeout_s=START_S
            )
    assert proc.returncode == 1, err.decode()
    url = re.escape(own.url)
    assert re.search(
        rf"^Error: (connection to the MQTT broker at {url} lost|cannot publish to \S+ at {url})",
        err.decode(),
        flags=re.M,
    ), err.decode()
    assert "Traceback" not in err.decode()
