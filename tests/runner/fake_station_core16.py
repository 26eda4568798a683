"""A scripted OCPP 1.6 station for the OCA Core remote-action and meter-values cases
(TC_010–012, 026–028, 070, 071 _CS), written from the documents' flows, not from the built-in
simulator: fixed frames, one connector.

Configuration keys (GetConfiguration / ChangeConfiguration): AuthorizeRemoteTxRequests
(false, read-only), ConnectionTimeOut, MeterValueSampleInterval, ClockAlignedDataInterval,
MeterValuesSampledData, MeterValuesAlignedData; any other key is unknown (NotSupported).
RemoteStartTransaction: Rejected for connector 0 or a busy connector; without a cable the
connector is Preparing until the cable comes (then StartTransaction, Charging) or the
connection timeout passes (Available). RemoteStopTransaction: Rejected for an unknown id,
else StopTransaction reason Remote and Finishing; unplugging makes it Available. During a
transaction it sends MeterValues every sample interval from the start (Sample.Periodic) and
on every multiple of the clock-aligned interval (Sample.Clock), each with the configured
measurands.

:func:`core_station` gives the class with one :class:`CoreDeviation` from the documents.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from harness.clock import Clock
from harness.connection import OcppConnection
from harness.scenario.values import format_utc
from harness.session import Role
from harness.smartcharging import Transaction
from harness.transport import Transport
from tests.runner.fake_station import FakeBehaviour, FakeControl, FakeStation


class CoreDeviation(StrEnum):
    """One departure from the documents' flow, each breaking one case's validation."""

    SUSPENDED_NOT_CHARGING = "suspended_not_charging"
    """After the start it reports SuspendedEVSE, never Charging (TC_010_CS)."""
    NO_PREPARING = "no_preparing"
    """A remote start without a cable leaves the connector Available (TC_011_1_CS)."""
    NO_TIMEOUT = "no_timeout"
    """A remote start without a cable waits for ever (TC_011_2_CS)."""
    STOP_REASON_LOCAL = "stop_reason_local"
    """A remote stop ends the transaction with reason Local (TC_012_CS)."""
    ACCEPTS_BUSY = "accepts_busy"
    """A remote start for the busy connector is Accepted (TC_026_CS)."""
    ACCEPTS_CONNECTOR_0 = "accepts_connector_0"
    """A remote start for connector 0 is Accepted (TC_027_CS)."""
    STOPS_ANY = "stops_any"
    """A remote stop for any id stops the running transaction (TC_028_CS)."""
    SLOW_SAMPLES = "slow_samples"
    """Sampled MeterValues come 3 s later than the interval each time (TC_070_CS)."""
    UNALIGNED = "unaligned"
    """Clock-aligned MeterValues come 5 s after each multiple (TC_071_CS)."""


class _CoreControl(FakeControl):
    def __init__(self, station: FakeCoreStation) -> None:
        super().__init__(station)
        self._core = station

    async def plug_in(self, *, evse: int) -> None:
        await self._core.plugged_in()

    async def unplug(self, *, evse: int) -> None:
        await self._core.unplugged()


class FakeCoreStation(FakeStation):
    """The scripted 1.6 station of this module (``deviation``: ``None`` = as documented)."""

    deviation: CoreDeviation | None = None

    def __init__(self, clock: Clock, behaviour: FakeBehaviour | None = None) -> None:
        super().__init__(clock, behaviour)
        self.control = _CoreControl(self)
        self.config: dict[str, str] = {
            "AuthorizeRemoteTxRequests": "false",
            "ConnectionTimeOut": "60",
            "MeterValueSampleInterval": "60",
            "ClockAlignedDataInterval": "0",
            "MeterValuesSampledData": "Energy.Active.Import.Register,Current.Import",
            "MeterValuesAlignedData": "Energy.Active.Import.Register",
        }
        self.pending: str | None = None
        """The idTag of a remote start waiting for the cable."""
        self._pending_task: asyncio.Task[Any] | None = None

    async def serve(self, transport: Transport) -> None:
        handlers = {
            name: self._handler(name)
            for name in (
                "RemoteStartTransaction",
                "RemoteStopTransaction",
                "GetConfiguration",
                "ChangeConfiguration",
            )
        }
        self.conn = OcppConnection.open(
            transport, role=Role.CHARGING_STATION, clock=self.clock, handlers=handlers
        )
        self.conn.start()
        await self.conn.call(
            "BootNotification",
            {"chargePointVendor": "Fake", "chargePointModel": "Core16"},
            timeout_s=30,
        )
        await self.report_status("Available")
        self._tasks.append(asyncio.create_task(self._sampled_loop()))
        self._tasks.append(asyncio.create_task(self._aligned_loop()))
        await self.conn.wait_closed()

    # ---- configuration
    async def _GetConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        asked = p.get("key") or list(self.config)
        known = [
            {"key": k, "readonly": k == "AuthorizeRemoteTxRequests", "value": self.config[k]}
            for k in asked
            if k in self.config
        ]
        unknown = [k for k in asked if k not in self.config]
        return {"configurationKey": known, **({"unknownKey": unknown} if unknown else {})}

    async def _ChangeConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        key, value = p["key"], p["value"]
        if key not in self.config:
            return {"status": "NotSupported"}
        if key == "AuthorizeRemoteTxRequests":
            return {"status": "Rejected"}
        self.config[key] = value
        return {"status": "Accepted"}

    # ---- remote start / stop
    async def _RemoteStartTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        connector = p.get("connectorId", 1)
        busy = self.tx is not None or self.pending is not None or self.starting
        if connector == 0 and self.deviation is not CoreDeviation.ACCEPTS_CONNECTOR_0:
            return {"status": "Rejected"}
        if connector not in (0, 1) or (busy and self.deviation is not CoreDeviation.ACCEPTS_BUSY):
            return {"status": "Rejected"}
        if busy:
            return {"status": "Accepted"}  # deviating: accepted, and nothing happens
        tag = p["idTag"]
        if self.plugged:
            self.starting = True
            self._spawn(self._begin(tag))
        else:
            self.pending = tag
            self._pending_task = asyncio.ensure_future(self._wait_for_cable())
            self._tasks.append(self._pending_task)
        return {"status": "Accepted"}

    async def _wait_for_cable(self) -> None:
        if self.deviation is not CoreDeviation.NO_PREPARING:
            await self.report_status("Preparing")
        if self.deviation is CoreDeviation.NO_TIMEOUT:
            return
        await self.clock.sleep(float(self.config["ConnectionTimeOut"]))
        if self.pending is not None and not self.plugged:
            self.pending = None
            await self.report_status("Available")

    async def plugged_in(self) -> None:
        self.plugged = True
        if self.pending is not None:
            tag, self.pending = self.pending, None
            if self._pending_task is not None:
                self._pending_task.cancel()
            self.starting = True
            await self._begin(tag)
        else:
            await self.report_status("Preparing")

    async def unplugged(self) -> None:
        self.plugged = False
        if self.tx is not None:
            await self._end("EVDisconnected")
        await self.report_status("Available")

    async def _begin(self, tag: str) -> None:
        assert self.conn is not None
        try:
            res = await self.conn.call(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": tag,
                    "meterStart": 0,
                    "timestamp": format_utc(self.clock.now()),
                },
                timeout_s=30,
            )
            self.tx = Transaction(str(res.payload["transactionId"]), self.clock.now())
        finally:
            self.starting = False
        suspended = self.deviation is CoreDeviation.SUSPENDED_NOT_CHARGING
        await self.report_status("SuspendedEVSE" if suspended else "Charging")

    async def _RemoteStopTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        known = self.tx is not None and str(p["transactionId"]) == self.tx.transaction_id
        if self.tx is None or not (known or self.deviation is CoreDeviation.STOPS_ANY):
            return {"status": "Rejected"}
        reason = "Local" if self.deviation is CoreDeviation.STOP_REASON_LOCAL else "Remote"
        self._spawn(self._end(reason, then="Finishing"))
        return {"status": "Accepted"}

    async def _end(self, reason: str, *, then: str | None = None) -> None:
        if self.tx is None or self.conn is None:
            return
        tx, self.tx = self.tx, None
        with contextlib.suppress(Exception):
            await self.conn.call(
                "StopTransaction",
                {
                    "transactionId": int(tx.transaction_id),
                    "meterStop": 100,
                    "timestamp": format_utc(self.clock.now()),
                    "reason": reason,
                },
                timeout_s=30,
            )
        if then is not None:
            await self.report_status(then)

    # ---- metering
    async def _sampled_loop(self) -> None:
        """Every MeterValueSampleInterval from the transaction's start (0: none)."""
        while self.conn is not None and not self.conn.transport.closed:
            tx = self.tx
            interval = int(self.config["MeterValueSampleInterval"])
            if tx is None or interval <= 0:
                await self.clock.sleep(1)
                continue
            late = 3 if self.deviation is CoreDeviation.SLOW_SAMPLES else 0
            n = int((self.clock.now() - tx.start).total_seconds() // (interval + late)) + 1
            due = tx.start + timedelta(seconds=n * (interval + late))
            await self.clock.sleep((due - self.clock.now()).total_seconds())
            if self.tx is tx:
                await self._meter("Sample.Periodic", self.config["MeterValuesSampledData"], due)

    async def _aligned_loop(self) -> None:
        """On every multiple of ClockAlignedDataInterval since midnight UTC (0: none)."""
        while self.conn is not None and not self.conn.transport.closed:
            interval = int(self.config["ClockAlignedDataInterval"])
            if interval <= 0:
                await self.clock.sleep(1)
                continue
            now = self.clock.now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            into = (now - midnight).total_seconds()
            due = midnight + timedelta(seconds=(into // interval + 1) * interval)
            if self.deviation is CoreDeviation.UNALIGNED:
                due += timedelta(seconds=5)
            await self.clock.sleep((due - now).total_seconds())
            if self.tx is not None:
                await self._meter("Sample.Clock", self.config["MeterValuesAlignedData"], due)

    async def _meter(self, context: str, measurands: str, at: datetime) -> None:
        assert self.conn is not None
        assert self.tx is not None
        values = {
            "Energy.Active.Import.Register": ("1234", "Wh"),
            "Current.Import": ("16.0", "A"),
            "Power.Active.Import": ("11040", "W"),
        }
        names = [n.strip() for n in measurands.split(",") if n.strip()]
        sampled = [
            {
                "value": values[n][0],
                "context": context,
                "measurand": n,
                "location": "Outlet",
                "unit": values[n][1],
            }
            for n in names
            if n in values
        ]
        with contextlib.suppress(Exception):
            await self.conn.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": int(self.tx.transaction_id),
                    "meterValue": [{"timestamp": format_utc(at), "sampledValue": sampled}],
                },
                timeout_s=30,
            )


def core_station(deviation: CoreDeviation | None = None) -> type[FakeStation]:
    """The scripted station class, as documented or with ``deviation``."""
    return type("FakeCoreStation", (FakeCoreStation,), {"deviation": deviation})
