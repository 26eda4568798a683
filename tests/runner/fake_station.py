"""A small scripted OCPP 1.6 station for runner tests (over memory_pair, on any clock).

It boots, answers RemoteStart/RemoteStop, SetChargingProfile (refusing by fixed rules:
a TxProfile for no or another transaction or on connector 0, an unknown connector, unit W),
ClearChargingProfile and GetCompositeSchedule (with a fixed ``composite_script`` frame, else
the oracle's composite, or faulty on purpose), and reports MeterValues of a
vehicle that follows the limit, every ``meter_interval_s`` of clock time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.clock import Clock
from harness.connection import CallErrorReply, OcppConnection
from harness.runner.engine import plain_json
from harness.scenario.values import format_utc
from harness.session import CallReceived, ErrorCode, LocalProtocolError, Role
from harness.smartcharging import (
    ClearCriteria,
    ProfileStore,
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
    parse_set_charging_profile,
)
from harness.transport import Transport
from harness.versions import OcppVersion


@dataclass
class FakeBehaviour:
    """Knobs for misbehaving."""

    ignore_limit: bool = False
    """Accept profiles but keep drawing the vehicle's maximum."""
    empty_composite: bool = False
    reject_profiles: bool = False
    """Refuse every SetChargingProfile (2.0.1: also a RequestStartTransaction carrying one)."""
    silent_actions: set[str] = field(default_factory=set)
    """Actions it never answers."""
    disconnect_on: str | None = None
    """Close the connection when this action arrives."""
    close_before_boot: bool = False
    """Close the connection at once, before sending BootNotification (during the harness's
    boot wait)."""
    start_before_answer: bool = False
    """Send StartTransaction before answering RemoteStartTransaction."""
    start_delay_s: float = 0.0
    """Clock seconds between accepting RemoteStartTransaction and sending StartTransaction
    (a station that starts late: the StartTransaction may come during the next reset)."""
    keeps_transaction: bool = False
    """RemoteStopTransaction is Rejected and unplugging does not end the transaction."""
    status_after_stop: str | None = None
    """The connector status it reports after a transaction ended (``None``: none)."""
    not_implemented: set[str] = field(default_factory=set)
    """Actions it answers with CALLERROR NotImplemented."""
    vehicle_max_a: float = 16.0
    meter_interval_s: float = 1.0
    max_current_a: float = 32.0
    accept_every_profile: bool = False
    """Accept every SetChargingProfile and every RemoteStart profile (a station that does not
    check them)."""
    clear_always_accepted: bool = False
    """ClearChargingProfile answers Accepted even when nothing matched (2.0.1 fake only)."""
    misreport_profiles: bool = False
    """GetChargingProfiles answers NoProfiles when profiles match and reports every profile
    when none does (2.0.1 fake only)."""
    replace_ignored: bool = False
    """A SetChargingProfile with the id of a kept profile is Accepted but the old one stays
    (2.0.1 fake only)."""
    unreported_external_limit: bool = False
    """An external (EMS) limit is not reported with NotifyChargingLimit; its release still is
    (2.0.1 fake only)."""
    composite_script: Callable[[FakeStation, dict[str, Any]], dict[str, Any]] | None = None
    """Answer GetCompositeSchedule with this fixed frame (given the station and the request)
    instead of the oracle's: a scripted station as an independent implementation answers."""


class FakeControl:
    def __init__(self, station: FakeStation) -> None:
        self._station = station

    async def plug_in(self, *, evse: int) -> None:
        self._station.plugged = True

    async def unplug(self, *, evse: int) -> None:
        self._station.plugged = False
        if not self._station.b.keeps_transaction:
            await self._station.end_transaction()

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        self._station.soc = soc_percent

    async def wake(self, *, evse: int) -> None:
        return None

    async def set_external_limit(self, *, evse: int, limit_a: float | None) -> None:
        setter = getattr(self._station, "set_external_limit", None)
        if setter is None:
            raise RuntimeError("the 1.6 fake station has no external limit")
        await setter(limit_a)


class FakeStation:
    def __init__(self, clock: Clock, behaviour: FakeBehaviour | None = None) -> None:
        self.clock = clock
        self.b = behaviour or FakeBehaviour()
        self.store = ProfileStore(OcppVersion.V16)
        self.plugged = False
        self.soc = 50.0
        self.tx: Transaction | None = None
        self.conn: OcppConnection | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.control = FakeControl(self)
        self.received: list[str] = []
        self.starting = False
        """A remote start was accepted and its StartTransaction is still to come."""
        self.profiles_set_at: list[datetime] = []
        """When each SetChargingProfile arrived (clock time)."""

    def context(self) -> StationContext:
        txs = ((1, self.tx),) if self.tx is not None else ()
        return StationContext(
            evse_ids=(1,), transactions=txs, supported_units=frozenset({RateUnit.A})
        )

    # ---- serving
    async def serve(self, transport: Transport) -> None:
        if self.b.close_before_boot:
            await transport.close(code=1001)
            return
        handlers = {
            name: self._handler(name)
            for name in (
                "RemoteStartTransaction",
                "RemoteStopTransaction",
                "SetChargingProfile",
                "ClearChargingProfile",
                "GetCompositeSchedule",
                "ChangeConfiguration",
            )
        }
        self.conn = OcppConnection.open(
            transport, role=Role.CHARGING_STATION, clock=self.clock, handlers=handlers
        )
        self.conn.start()
        await self.conn.call(
            "BootNotification",
            {"chargePointVendor": "Fake", "chargePointModel": "F1"},
            timeout_s=30,
        )
        await self.conn.call(
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            timeout_s=30,
        )
        self._tasks.append(asyncio.create_task(self._meter_loop()))
        await self.conn.wait_closed()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.conn is not None:
            await self.conn.close()

    def _handler(self, action: str) -> Any:
        async def handle(event: CallReceived) -> dict[str, Any]:
            self.received.append(action)
            if action == self.b.disconnect_on:
                assert self.conn is not None
                asyncio.get_running_loop().call_soon(
                    lambda: asyncio.ensure_future(self.conn.transport.close(code=1001))  # type: ignore[union-attr]
                )
                await asyncio.sleep(3600)
            if action in self.b.silent_actions:
                await asyncio.sleep(3600)
            if action in self.b.not_implemented:
                raise CallErrorReply(ErrorCode.NOT_IMPLEMENTED, f"no {action} here")
            return await getattr(self, "_" + action)(event.payload)

        return handle

    async def _ChangeConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    async def _RemoteStartTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.tx is not None or self.starting:  # 1.6 §5.11: the connector is busy
            return {"status": "Rejected"}
        profile = p.get("chargingProfile")
        # 1.6 §5.11 (OCA TC_060_CS): a RemoteStart profile must be a TxProfile
        if (
            profile is not None
            and profile.get("chargingProfilePurpose") != "TxProfile"
            and not self.b.accept_every_profile
        ):
            return {"status": "Rejected"}
        if self.b.start_delay_s > 0:
            self.starting = True
            self._spawn(self._start_later(p["idTag"]))
            return {"status": "Accepted"}
        if self.b.start_before_answer:
            await self._start(p["idTag"])
            return {"status": "Accepted"}
        asyncio.get_running_loop().call_soon(lambda: self._spawn(self._start(p["idTag"])))
        return {"status": "Accepted"}

    async def _start_later(self, tag: str) -> None:
        await self.clock.sleep(self.b.start_delay_s)
        try:
            await self._start(tag)
        finally:
            self.starting = False

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    async def _start(self, tag: str) -> None:
        assert self.conn is not None
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

    async def report_status(self, status: str) -> None:
        """StatusNotification (retried while another CALL of ours is outstanding)."""
        for _ in range(100):
            if self.conn is None or self.conn.transport.closed:
                return
            try:
                await self.conn.call(
                    "StatusNotification",
                    {"connectorId": 1, "errorCode": "NoError", "status": status},
                    timeout_s=30,
                )
                return
            except LocalProtocolError:
                await self.clock.sleep(0.1)
            except Exception:
                return

    async def end_transaction(self) -> None:
        if self.tx is None or self.conn is None:
            return
        tx, self.tx = self.tx, None
        self.store.end_transaction(tx.transaction_id)
        with contextlib.suppress(Exception):
            await self.conn.call(
                "StopTransaction",
                {
                    "transactionId": int(tx.transaction_id),
                    "meterStop": 0,
                    "timestamp": format_utc(self.clock.now()),
                },
                timeout_s=30,
            )
        if self.b.status_after_stop is not None:
            await self.report_status(self.b.status_after_stop)

    async def _RemoteStopTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        if (
            self.b.keeps_transaction
            or self.tx is None
            or str(p["transactionId"]) != self.tx.transaction_id
        ):
            return {"status": "Rejected"}
        self._spawn(self.end_transaction())
        return {"status": "Accepted"}

    async def _SetChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        self.profiles_set_at.append(self.clock.now())
        if self.b.reject_profiles:
            return {"status": "Rejected"}
        if self._refused(p) and not self.b.accept_every_profile:
            return {"status": "Rejected"}
        # kept in a ProfileStore only for its meter (and the composite when not scripted)
        evse, profile = parse_set_charging_profile(plain_json(p), version=OcppVersion.V16)
        self.store.install(evse, profile, self.context())
        return {"status": "Accepted"}

    def _refused(self, p: dict[str, Any]) -> bool:
        """The fixed rules it refuses a profile by (not the oracle's rule table)."""
        profile = p["csChargingProfiles"]
        connector = int(p["connectorId"])
        tx_profile = profile["chargingProfilePurpose"] == "TxProfile"
        running = None if self.tx is None else self.tx.transaction_id
        return bool(
            # 1.6 §5.16 (OCA TC_058_1/2_CS): a TxProfile for the running transaction only
            (tx_profile and str(profile.get("transactionId")) != running)
            # 1.6 §5.16: a TxProfile only on a connector (> 0)
            or (tx_profile and connector == 0)
            # a connector it has (0 = the whole station, 1)
            or connector not in (0, 1)
            # a unit it supports (A only)
            or profile["chargingSchedule"]["chargingRateUnit"] != "A"
        )

    async def _ClearChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        purpose = p.get("chargingProfilePurpose")
        gone = self.store.clear(
            ClearCriteria(
                profile_id=p.get("id"),
                evse_id=p.get("connectorId"),
                purpose=None
                if purpose is None
                else (
                    Purpose.STATION_MAX if purpose == "ChargePointMaxProfile" else Purpose(purpose)
                ),
                stack_level=p.get("stackLevel"),
            )
        )
        return {"status": "Accepted" if gone else "Unknown"}

    async def _GetCompositeSchedule(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.b.empty_composite:
            return {"status": "Accepted", "connectorId": p["connectorId"]}
        if self.b.composite_script is not None:
            return self.b.composite_script(self, p)
        return self.store.composite_response(
            evse_id=p["connectorId"],
            start=self.clock.now(),
            duration_s=p["duration"],
            unit=RateUnit(p.get("chargingRateUnit", "A")),
            context=self.context(),
            default_limit=Decimal(str(self.b.max_current_a)),
        )

    # ---- metering
    def current_a(self, at: datetime) -> float:
        if self.tx is None or not self.plugged:
            return 0.0
        if self.b.ignore_limit:
            return self.b.vehicle_max_a
        limit = self.store.limit_at(evse_id=1, at=at, context=self.context()).current_a
        cap = self.b.max_current_a if limit is None else float(limit)
        value = min(cap, self.b.vehicle_max_a)
        return value if value >= 6 else 0.0

    async def _meter_loop(self) -> None:
        assert self.conn is not None
        while not self.conn.transport.closed:
            await self.clock.sleep(self.b.meter_interval_s)
            if self.tx is None:
                continue
            now = self.clock.now()
            amps = self.current_a(now)
            sampled = [
                {"value": f"{amps:.1f}", "measurand": "Current.Import", "phase": ph, "unit": "A"}
                for ph in ("L1", "L2", "L3")
            ]
            sampled.append(
                {"value": f"{amps * 230 * 3:.0f}", "measurand": "Power.Active.Import", "unit": "W"}
            )
            with contextlib.suppress(Exception):
                await self.conn.call(
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": int(self.tx.transaction_id),
                        "meterValue": [{"timestamp": format_utc(now), "sampledValue": sampled}],
                    },
                    timeout_s=30,
                )
