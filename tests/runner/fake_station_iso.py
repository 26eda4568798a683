"""Scripted 2.0.1 fake stations for the OCA block K cases that need more than profiles:
an ISO 15118 vehicle's messages (TC_K_53/54/57/58_CS) and a station without smart charging
(TC_K_15_CS), and one that keeps its profiles over a reboot (TC_K_13_CS). Fixed frames
written from the cases' validations, not the simulator.

:class:`FakeIsoStation201` reports the vehicle's charging needs after the transaction's
Started event (NotifyEVChargingNeeds, AC parameters); when the CSMS rejects them it agrees a
schedule from its own 32 A; a TxProfile for the transaction gives the schedule it reports
(NotifyEVChargingSchedule, the profile's first limit), and the first agreed schedule starts
the energy transfer (TransactionEvent ChargingStateChanged, Charging). Its vehicle can ask to
renegotiate (the control's ``renegotiate``): the needs are sent again. It reports no meter
values. :func:`iso_station` makes the same station with one :class:`IsoDeviation`.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any, ClassVar

from harness.clock import Clock
from harness.connection import CallErrorReply
from harness.scenario.values import format_utc
from harness.session import ErrorCode, ResultReceived
from harness.smartcharging import Transaction
from harness.transport import Transport
from tests.runner.fake_station import FakeBehaviour, FakeControl
from tests.runner.fake_station201 import FakeStation201

__all__ = [
    "FakeIsoStation201",
    "FakeStation201WithoutSmartCharging",
    "IsoDeviation",
    "iso_station",
    "offline_iso_station",
    "rebooting_station",
]


class IsoDeviation(StrEnum):
    """One thing the scripted ISO 15118 station does wrong."""

    SCHEDULE_OVER_LIMIT = "schedule_over_limit"
    """The schedule it reports is its own 32 A, whatever the TxProfile says."""
    WAITS_AFTER_REJECTION = "waits_after_rejection"
    """Needs Rejected: it waits for a schedule for ever (no energy)."""
    IGNORES_RENEGOTIATION = "ignores_renegotiation"
    """The vehicle's renegotiation goes nowhere (no new needs)."""
    KEEPS_FIRST_SCHEDULE = "keeps_first_schedule"
    """A later TxProfile is Accepted but no schedule is renegotiated or reported."""
    UNMARKED_OFFLINE_EVENTS = "unmarked_offline_events"
    """The TransactionEvents queued offline are sent once back without offline true."""


class _IsoControl(FakeControl):
    def __init__(self, station: FakeIsoStation201) -> None:
        super().__init__(station)
        self._iso = station

    async def renegotiate(self, *, evse: int) -> bool:
        return self._iso.renegotiate()


class FakeIsoStation201(FakeStation201):
    """The 2.0.1 fake station with an ISO 15118 vehicle (see the module docstring)."""

    deviation: ClassVar[IsoDeviation | None] = None

    def __init__(self, clock: Clock, behaviour: FakeBehaviour | None = None) -> None:
        super().__init__(clock, behaviour)
        self.control = _IsoControl(self)
        self._lock = asyncio.Lock()  # one CALL outstanding at a time (OCPP-J)
        self._agreed_a: float | None = None
        self._schedules = 0

    async def _call(self, action: str, payload: dict[str, Any]) -> ResultReceived:
        assert self.conn is not None
        async with self._lock:
            return await self.conn.call(action, payload, timeout_s=30)

    async def _event(self, kind: str, trigger: str, extra: dict[str, Any]) -> None:
        async with self._lock:
            await super()._event(kind, trigger, extra)

    async def _meter_loop(self) -> None:
        return None  # these cases judge messages, not current

    def _later(self, coro: Any) -> None:
        asyncio.get_running_loop().call_soon(lambda: self._spawn(coro))

    async def _RequestStartTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        answer = await super()._RequestStartTransaction(p)  # Started comes first
        if answer["status"] == "Accepted":
            self._agreed_a = None
            self._later(self._needs())
        return answer

    async def _needs(self) -> None:
        if self.tx is None:
            return
        needs = {
            "requestedEnergyTransfer": "AC_three_phase",
            "acChargingParameters": {
                "energyAmount": 20000,
                "evMinCurrent": 6,
                "evMaxCurrent": 16,
                "evMaxVoltage": 230,
            },
        }
        result = await self._call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": needs})
        rejected = result.payload.get("status") == "Rejected"
        if rejected and self.deviation is not IsoDeviation.WAITS_AFTER_REJECTION:
            await self._agree(self.b.max_current_a)  # K15: its own limits

    async def _SetChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        answer = await super()._SetChargingProfile(p)
        profile = p["chargingProfile"]
        if (
            answer["status"] != "Accepted"
            or profile["chargingProfilePurpose"] != "TxProfile"
            or self.tx is None
        ):
            return answer
        limit = float(profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"])
        if self.deviation is IsoDeviation.SCHEDULE_OVER_LIMIT:
            limit = self.b.max_current_a
        if self.deviation is IsoDeviation.KEEPS_FIRST_SCHEDULE and self._agreed_a is not None:
            return answer
        self._later(self._agree(limit))
        return answer

    async def _agree(self, limit_a: float) -> None:
        """The schedule agreed with the vehicle: reported, and energy flows."""
        first = self._agreed_a is None
        self._agreed_a = limit_a
        self._schedules += 1
        schedule = {
            "id": self._schedules,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a, "numberPhases": 3}],
        }
        payload = {
            "timeBase": format_utc(self.clock.now()),
            "evseId": 1,
            "chargingSchedule": schedule,
        }
        await self._call("NotifyEVChargingSchedule", payload)
        if first:
            await self._event("Updated", "ChargingStateChanged", {"chargingState": "Charging"})

    def renegotiate(self) -> bool:
        """The vehicle asks to renegotiate (K17): its needs again."""
        if self.tx is None:
            return False
        if self.deviation is not IsoDeviation.IGNORES_RENEGOTIATION:
            self._later(self._needs())
        return True


class _OfflineControl(_IsoControl):
    def __init__(self, station: FakeOfflineIsoStation201) -> None:
        super().__init__(station)
        self._offline = station

    async def go_offline(self) -> bool:
        return await self._offline.go_offline()

    async def present_token(self, *, evse: int, id_token: str) -> bool:
        return self._offline.present_token(id_token)


class FakeOfflineIsoStation201(FakeIsoStation201):
    """The ISO 15118 fake station that can go offline (OCA TC_K_56_CS): it closes its
    connection (1001); a token presented meanwhile is authorized locally, the schedule is
    agreed from its TxDefaultProfile's first limit, and the TransactionEvents (Started,
    ChargingStateChanged Charging; offline true) and the NotifyEVChargingSchedule are queued;
    the same station serves the next connection (the provider sees :attr:`offline`), boots
    again and sends the queue first."""

    def __init__(self, clock: Clock, behaviour: FakeBehaviour | None = None) -> None:
        super().__init__(clock, behaviour)
        self.control = _OfflineControl(self)
        self.offline = False
        self._queued: list[tuple[str, dict[str, Any]]] = []

    async def serve(self, transport: Transport) -> None:
        self.offline = False
        await super().serve(transport)

    async def go_offline(self) -> bool:
        assert self.conn is not None
        self.offline = True
        await self.conn.transport.close(code=1001, reason="offline")
        return True

    def present_token(self, id_token: str) -> bool:
        if not self.offline:
            return False
        defaults = [
            p for _, p in self.kept.values() if p["chargingProfilePurpose"] == "TxDefaultProfile"
        ]
        limit = self.b.max_current_a
        if defaults:
            limit = float(defaults[0]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"])
        now = format_utc(self.clock.now())
        self.tx = Transaction(f"tx-{self._seq + 1}", self.clock.now())
        marked = {} if self.deviation is IsoDeviation.UNMARKED_OFFLINE_EVENTS else {"offline": True}
        tx_id = self.tx.transaction_id
        started = {
            "eventType": "Started",
            "timestamp": now,
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": tx_id, "chargingState": "EVConnected"},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": id_token, "type": "ISO14443"},
            **marked,
        }
        schedule = {
            "timeBase": now,
            "evseId": 1,
            "chargingSchedule": {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit, "numberPhases": 3}],
            },
        }
        charging = {
            "eventType": "Updated",
            "timestamp": now,
            "triggerReason": "ChargingStateChanged",
            "seqNo": 1,
            "transactionInfo": {"transactionId": tx_id, "chargingState": "Charging"},
            **marked,
        }
        self._seq += 1
        self._queued += [
            ("TransactionEvent", started),
            ("NotifyEVChargingSchedule", schedule),
            ("TransactionEvent", charging),
        ]
        return True

    async def _meter_loop(self) -> None:
        # runs once booted on a connection: the messages queued offline go first
        queued, self._queued = self._queued, []
        for action, payload in queued:
            await self._call(action, payload)


def offline_iso_station(deviation: IsoDeviation | None) -> type[FakeOfflineIsoStation201]:
    """The scripted offline ISO 15118 station class, with ``deviation`` (``None``: as
    documented)."""
    return type(
        f"FakeOfflineIsoStation201_{deviation}",
        (FakeOfflineIsoStation201,),
        {"deviation": deviation},
    )


def iso_station(deviation: IsoDeviation | None) -> type[FakeIsoStation201]:
    """The scripted ISO 15118 station class, with ``deviation`` (``None``: as documented)."""
    return type(f"FakeIsoStation201_{deviation}", (FakeIsoStation201,), {"deviation": deviation})


class FakeStation201WithoutSmartCharging(FakeStation201):
    """A 2.0.1 fake station without smart charging: SetChargingProfile is answered CALLERROR
    NotSupported (OCA TC_K_15_CS); with ``not_implemented`` it answers NotImplemented."""

    async def _SetChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        raise CallErrorReply(ErrorCode.NOT_SUPPORTED, "no smart charging here")


class _RebootingStation201(FakeStation201):
    """A 2.0.1 fake station that reboots on Reset (closes with 1012; the harness's provider
    starts the next one, which boots with reason RemoteReset) and keeps its profiles over it
    in ``flash`` (class-wide: the next instance reads it), unless ``forgets``; with
    ``stays_up`` it answers Reset Accepted and does not reboot."""

    flash: ClassVar[dict[int, tuple[int, dict[str, Any]]]]
    forgets: ClassVar[bool] = False
    stays_up: ClassVar[bool] = False

    extra_actions = ("Reset",)

    def _handler(self, action: str) -> Any:
        inner = super()._handler(action)

        async def handle(event: Any) -> dict[str, Any]:
            if not self.kept:
                self.kept = dict(type(self).flash)  # what the flash kept, read at start
            answer: dict[str, Any] = await inner(event)
            if action in ("SetChargingProfile", "ClearChargingProfile") and not self.forgets:
                type(self).flash = dict(self.kept)
            return answer

        return handle

    async def _Reset(self, p: dict[str, Any]) -> dict[str, Any]:
        if not self.stays_up:
            conn = self.conn
            assert conn is not None

            async def reboot() -> None:
                await self.clock.sleep(1.0)
                await conn.transport.close(code=1012, reason="reboot")

            self._spawn(reboot())
        return {"status": "Accepted"}


def rebooting_station(*, forgets: bool = False, stays_up: bool = False) -> type[FakeStation201]:
    """A fresh rebooting fake station class (its own flash; see :class:`_RebootingStation201`)."""
    return type(
        "RebootingStation201",
        (_RebootingStation201,),
        {"flash": {}, "forgets": forgets, "stays_up": stays_up},
    )
