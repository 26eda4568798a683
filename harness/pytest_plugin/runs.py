"""Running cases from a test: on the built-in simulator (virtual time, a loop of its own) or
against a real station connected to a harness CSMS that listens in a background thread.

Both are blocking calls usable from a plain synchronous test. Called from inside a running
event loop (an ``async def`` test) they run on a worker thread and block the caller until
the run ends; the ``arun`` methods of the fixtures await the same without blocking.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from harness.clock import Clock, LoopClock, ScaledClock, run_virtual
from harness.results import CaseResult, DeviceRef, Manifest, RunStore, new_run_id
from harness.runner.inputs import sim_capabilities
from harness.runner.operator import AutoOperator, SimulationControl
from harness.runner.run import PlannedCase, RunOptions, run_cases
from harness.runner.targets import FleetVehicle, ListenProvider, SimProvider, SimSpec
from harness.scenario import Capabilities, Environment, VehicleFacts
from harness.transport import OcppSubprotocol, Transport

from .outcome import OcppRun

__all__ = ["CsmsServer", "SimRequest", "run_blocking", "run_sim"]

T = TypeVar("T")

SUBPROTOCOL = {
    "1.6": OcppSubprotocol.V16,
    "2.0.1": OcppSubprotocol.V201,
    "2.1": OcppSubprotocol.V21,
}


def run_blocking(make: Callable[[], Coroutine[Any, Any, T]], *, virtual: bool) -> T:
    """Run the coroutine ``make()`` to completion on a fresh event loop (virtual time when
    ``virtual``); from inside a running loop, on a worker thread (blocking the caller)."""
    runner: Callable[[Coroutine[Any, Any, T]], T] = run_virtual if virtual else asyncio.run
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return runner(make())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ocpp-run") as pool:
        return pool.submit(lambda: runner(make())).result()


def _manifest(
    clock: Clock, target: str, versions: Sequence[str], options: dict[str, Any]
) -> Manifest:
    return Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=target,
        ocpp_versions=tuple(SUBPROTOCOL[v] for v in versions),
        options=options,
    )


@dataclass(frozen=True, slots=True)
class SimRequest:
    """One run on the built-in simulator: the cases, and the station and vehicle to build."""

    planned: tuple[PlannedCase, ...]
    versions: tuple[str, ...]
    vehicle: FleetVehicle
    faults: tuple[str, ...] = ()
    capabilities: Capabilities | None = None
    """``None``: what the built-in station declares (``sim_capabilities``)."""
    out: Path = field(default_factory=lambda: Path("runs"))
    strict: bool = False


def run_sim(request: SimRequest, factory: Any) -> OcppRun:
    """Run ``request`` on stations from ``factory`` (a ``StationFactory``) on virtual time:
    one station per OCPP version, one after another."""
    caps = request.capabilities or sim_capabilities(request.versions)

    async def main() -> OcppRun:
        clock = LoopClock(start=datetime.now(UTC))
        fault = ",".join(request.faults) or None
        providers = [
            SimProvider(
                factory,
                SimSpec(
                    f"SIM-{request.vehicle.id}-{version}",
                    SUBPROTOCOL[version],
                    clock,
                    request.vehicle,
                    fault,
                ),
                station_device_id=f"SIM-{version}",
            )
            for version in request.versions
        ]
        devices = {(d.kind, d.id): d for p in providers for d in p.devices}
        options: dict[str, Any] = {
            "speed": "virtual",
            "faults": list(request.faults),
            "strict": request.strict,
            "via": "pytest",
        }
        manifest = replace(
            _manifest(clock, "sim", request.versions, options), devices=tuple(devices.values())
        )
        results: list[CaseResult] = []
        with RunStore.create(request.out, manifest) as writer:
            for provider in providers:
                results += await run_cases(
                    list(request.planned),
                    provider=provider,
                    writer=writer,
                    clock=clock,
                    operator=AutoOperator(),
                    capabilities=caps,
                )
            writer.finish(finished_at=clock.now())
        return OcppRun(tuple(results), writer.run_dir, request.strict)

    return run_blocking(main, virtual=True)


class _Listening:
    """A run's view of the session's listener: takes connections, never stops the server."""

    environment = Environment.LAB
    vehicle_facts: VehicleFacts | None = None  # a lab declares its vehicle, if at all

    def __init__(self, provider: ListenProvider) -> None:
        self._provider = provider
        self.target = provider.target
        self.control: SimulationControl | None = None
        self.devices: tuple[DeviceRef, ...] = provider.devices

    async def connect(self, *, timeout_s: float | None) -> Transport | None:
        transport = await self._provider.connect(timeout_s=timeout_s)
        self.devices = self._provider.devices
        return transport

    async def close(self) -> None:
        """The server keeps listening for the next run of the session."""


async def _cancel_others() -> None:
    """Cancel every other task of the running loop (connection handlers) and await them."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


class CsmsServer:
    """The harness CSMS for a real station: listens on ``host:port`` in a thread of its own
    (its own event loop, a scaled clock) for the whole pytest session.

    The station under test connects to ``ws://HOST:PORT/<station-id>`` (:meth:`url`); every
    :meth:`run` takes the station's current connection (waiting for it to connect or come
    back, up to ``connect_timeout_s``) and runs cases on it. A run ends by closing the
    connection, so a real station reconnects before the next run.
    """

    def __init__(self, *, host: str, port: int, speed: float = 1.0) -> None:
        self.host = host
        self.speed = speed
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ocpp-harness-csms", daemon=True
        )
        self._thread.start()
        self.clock = ScaledClock(speed=speed)
        self._provider = ListenProvider(host=host, port=port, clock=self.clock)
        try:
            self._submit(self._provider.start()).result()
        except BaseException:
            self._stop_loop()
            raise
        self.port = self._provider.port

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def url(self, station_id: str = "") -> str:
        """``ws://HOST:PORT/`` followed by ``station_id``: what the station connects to."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/{station_id}"

    def run(
        self,
        planned: Sequence[PlannedCase],
        *,
        capabilities: Capabilities,
        out: Path,
        strict: bool,
        connect_timeout_s: float,
    ) -> concurrent.futures.Future[OcppRun]:
        """Start a run on the server's loop; the future gives its :class:`OcppRun`."""

        async def main() -> OcppRun:
            provider = _Listening(self._provider)
            versions = [str(v) for v in capabilities.ocpp_versions]
            options: dict[str, Any] = {"strict": strict, "speed": self.speed, "via": "pytest"}
            manifest = _manifest(self.clock, provider.target, versions, options)
            with RunStore.create(out, manifest) as writer:
                results = await run_cases(
                    list(planned),
                    provider=provider,
                    writer=writer,
                    clock=self.clock,
                    operator=AutoOperator(),
                    capabilities=capabilities,
                    options=RunOptions(
                        connect_timeout_s=connect_timeout_s * self.speed,
                        reconnect_timeout_s=connect_timeout_s * self.speed,
                    ),
                )
                writer.finish(finished_at=self.clock.now())
            return OcppRun(tuple(results), writer.run_dir, strict)

        return self._submit(main())

    def close(self) -> None:
        """Stop listening and end the thread."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self._submit(self._provider.close()).result(timeout=10)
        with contextlib.suppress(Exception):
            self._submit(_cancel_others()).result(timeout=10)
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
