"""A minimal CSMS for end-to-end tests, written with the ``ocpp`` package (an independent
OCPP implementation): it accepts every station, records every frame it receives, and lets a
test send CSMS → station requests with the package's own schema validation."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call_result as r16
from ocpp.v21 import ChargePoint as Cp21
from ocpp.v21 import call_result as r21
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call_result as r201

HEARTBEAT_S = 60


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Recording:
    """Records every frame the station sends (CALLs and answers), as parsed JSON."""

    frames: list[list[Any]]

    def _init_recording(self) -> None:
        self.frames = []
        self.changed = asyncio.Event()

    async def route_message(self, raw_msg: str) -> None:
        self.frames.append(json.loads(raw_msg))
        self.changed.set()
        await super().route_message(raw_msg)  # type: ignore[misc]

    def calls(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the station's CALLs of ``action``, in order."""
        return [f[3] for f in self.frames if f[0] == 2 and f[2] == action]

    def last_result(self) -> dict[str, Any]:
        """Payload of the latest CALLRESULT the station sent."""
        return next(f[2] for f in reversed(self.frames) if f[0] == 3)

    def last_error(self) -> list[Any]:
        """The latest CALLERROR frame the station sent."""
        return next(f for f in reversed(self.frames) if f[0] == 4)

    async def wait_for(self, predicate: Callable[[], Any], *, timeout_s: float = 10.0) -> Any:
        """Wait (wall seconds) until ``predicate()`` is truthy; return its value."""
        async with asyncio.timeout(timeout_s):
            while True:
                value = predicate()
                if value:
                    return value
                self.changed.clear()
                await self.changed.wait()

    async def ask(self, payload: Any, **kw: Any) -> dict[str, Any]:
        """Send a request (``ocpp`` dataclass) and return the station's raw answer."""
        await self.call(payload, suppress=False, **kw)  # type: ignore[attr-defined]
        return self.last_result()


class Csms16(_Recording, Cp16):
    def __init__(self, cp_id: str, connection: Any) -> None:
        super().__init__(cp_id, connection)
        self._init_recording()
        self._tx = itertools.count(101)

    @on("BootNotification")
    def boot(self, **_: Any) -> Any:
        return r16.BootNotification(current_time=_now(), interval=HEARTBEAT_S, status="Accepted")

    @on("Heartbeat")
    def heartbeat(self, **_: Any) -> Any:
        return r16.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def status(self, **_: Any) -> Any:
        return r16.StatusNotification()

    @on("Authorize")
    def authorize(self, **_: Any) -> Any:
        return r16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    def start_tx(self, **_: Any) -> Any:
        tx_id = next(self._tx)
        return r16.StartTransaction(transaction_id=tx_id, id_tag_info={"status": "Accepted"})

    @on("StopTransaction")
    def stop_tx(self, **_: Any) -> Any:
        return r16.StopTransaction()

    @on("MeterValues")
    def meter_values(self, **_: Any) -> Any:
        return r16.MeterValues()


def _v2x(module: Any, base: type) -> type:
    class Csms2x(_Recording, base):  # type: ignore[misc, valid-type]
        def __init__(self, cp_id: str, connection: Any) -> None:
            super().__init__(cp_id, connection)
            self._init_recording()

        @on("BootNotification")
        def boot(self, **_: Any) -> Any:
            return module.BootNotification(
                current_time=_now(), interval=HEARTBEAT_S, status="Accepted"
            )

        @on("Heartbeat")
        def heartbeat(self, **_: Any) -> Any:
            return module.Heartbeat(current_time=_now())

        @on("StatusNotification")
        def status(self, **_: Any) -> Any:
            return module.StatusNotification()

        @on("Authorize")
        def authorize(self, **_: Any) -> Any:
            return module.Authorize(id_token_info={"status": "Accepted"})

        @on("TransactionEvent")
        def transaction_event(self, **_: Any) -> Any:
            return module.TransactionEvent()

        @on("MeterValues")
        def meter_values(self, **_: Any) -> Any:
            return module.MeterValues()

        @on("ReportChargingProfiles")
        def report_profiles(self, **_: Any) -> Any:
            return module.ReportChargingProfiles()

        @on("NotifyEVChargingNeeds")
        def needs(self, **_: Any) -> Any:
            return module.NotifyEVChargingNeeds(status="Accepted")

    return Csms2x


Csms201 = _v2x(r201, Cp201)
Csms21 = _v2x(r21, Cp21)

CSMS_CLASSES: dict[str, type] = {"ocpp1.6": Csms16, "ocpp2.0.1": Csms201, "ocpp2.1": Csms21}


@dataclass
class TestCsms:
    """The running CSMS: its URL and the stations connected (by station id)."""

    url: str
    stations: dict[str, Any] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def station(self, station_id: str, *, timeout_s: float = 10.0) -> Any:
        """The CSMS-side ChargePoint of ``station_id`` once it connected."""
        async with asyncio.timeout(timeout_s):
            while station_id not in self.stations:
                self.arrived.clear()
                await self.arrived.wait()
        return self.stations[station_id]


@asynccontextmanager
async def run_csms(subprotocol: str) -> AsyncIterator[TestCsms]:
    """A CSMS on 127.0.0.1 (ephemeral port) speaking ``subprotocol``."""
    csms: TestCsms

    async def handler(ws: Any) -> None:
        station_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        cp = CSMS_CLASSES[subprotocol](station_id, ws)
        csms.stations[station_id] = cp
        csms.arrived.set()
        with suppress(websockets.ConnectionClosed):
            await cp.start()

    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=[subprotocol]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        csms = TestCsms(url=f"ws://127.0.0.1:{port}/ocpp")
        yield csms
