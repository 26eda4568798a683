"""The scripted fake station of :mod:`tests.runner.fake_station`, speaking OCPP 2.0.1.

It boots, starts a transaction on RequestStartTransaction (TransactionEvent Started with the
remoteStartId), ends it on RequestStopTransaction, accepts every SetChargingProfile and
ClearChargingProfile, and answers GetCompositeSchedule only with its ``composite_script``
(fixed frames: it has no oracle). No metering.
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.connection import OcppConnection
from harness.scenario.values import format_utc
from harness.session import Role
from harness.smartcharging import Transaction
from harness.transport import Transport
from tests.runner.fake_station import FakeStation


class FakeStation201(FakeStation):
    """A 2.0.1 station answering with fixed frames."""

    _seq = 0

    async def serve(self, transport: Transport) -> None:
        handlers = {
            name: self._handler(name)
            for name in (
                "RequestStartTransaction",
                "RequestStopTransaction",
                "SetChargingProfile",
                "ClearChargingProfile",
                "GetCompositeSchedule",
            )
        }
        self.conn = OcppConnection.open(
            transport, role=Role.CHARGING_STATION, clock=self.clock, handlers=handlers
        )
        self.conn.start()
        await self.conn.call(
            "BootNotification",
            {"chargingStation": {"model": "F2", "vendorName": "Fake"}, "reason": "PowerUp"},
            timeout_s=30,
        )
        await self.conn.call(
            "StatusNotification",
            {
                "timestamp": format_utc(self.clock.now()),
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
            },
            timeout_s=30,
        )
        await self.conn.wait_closed()

    async def _event(self, kind: str, trigger: str, extra: dict[str, Any]) -> None:
        assert self.conn is not None
        assert self.tx is not None
        self._seq += 1
        await self.conn.call(
            "TransactionEvent",
            {
                "eventType": kind,
                "timestamp": format_utc(self.clock.now()),
                "triggerReason": trigger,
                "seqNo": self._seq,
                "transactionInfo": {"transactionId": self.tx.transaction_id, **extra},
                "evse": {"id": 1, "connectorId": 1},
            },
            timeout_s=30,
        )

    async def _RequestStartTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        self.tx = Transaction(f"tx-{self._seq + 1}", self.clock.now())
        remote = {"remoteStartId": p["remoteStartId"]}
        asyncio.get_running_loop().call_soon(
            lambda: self._spawn(self._event("Started", "RemoteStart", remote))
        )
        return {"status": "Accepted", "transactionId": self.tx.transaction_id}

    async def _RequestStopTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.tx is None or p["transactionId"] != self.tx.transaction_id:
            return {"status": "Rejected"}
        self._spawn(self.end_transaction())
        return {"status": "Accepted"}

    async def end_transaction(self) -> None:
        if self.tx is None:
            return
        await self._event("Ended", "RemoteStop", {"stoppedReason": "Remote"})
        self.tx = None

    async def _SetChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        self.profiles_set_at.append(self.clock.now())
        return {"status": "Accepted"}

    async def _ClearChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    async def _GetCompositeSchedule(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.b.composite_script is None:
            return {"status": "Rejected"}
        return self.b.composite_script(self, p)
