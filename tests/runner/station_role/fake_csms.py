"""A small CSMS for the CSMS-side suite's tests, written with the ``ocpp`` package.

It answers a station's BootNotification, StatusNotification, Authorize, StartTransaction,
StopTransaction, TransactionEvent, Heartbeat and MeterValues, and — when told through
:meth:`TestCsms.trigger` (in process) or through its control port (one text line
``ACTION`` from a hook command, see :meth:`TestCsms.hook`) — sends smart-charging requests:

* ``tx_default`` — SetChargingProfile with a TxDefaultProfile on connector/EVSE 1;
* ``tx_profile`` — a TxProfile for the running transaction;
* ``remote_start`` — RemoteStartTransaction / RequestStartTransaction with a TxProfile;
* ``composite`` — a station maximum, a TxDefaultProfile, a TxProfile, then GetCompositeSchedule;
* ``clear`` — ClearChargingProfile of the last TxDefaultProfile, by id;
* ``session`` — a TxProfile for the running transaction;
* ``remote_stop`` (1.6) — RemoteStopTransaction of the running transaction.

``strict=True`` makes it check identities as a production CSMS does: an idTag / idToken must
be an ISO14443 UID (8 or 14 hex digits; otherwise 1.6 answers Invalid, 2.0.1 CALLERROR
PropertyConstraintViolation), one token has one open transaction at a time across every
station and connection (ConcurrentTx), a 2.0.1 transactionId is never reused (CALLERROR
PropertyConstraintViolation), and 1.6 transaction ids are unique over the CSMS's life.
``needs_report=True`` (2.0.1): after a BootNotification it asks GetBaseReport(FullInventory)
and knows only the EVSEs a NotifyReport named; told to act on another EVSE it fails
("Evse 1 not found"), so the hook exits non-zero.

``faults`` make it misbehave on purpose: ``over_max`` (limits of 40 A, above the station's
32 A), ``wrong_unit`` (schedules in W to a station that accepts A only), ``bad_stack``
(stackLevel 99), ``no_tx_id`` (TxProfile without transactionId), ``late_first_period``
(the first startPeriod is 60), ``remote_start_default`` (the profile of a remote start is a
TxDefaultProfile), ``clear_wrong_id`` (clears an id it never set), ``silent`` (does nothing);
for the 1.6 Core remote-action cases, ``refuse_remote_tag`` (Authorize and StartTransaction
of the token it started a session with are answered Invalid) and ``stop_wrong_tx`` (the
remote stop names a transaction 1000 above the running one).

OCPP 2.0.1 only, for the block K cases of the catalogue: ``station_max`` (a
ChargingStationMaxProfile on EVSE 0), ``tx_default_all`` (a TxDefaultProfile on EVSE 0),
``recurring`` (a Daily Recurring TxDefaultProfile on EVSE 1), ``get_profiles_<variant>``
(GetChargingProfiles by EVSE 0, an EVSE, no EVSE, profile id, stackLevel, source, purpose,
purpose and stackLevel, the external constraints: see :data:`GET_PROFILES`), ``composite_evse`` /
``composite_station`` (GetCompositeSchedule of EVSE 1 / of EVSE 0), ``replace`` (a
TxDefaultProfile with the id of the first one it sent, a new limit), ``clear_criteria``
(ClearChargingProfile by purpose TxDefaultProfile and stackLevel 0). Their faults:
``wrong_evse`` (EVSE 1 where 0 is meant and the other way round; an evseId where none is
meant), ``no_criteria`` (GetChargingProfiles without its criteria), ``not_recurring``
(the recurring profile sent as Absolute), ``replace_new_id`` (the replacement gets a new
id), ``clear_by_id`` (clears by id instead of by criteria), ``no_ems_limit`` /
``no_ems_cleared`` (NotifyChargingLimit / ClearedChargingLimit, which it otherwise answers,
get a CALLERROR).

ISO 15118 at the OCPP level (2.0.1, TC_K_53/55/57/58/59): it answers NotifyEVChargingNeeds
Accepted and then sends a TxProfile for the running transaction (K15.FR.03); it answers
NotifyEVChargingSchedule Accepted when every limit of the EV's schedule is within the limits
of the last TxProfile it sent, else Rejected and then renegotiates with a new TxProfile
(K15.FR.12/13). Actions: ``renegotiate`` (a new TxProfile for the running transaction, K16),
``tx_profile_no_tx`` (a TxProfile of 7 A without a transaction, TC_K_02), ``not_supported``
(a TxDefaultProfile of 6 A, TC_K_15), ``multiple`` (a TxDefaultProfile, then a
ChargingStationMaxProfile, TC_K_70). Their faults: ``needs_once`` (a second
NotifyEVChargingNeeds is Rejected and gets no profile), ``accept_exceeding`` (accepts an EV
schedule above its limits), ``renegotiate_without_cause`` (a second TxProfile right after
the EV's schedule was accepted), ``renegotiate_no_tx`` (the renegotiating TxProfile lacks
the transactionId), ``same_id`` (the ChargingStationMaxProfile reuses the
TxDefaultProfile's id).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

FAULTS = frozenset(
    {
        "over_max",
        "wrong_unit",
        "bad_stack",
        "no_tx_id",
        "late_first_period",
        "remote_start_default",
        "clear_wrong_id",
        "silent",
        "malformed",
        "extra_bad_profile",
        "refuse_remote_tag",  # the 1.6 Core remote-action cases (issue 18 point 4)
        "stop_wrong_tx",
        # for the 2.0.1 block K cases of scenarios/catalogue (issue 18)
        "wrong_evse",
        "no_criteria",
        "not_recurring",
        "replace_new_id",
        "clear_by_id",
        "no_ems_limit",
        "no_ems_cleared",
        # for the ISO 15118 and remaining 2.0.1 block K CSMS cases (issue 18)
        "needs_once",
        "accept_exceeding",
        "renegotiate_without_cause",
        "renegotiate_no_tx",
        "same_id",
    }
)


REMOTE_TOKEN = "0A0B0C0D"
"""The ISO14443 UID the CSMS starts remote transactions with."""


class Ledger:
    """What a strict CSMS remembers across stations and connections."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.open_by_token: dict[str, str] = {}
        self.seen_tx: set[str] = set()
        self.tx_numbers = itertools.count(1)
        self.refused: list[str] = []

    def token_status(self, token: str) -> str:
        """Accepted, Invalid (not an ISO14443 UID) or ConcurrentTx (strict only)."""
        if not self.strict:
            return "Accepted"
        if len(token) not in (8, 14) or any(c not in "0123456789ABCDEFabcdef" for c in token):
            self.refused.append(f"invalid UID {token}")
            return "Invalid"
        if token in self.open_by_token:
            self.refused.append(f"concurrent {token}")
            return "ConcurrentTx"
        return "Accepted"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Brain:
    """What the CSMS sends; faults change it."""

    def __init__(self, faults: frozenset[str]) -> None:
        unknown = faults - FAULTS
        assert not unknown, f"unknown faults {unknown}"
        self.faults = faults
        self.ids = itertools.count(100)
        self.last_default_id: int | None = None
        self.replaceable: int | None = None  # the first TxDefaultProfile's id

    @property
    def composite_unit(self) -> str:
        return "W" if "wrong_unit" in self.faults else "A"

    def schedule(self, *, limit_a: float, kind: str) -> dict[str, Any]:
        unit = "W" if "wrong_unit" in self.faults else "A"
        if "malformed" in self.faults:
            unit = "Amps"
        limit = 40.0 if "over_max" in self.faults else limit_a
        if unit == "W":
            limit = round(limit * 230 * 3, 1)
        first = 60 if "late_first_period" in self.faults else 0
        schedule: dict[str, Any] = {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": first, "limit": limit},
                {"startPeriod": first + 300, "limit": max(limit / 2, 6.0)},
            ],
            "duration": 3600,
        }
        if kind != "Relative":
            schedule["startSchedule"] = _now()
        return schedule

    def profile(self, purpose: str, *, tx: Any = None, limit_a: float = 16.0) -> dict[str, Any]:
        profile_id = next(self.ids)
        if purpose == "TxDefaultProfile":
            self.last_default_id = profile_id
            if self.replaceable is None:
                self.replaceable = profile_id
        kind = "Relative" if purpose == "TxProfile" and tx is None else "Absolute"
        body: dict[str, Any] = {
            "stackLevel": 99 if "bad_stack" in self.faults else 0,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind,
        }
        if tx is not None and "no_tx_id" not in self.faults:
            body["transactionId"] = tx
        return {"id": profile_id, **body, "schedule": self.schedule(limit_a=limit_a, kind=kind)}


class _Cp16(ChargePoint16):  # type: ignore[misc]
    def __init__(self, station_id: str, ws: Any, brain: _Brain, ledger: Ledger) -> None:
        super().__init__(station_id, ws)
        self.brain = brain
        self.ledger = ledger
        self.tx: int | None = None
        self.tokens: dict[int, str] = {}

    @on("BootNotification")
    def boot(self, **_: Any) -> Any:
        return result16.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("StatusNotification")
    def status(self, **_: Any) -> Any:
        return result16.StatusNotification()

    @on("Heartbeat")
    def heartbeat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=_now())

    @on("Authorize")
    def authorize(self, id_tag: str = "", **_: Any) -> Any:
        return result16.Authorize(id_tag_info={"status": self._remote_tag_status(id_tag)})

    def _remote_tag_status(self, id_tag: str) -> str:
        """Invalid for the token of its own remote starts with ``refuse_remote_tag``."""
        refused = "refuse_remote_tag" in self.brain.faults and id_tag == REMOTE_TOKEN
        return "Invalid" if refused else "Accepted"

    @on("StartTransaction")
    def start_tx(self, id_tag: str, **_: Any) -> Any:
        status = self.ledger.token_status(id_tag)
        if status == "Accepted":
            status = self._remote_tag_status(id_tag)
        number = next(self.ledger.tx_numbers)
        if status == "Accepted":
            self.tx = number
            self.tokens[number] = id_tag
            self.ledger.open_by_token[id_tag] = str(number)
        return result16.StartTransaction(transaction_id=number, id_tag_info={"status": status})

    @on("StopTransaction")
    def stop_tx(self, transaction_id: int, **_: Any) -> Any:
        token = self.tokens.pop(transaction_id, None)
        if token is not None:
            self.ledger.open_by_token.pop(token, None)
        if self.tx == transaction_id:
            self.tx = None
        return result16.StopTransaction()

    @on("MeterValues")
    def meter_values(self, **_: Any) -> Any:
        return result16.MeterValues()

    def _v16(self, profile: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in profile.items() if k not in {"id", "schedule"}}
        return {"chargingProfileId": profile["id"], **out, "chargingSchedule": profile["schedule"]}

    async def set_profile(self, connector: int, purpose: str, tx: Any = None) -> None:
        body = self._v16(self.brain.profile(purpose, tx=tx))
        await self.call(
            call16.SetChargingProfile(connector_id=connector, cs_charging_profiles=body),
            skip_schema_validation="malformed" in self.brain.faults,
        )

    async def act(self, what: str) -> None:
        brain = self.brain
        if what == "tx_default":
            if "extra_bad_profile" in brain.faults:
                await self.set_profile(0, "TxProfile", tx=self.tx)
            await self.set_profile(1, "TxDefaultProfile")
        elif what in {"tx_profile", "session"}:
            await self.set_profile(1, "TxProfile", tx=self.tx)
        elif what == "remote_start":
            purpose = "TxDefaultProfile" if "remote_start_default" in brain.faults else "TxProfile"
            profile = self._v16(brain.profile(purpose))
            await self.call(
                call16.RemoteStartTransaction(
                    id_tag=REMOTE_TOKEN, connector_id=1, charging_profile=profile
                )
            )
        elif what == "composite":
            await self.set_profile(0, "ChargePointMaxProfile")
            await self.set_profile(1, "TxDefaultProfile")
            await self.set_profile(1, "TxProfile", tx=self.tx)
            await self.call(
                call16.GetCompositeSchedule(
                    connector_id=1, duration=400, charging_rate_unit=brain.composite_unit
                )
            )
        elif what == "clear":
            target = 9999 if "clear_wrong_id" in brain.faults else brain.last_default_id
            await self.call(call16.ClearChargingProfile(id=target))
        elif what == "remote_stop":
            assert self.tx is not None, "no transaction running"
            wrong = "stop_wrong_tx" in brain.faults
            await self.call(call16.RemoteStopTransaction(transaction_id=self.tx + wrong * 1000))
        else:
            raise ValueError(what)


class _Cp201(ChargePoint201):  # type: ignore[misc]
    def __init__(
        self, station_id: str, ws: Any, brain: _Brain, ledger: Ledger, *, needs_report: bool
    ) -> None:
        super().__init__(station_id, ws)
        self.brain = brain
        self.ledger = ledger
        self.needs_report = needs_report
        self.tx: str | None = None
        self.tokens: dict[str, str] = {}
        self.known_evses: set[int] = set()
        self.reports: list[dict[str, Any]] = []
        self.needs_seen = 0
        self.tx_schedule: dict[str, Any] | None = None
        """The schedule of the last TxProfile sent (what the EV's schedule must keep to)."""
        self.ev_schedule_status = ""
        self.tx_profile_id: int | None = None
        """The id of the TxProfile sent for the transaction: a renegotiation replaces it
        (K01.FR.05; a second id on the same stackLevel would break K01.FR.39)."""

    @on("BootNotification")
    def boot(self, **_: Any) -> Any:
        return result201.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @after("BootNotification")
    async def ask_report(self, **_: Any) -> None:
        if self.needs_report:
            await self.call(call201.GetBaseReport(request_id=1, report_base="FullInventory"))

    @on("NotifyReport")
    def notify_report(self, report_data: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
        self.reports.append(kw)
        for item in report_data or []:
            component = item["component"]
            if component["name"] == "EVSE" and "evse" in component:
                self.known_evses.add(int(component["evse"]["id"]))
        return result201.NotifyReport()

    def _check_evse(self, evse: int) -> None:
        if self.needs_report and evse and evse not in self.known_evses:
            raise LookupError(f"Evse {evse} not found")

    @on("StatusNotification")
    def status(self, **_: Any) -> Any:
        return result201.StatusNotification()

    @on("Heartbeat")
    def heartbeat(self, **_: Any) -> Any:
        return result201.Heartbeat(current_time=_now())

    @on("Authorize")
    def authorize(self, **_: Any) -> Any:
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    def transaction_event(
        self,
        event_type: str,
        transaction_info: dict[str, Any],
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        tx_id = transaction_info["transaction_id"]
        if event_type == "Started":
            token = (id_token or {}).get("id_token", "")
            status = self.ledger.token_status(token)
            if status == "Invalid":
                raise PropertyConstraintViolationError(
                    description=f"idToken {token!r} is not a valid ISO14443 UID"
                )
            if self.ledger.strict and tx_id in self.ledger.seen_tx:
                self.ledger.refused.append(f"reused transactionId {tx_id}")
                raise PropertyConstraintViolationError(
                    description=f"transactionId {tx_id!r} already used"
                )
            self.ledger.seen_tx.add(tx_id)
            if status == "Accepted":
                self.tx = tx_id
                self.tokens[tx_id] = token
                self.ledger.open_by_token[token] = tx_id
            return result201.TransactionEvent(id_token_info={"status": status})
        if event_type == "Ended":
            token = self.tokens.pop(tx_id, None)
            if token is not None:
                self.ledger.open_by_token.pop(token, None)
            if self.tx == tx_id:
                self.tx = None
        return result201.TransactionEvent()

    @on("MeterValues")
    def meter_values(self, **_: Any) -> Any:
        return result201.MeterValues()

    def _v201(self, profile: dict[str, Any]) -> dict[str, Any]:
        schedule = {"id": 1, **profile["schedule"]}
        out = {k: v for k, v in profile.items() if k != "schedule"}
        return {**out, "chargingSchedule": [schedule]}

    async def set_profile(
        self, evse: int, purpose: str, tx: Any = None, *, limit_a: float = 16.0
    ) -> None:
        self._check_evse(evse)
        body = self._v201(self.brain.profile(purpose, tx=tx, limit_a=limit_a))
        if purpose == "TxProfile":
            self._replacing(body)
        await self.call(
            call201.SetChargingProfile(evse_id=evse, charging_profile=body),
            skip_schema_validation="malformed" in self.brain.faults,
        )

    async def act(self, what: str) -> None:
        brain = self.brain
        if what == "tx_default":
            if "extra_bad_profile" in brain.faults:
                await self.set_profile(0, "TxProfile", tx=self.tx)
            await self.set_profile(1, "TxDefaultProfile")
        elif what in {"tx_profile", "session"}:
            await self.set_profile(1, "TxProfile", tx=self.tx)
        elif what == "remote_start":
            purpose = "TxDefaultProfile" if "remote_start_default" in brain.faults else "TxProfile"
            profile = self._v201(brain.profile(purpose))
            await self.call(
                call201.RequestStartTransaction(
                    id_token={"idToken": REMOTE_TOKEN, "type": "ISO14443"},
                    remote_start_id=7,
                    evse_id=1,
                    charging_profile=profile,
                )
            )
        elif what == "composite":
            await self.set_profile(0, "ChargingStationMaxProfile")
            await self.set_profile(1, "TxDefaultProfile")
            await self.set_profile(1, "TxProfile", tx=self.tx)
            await self.call(
                call201.GetCompositeSchedule(
                    evse_id=1, duration=400, charging_rate_unit=brain.composite_unit
                )
            )
        elif what == "clear":
            target = 9999 if "clear_wrong_id" in brain.faults else brain.last_default_id
            await self.call(call201.ClearChargingProfile(charging_profile_id=target))
        elif not await _act_k201(self, what):
            raise ValueError(what)

    @on("ReportChargingProfiles")
    def report_profiles(self, **_: Any) -> Any:
        return result201.ReportChargingProfiles()

    def _replacing(self, body: dict[str, Any]) -> None:
        """A TxProfile for the transaction: the one sent before is replaced (same id)."""
        if self.tx_profile_id is not None and self.tx is not None:
            body["id"] = self.tx_profile_id
        self.tx_profile_id = body["id"]
        self.tx_schedule = body["chargingSchedule"][0]

    @on("NotifyEVChargingNeeds")
    def ev_needs(self, **_: Any) -> Any:
        self.needs_seen += 1
        refused = "needs_once" in self.brain.faults and self.needs_seen > 1
        return result201.NotifyEVChargingNeeds(status="Rejected" if refused else "Accepted")

    @after("NotifyEVChargingNeeds")
    async def schedule_for_needs(self, evse_id: int, **_: Any) -> None:
        if "needs_once" in self.brain.faults and self.needs_seen > 1:
            return
        await self.set_profile(evse_id, "TxProfile", tx=self.tx)

    @on("NotifyEVChargingSchedule")
    def ev_schedule(self, charging_schedule: dict[str, Any], **_: Any) -> Any:
        within = _within(charging_schedule, self.tx_schedule)
        accepted = within or "accept_exceeding" in self.brain.faults
        self.ev_schedule_status = "Accepted" if accepted else "Rejected"
        return result201.NotifyEVChargingSchedule(status=self.ev_schedule_status)

    @after("NotifyEVChargingSchedule")
    async def after_ev_schedule(self, evse_id: int, **_: Any) -> None:
        # K15.FR.13: after rejecting the EV's schedule the CSMS renegotiates (K16).
        rejected = self.ev_schedule_status == "Rejected"
        if rejected or "renegotiate_without_cause" in self.brain.faults:
            await self.set_profile(evse_id, "TxProfile", tx=self.tx, limit_a=10.0)

    @on("NotifyChargingLimit")
    def charging_limit(self, **_: Any) -> Any:
        if "no_ems_limit" in self.brain.faults:
            raise NotImplementedError("external limits")  # answered with a CALLERROR
        return result201.NotifyChargingLimit()

    @on("ClearedChargingLimit")
    def cleared_limit(self, **_: Any) -> Any:
        if "no_ems_cleared" in self.brain.faults:
            raise NotImplementedError("released external limits")
        return result201.ClearedChargingLimit()


GET_PROFILES: dict[str, tuple[int | None, dict[str, Any]]] = {
    # variant: (evseId, or None for none; the chargingProfile criteria)
    "evse0": (0, {"chargingProfilePurpose": "ChargingStationMaxProfile"}),
    "evse": (1, {"chargingProfilePurpose": "TxDefaultProfile"}),
    "no_evse": (None, {"chargingProfilePurpose": "TxDefaultProfile"}),
    "id": (None, {"chargingProfileId": [100]}),
    "stack": (1, {"stackLevel": 0}),
    "source": (1, {"chargingLimitSource": ["CSO"]}),
    "purpose": (1, {"chargingProfilePurpose": "TxDefaultProfile"}),
    "purpose_stack": (1, {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}),
    "external": (None, {"chargingProfilePurpose": "ChargingStationExternalConstraints"}),
}
"""What ``get_profiles_<variant>`` asks for."""


def _within(ev: dict[str, Any], csms: dict[str, Any] | None) -> bool:
    """Every limit of the EV's schedule is at most the highest limit of the CSMS's (same
    unit); the ``ocpp`` package hands both over with snake_case keys or camelCase."""
    if csms is None:
        return False

    def limits(schedule: dict[str, Any]) -> list[float]:
        periods = schedule.get("charging_schedule_period") or schedule.get(
            "chargingSchedulePeriod", []
        )
        return [float(p["limit"]) for p in periods]

    ev_unit = ev.get("charging_rate_unit") or ev.get("chargingRateUnit")
    if ev_unit != csms.get("chargingRateUnit"):
        return False
    return max(limits(ev)) <= max(limits(csms))


async def _act_k201(cp: _Cp201, what: str) -> bool:
    """The 2.0.1 block K requests of the catalogue's cases; False if ``what`` is not one."""
    faults = cp.brain.faults

    def evse(meant: int) -> int:
        return 1 - meant if "wrong_evse" in faults else meant

    if what in {"station_max", "tx_default_all"}:
        purpose = "ChargingStationMaxProfile" if what == "station_max" else "TxDefaultProfile"
        await cp.set_profile(evse(0), purpose)
    elif what == "recurring":
        body = cp._v201(cp.brain.profile("TxDefaultProfile"))
        if "not_recurring" not in faults:
            body["chargingProfileKind"] = "Recurring"
            body["recurrencyKind"] = "Daily"
        await cp.call(call201.SetChargingProfile(evse_id=1, charging_profile=body))
    elif what.startswith("get_profiles_"):
        meant, criteria = GET_PROFILES[what.removeprefix("get_profiles_")]
        evse_id = (1 if "wrong_evse" in faults else None) if meant is None else evse(meant)
        await cp.call(
            call201.GetChargingProfiles(
                request_id=next(cp.brain.ids),
                evse_id=evse_id,
                charging_profile={} if "no_criteria" in faults else criteria,
            )
        )
    elif what == "replace":
        body = cp._v201(cp.brain.profile("TxDefaultProfile", limit_a=10.0))
        if "replace_new_id" not in faults and cp.brain.replaceable is not None:
            body["id"] = cp.brain.replaceable
        await cp.call(call201.SetChargingProfile(evse_id=1, charging_profile=body))
    elif what == "clear_criteria":
        if "clear_by_id" in faults:
            await cp.call(call201.ClearChargingProfile(charging_profile_id=cp.brain.replaceable))
        else:
            criteria = {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}
            await cp.call(call201.ClearChargingProfile(charging_profile_criteria=criteria))
    elif what == "renegotiate":
        tx = None if "renegotiate_no_tx" in faults else cp.tx
        body = cp._v201(cp.brain.profile("TxProfile", tx=tx, limit_a=12.0))
        if tx is None:  # still a profile for the running transaction, without its id
            body["chargingProfileKind"] = "Absolute"
            body["chargingSchedule"][0]["startSchedule"] = _now()
        cp._replacing(body)
        await cp.call(call201.SetChargingProfile(evse_id=1, charging_profile=body))
    elif what == "tx_profile_no_tx":
        await cp.set_profile(1, "TxProfile", tx=cp.tx, limit_a=7.0)
    elif what == "not_supported":
        await cp.set_profile(evse(1), "TxDefaultProfile", limit_a=6.0)
    elif what == "multiple":
        await cp.set_profile(1, "TxDefaultProfile")
        body = cp._v201(cp.brain.profile("ChargingStationMaxProfile", limit_a=32.0))
        if "same_id" in faults and cp.brain.last_default_id is not None:
            body["id"] = cp.brain.last_default_id
        await cp.call(call201.SetChargingProfile(evse_id=0, charging_profile=body))
    elif what in {"composite_evse", "composite_station"}:
        meant = 1 if what == "composite_evse" else 0
        await cp.call(
            call201.GetCompositeSchedule(evse_id=evse(meant), duration=400, charging_rate_unit="A")
        )
    else:
        return False
    return True


class TestCsms:
    """The CSMS on ``ws://127.0.0.1:{port}/{station id}`` (OCPP 1.6 and 2.0.1)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        faults: frozenset[str] = frozenset(),
        strict: bool = False,
        needs_report: bool = False,
    ) -> None:
        self.faults = faults
        self.ledger = Ledger(strict=strict)
        self.needs_report = needs_report
        self.stations: dict[str, _Cp16 | _Cp201] = {}
        self.actions: list[str] = []
        self.errors: list[str] = []
        self._server: Any = None
        self._control: asyncio.Server | None = None
        self.port = 0
        self.control_port = 0

    async def __aenter__(self) -> TestCsms:
        self._server = await websockets.serve(
            self._serve, "127.0.0.1", 0, subprotocols=["ocpp1.6", "ocpp2.0.1"]
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._control = await asyncio.start_server(self._control_client, "127.0.0.1", 0)
        self.control_port = self._control.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._control is not None:
            self._control.close()
            await self._control.wait_closed()
        self._server.close()
        await self._server.wait_closed()

    def url(self, station_id: str = "CP-1") -> str:
        return f"ws://127.0.0.1:{self.port}/{station_id}"

    async def _serve(self, ws: Any) -> None:
        station_id = ws.request.path.rsplit("/", 1)[-1]
        brain = _Brain(self.faults)
        cp: _Cp16 | _Cp201
        if ws.subprotocol == "ocpp1.6":
            cp = _Cp16(station_id, ws, brain, self.ledger)
        else:
            cp = _Cp201(station_id, ws, brain, self.ledger, needs_report=self.needs_report)
        self.stations[station_id] = cp
        with contextlib.suppress(websockets.ConnectionClosed):
            await cp.start()

    async def trigger(self, what: str, station_id: str = "CP-1") -> None:
        """Make the CSMS act on the station (nothing with the ``silent`` fault)."""
        self.actions.append(what)
        if "silent" in self.faults:
            return
        await self.stations[station_id].act(what)

    async def _control_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        line = (await reader.readline()).decode().split()
        try:
            await self.trigger(line[0], line[1] if len(line) > 1 else "CP-1")
            writer.write(b"ok\n")
        except Exception as exc:  # report to the hook, which exits non-zero
            self.errors.append(repr(exc))
            writer.write(f"error {exc!r}\n".encode())
        await writer.drain()
        writer.close()

    def hook(self, what: str) -> str:
        """A hook command line that makes this CSMS do ``what`` (for a parameter file)."""
        script = (
            "import os,socket,sys;"
            f"s=socket.create_connection(('127.0.0.1',{self.control_port}));"
            f"s.sendall(b'{what} '+os.environ['OCPP_HARNESS_STATION_ID'].encode()+b'\\n');"
            "r=s.makefile().readline();print(r.strip());sys.exit(0 if r.startswith('ok') else 1)"
        )
        return f'{sys.executable} -c "{script}"'


class TriggeringOperator:
    """An operator who does what the prompt asks by telling the test CSMS directly."""

    def __init__(self, csms: TestCsms, choose: Callable[[str], str]) -> None:
        self.csms = csms
        self.choose = choose
        self.asked: list[str] = []

    async def ask(self, message: str, *, yes_no: bool) -> bool:
        self.asked.append(message)
        await self.csms.trigger(self.choose(message))
        return True


Action = Callable[[], Awaitable[None]]
