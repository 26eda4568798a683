"""What the pilot link costs: codec speed, in-process hand-over, and MQTT round trips.

Prints, for the payload codec, encodes and decodes per second of a VehicleReading; for the
in-process link and for MQTT (a mosquitto on 127.0.0.1 that this script starts, or
``--mqtt URL``), the median and 95th-percentile time from the station sending an offer to
the station receiving the vehicle's answering reading (vehicle end answering directly, no
runner), over 1000 (in-process) / 300 (MQTT) round trips. The local broker runs twice: with
mosquitto's ``set_tcp_nodelay true`` and with its default (Nagle's algorithm on), to show
what that setting is worth.

    python benchmarks/pilot_link.py [--mqtt mqtt://127.0.0.1:1883]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout first

from simulators.iec61851 import current_to_duty
from simulators.pilot import (
    InProcessLink,
    MqttSettings,
    MqttStationEnd,
    MqttVehicleEnd,
    StationEnd,
    VehicleEnd,
    decode,
    encode,
)
from simulators.vehicle import PilotOffer, Vehicle, VehicleParams, VehicleReading


def codec() -> None:
    vehicle = Vehicle(VehicleParams())
    vehicle.plug_in()
    vehicle.set_pilot(PilotOffer(duty_percent=current_to_duty(16.0)))
    reading = vehicle.advance(60.0)
    n = 20000
    t0 = time.perf_counter()
    for _ in range(n):
        payload = encode(reading)
    t1 = time.perf_counter()
    for _ in range(n):
        decode(VehicleReading, payload)
    t2 = time.perf_counter()
    print(
        f"codec: {n / (t1 - t0):,.0f} encodes/s, {n / (t2 - t1):,.0f} decodes/s "
        f"({len(payload)} bytes per reading)"
    )


async def round_trips(station: StationEnd, vehicle_end: VehicleEnd, count: int) -> list[float]:
    vehicle = Vehicle(VehicleParams())
    vehicle.plug_in()

    async def echo() -> None:
        while True:
            offer = await vehicle_end.receive()
            if isinstance(offer, PilotOffer):
                vehicle.set_pilot(offer)
                await vehicle_end.send_reading(vehicle.advance(1.0))

    task = asyncio.create_task(echo())
    times = []
    try:
        for k in range(count):
            waiting = asyncio.ensure_future(station.wait_reading())
            await asyncio.sleep(0)
            t0 = time.perf_counter()
            await station.send_offer(PilotOffer(duty_percent=10.0 + k % 50))
            await waiting
            times.append(time.perf_counter() - t0)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"{name}: offer → reading round trip median {statistics.median(times) * 1e6:,.0f} µs, "
        f"p95 {p95 * 1e6:,.0f} µs over {len(times)}"
    )


@contextlib.contextmanager
def local_broker(*, nodelay: bool) -> Iterator[str]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        conf = Path(folder) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\n"
            f"set_tcp_nodelay {'true' if nodelay else 'false'}\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.025)
            yield f"mqtt://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait()


async def main(url: str | None) -> None:
    codec()
    link = InProcessLink()
    report("in-process", await round_trips(link.station, link.vehicle, 1000))
    brokers = [(url, "given broker")] if url else [(None, "nodelay"), (None, "Nagle")]
    for given, label in brokers:
        with contextlib.ExitStack() as stack:
            broker = given or stack.enter_context(local_broker(nodelay=label == "nodelay"))
            settings = MqttSettings.from_url(broker, prefix="bench")
            async with (
                MqttStationEnd(settings, station_id="B1", evse_id=1) as station,
                MqttVehicleEnd(settings, station_id="B1", evse_id=1) as vehicle_end,
            ):
                times = await round_trips(station, vehicle_end, 300)
            report(f"mqtt, {label} ({broker})", times)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mqtt", help="broker URL (default: start a local mosquitto)")
    asyncio.run(main(parser.parse_args().mqtt))
