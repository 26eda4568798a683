"""Helpers for the pilot-link tests: vehicles from the catalogue, bounded waits."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TypeVar

from harness.clock import Clock
from simulators.iec61851 import current_to_duty
from simulators.pilot import StationEnd, VehicleEnd, run_vehicle
from simulators.vehicle import PilotOffer, Vehicle, VehicleReading, load_catalogue
from tests.conftest import find_mosquitto, free_port

T = TypeVar("T")

WAIT_S = 5.0  # wall-time bound for any single wait; a passing test never gets near it


def vehicle(archetype: str = "bev_3ph_16a", *, plugged: bool = True) -> Vehicle:
    """A vehicle of a built-in archetype, plugged in unless told otherwise."""
    made = Vehicle(load_catalogue().get(archetype).vehicle_params())
    if plugged:
        made.plug_in()
    return made


def offer_a(limit_a: float, *, phases: int = 3) -> PilotOffer:
    """The pilot for ``limit_a`` per phase."""
    return PilotOffer(duty_percent=current_to_duty(limit_a), energized_phases=phases)


async def within(awaitable: Awaitable[T], what: str, *, timeout_s: float = WAIT_S) -> T:
    """Await ``awaitable`` for at most ``timeout_s`` wall seconds; fail saying ``what``."""
    deadline = asyncio.timeout(timeout_s)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if deadline.expired():
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}") from None
        raise  # the awaitable's own TimeoutError


def near(limit_a: float, *, tolerance_a: float = 0.1) -> Callable[[VehicleReading], bool]:
    """Predicate: every phase draws ``limit_a`` ± ``tolerance_a``."""
    return lambda r: all(abs(i - limit_a) <= tolerance_a for i in r.current_a)


@asynccontextmanager
async def running(
    vehicle: Vehicle, end: VehicleEnd, clock: Clock, *, step_s: float = 1.0
) -> AsyncIterator[asyncio.Task[None]]:
    """A vehicle runner task for the block; cancelled (and awaited) at its end."""
    task = asyncio.create_task(run_vehicle(vehicle, end, clock=clock, step_s=step_s))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def reading_where(
    station: StationEnd, predicate: Callable[[VehicleReading], bool], what: str
) -> VehicleReading:
    """The first reading (the latest one, or one to come) satisfying ``predicate``."""
    return await within(station.wait_reading(predicate, include_latest=True), what)


@contextmanager
def private_broker(
    folder: Path, *conf: str, anonymous: bool = True
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A mosquitto of a test's own on 127.0.0.1 (``conf``: extra config lines); killed at exit.

    ``anonymous=False`` admits only clients with valid credentials (add a ``password_file``).

    For tests that stop the broker or need a special listener; the shared ``mosquitto``
    fixture serves all others (request it too, so a machine without mosquitto is handled
    the same way). ``user root`` keeps a broker started as root (CI) able to read files in
    the test's private temporary folder; it has no effect otherwise.
    """
    exe = find_mosquitto()
    if exe is None:
        raise AssertionError("mosquitto is not installed")
    port = free_port()
    path = folder / "mosquitto.conf"
    allow = "true" if anonymous else "false"
    lines = [f"listener {port} 127.0.0.1", f"allow_anonymous {allow}", "user root", *conf]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log = folder / "mosquitto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "-c", str(path)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT_S  # start-up of a process, as in conftest
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"mosquitto did not start: {log.read_text()}") from None
                time.sleep(0.02)
        yield port, proc
    finally:
        proc.kill()
        proc.wait()
