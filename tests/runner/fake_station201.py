"""The scripted fake station of :mod:`tests.runner.fake_station`, speaking OCPP 2.0.1.

It boots, starts a transaction on RequestStartTransaction (TransactionEvent Started with the
remoteStartId), ends it on RequestStopTransaction, keeps every SetChargingProfile as sent
(a profile with an installed id replaces it) unless a fixed rule refuses it (a TxProfile for
no or another transaction, or for EVSE 0; an EVSE it does not have; unit W: it supports A
only); ClearChargingProfile removes the matching ones (Unknown when none matches);
GetChargingProfiles reports the kept ones (ReportChargingProfiles); SetVariables is Accepted.
GetCompositeSchedule is answered only by its ``composite_script`` (fixed frames: it has no
oracle). An external (EMS) limit set through its control is reported with NotifyChargingLimit
and its release with ClearedChargingLimit (K12 / K13). While a transaction runs it meters a
vehicle drawing ``vehicle_max_a`` on three phases, or the external limit when that is lower
(MeterValues every ``meter_interval_s``): it applies no charging profile to its current.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    kept: dict[int, tuple[int, dict[str, Any]]]
    """Profiles as sent, by id: (evseId, chargingProfile)."""

    external_limit_a: float | None = None
    """The EMS's limit on EVSE 1 (A per phase), ``None`` when there is none."""

    extra_actions: tuple[str, ...] = ()
    """More CSMS requests a subclass answers (with a ``_<Action>`` method)."""

    async def serve(self, transport: Transport) -> None:
        handlers = {
            name: self._handler(name)
            for name in (
                "RequestStartTransaction",
                "RequestStopTransaction",
                "SetChargingProfile",
                "ClearChargingProfile",
                "GetCompositeSchedule",
                "GetChargingProfiles",
                "SetVariables",
                *self.extra_actions,
            )
        }
        self.kept = {}
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
        self._tasks.append(asyncio.create_task(self._meter_loop()))
        await self.conn.wait_closed()

    async def set_external_limit(self, limit_a: float | None) -> None:
        """The EMS limits EVSE 1 to ``limit_a`` (or lifts its limit): K12 / K13 report it."""
        self.external_limit_a = limit_a
        if limit_a is None or not self.b.unreported_external_limit:
            self._spawn(self._report_external_limit(limit_a))

    async def _report_external_limit(self, limit_a: float | None) -> None:
        assert self.conn is not None
        if limit_a is None:
            await self.conn.call(
                "ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1}, timeout_s=30
            )
            return
        await self.conn.call(
            "NotifyChargingLimit",
            {"chargingLimit": {"chargingLimitSource": "EMS"}, "evseId": 1},
            timeout_s=30,
        )

    async def _meter_loop(self) -> None:
        assert self.conn is not None
        while not self.conn.transport.closed:
            await self.clock.sleep(self.b.meter_interval_s)
            if self.tx is None or not self.plugged:
                continue
            amps = self.b.vehicle_max_a
            if self.external_limit_a is not None:
                amps = min(amps, self.external_limit_a)
            sampled = [
                {
                    "value": amps,
                    "measurand": "Current.Import",
                    "phase": phase,
                    "unitOfMeasure": {"unit": "A"},
                }
                for phase in ("L1", "L2", "L3")
            ]
            meter_value = {"timestamp": format_utc(self.clock.now()), "sampledValue": sampled}
            with contextlib.suppress(Exception):
                await self.conn.call(
                    "MeterValues", {"evseId": 1, "meterValue": [meter_value]}, timeout_s=30
                )

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
        if p.get("chargingProfile") is not None and self.b.reject_profiles:
            return {"status": "Rejected"}
        self.tx = Transaction(f"tx-{self._seq + 1}", self.clock.now())
        profile = p.get("chargingProfile")
        if profile is not None:  # F01.FR.08: the TxProfile of this transaction
            self.profiles_set_at.append(self.clock.now())
            kept = {**profile, "transactionId": self.tx.transaction_id}
            self.kept[int(profile["id"])] = (int(p.get("evseId", 1)), kept)
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
        profile = p["chargingProfile"]
        evse = int(p["evseId"])
        if self.b.reject_profiles or (
            self._refused(evse, profile) and not self.b.accept_every_profile
        ):
            return {"status": "Rejected"}
        if self.b.replace_ignored and int(profile["id"]) in self.kept:
            return {"status": "Accepted"}
        self.kept[int(profile["id"])] = (evse, profile)
        return {"status": "Accepted"}

    def _refused(self, evse: int, profile: dict[str, Any]) -> bool:
        """The fixed rules it refuses a profile by (no oracle)."""
        running = None if self.tx is None else self.tx.transaction_id
        tx_profile = profile["chargingProfilePurpose"] == "TxProfile"
        return bool(
            # K01.FR.09 / K01.FR.33: a TxProfile needs the running transaction
            (tx_profile and profile.get("transactionId") != running)
            # K01.FR.16: a TxProfile only for an EVSE (> 0)
            or (tx_profile and evse == 0)
            # K01.FR.28: an EVSE it has (0 = the whole station, 1)
            or evse not in (0, 1)
            # K01.FR.26: a unit it supports (A only)
            or any(s.get("chargingRateUnit") != "A" for s in profile["chargingSchedule"])
        )

    async def _ClearChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        wanted = p.get("chargingProfileId")
        criteria = p.get("chargingProfileCriteria") or {}

        def matches(evse: int, profile: dict[str, Any]) -> bool:
            if wanted is not None:
                return bool(profile["id"] == wanted)
            return (
                criteria.get("evseId", evse) == evse
                and criteria.get("chargingProfilePurpose", profile["chargingProfilePurpose"])
                == profile["chargingProfilePurpose"]
                and criteria.get("stackLevel", profile["stackLevel"]) == profile["stackLevel"]
            )

        gone = [pid for pid, (evse, profile) in self.kept.items() if matches(evse, profile)]
        for pid in gone:
            del self.kept[pid]
        return {"status": "Accepted" if gone or self.b.clear_always_accepted else "Unknown"}

    async def _SetVariables(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in p["setVariableData"]
            ]
        }

    async def _GetChargingProfiles(self, p: dict[str, Any]) -> dict[str, Any]:
        criteria = p["chargingProfile"]
        ids = criteria.get("chargingProfileId")

        def wanted(evse: int, profile: dict[str, Any]) -> bool:
            return (
                (ids is None or profile["id"] in ids)
                and p.get("evseId") in (None, evse)
                and criteria.get("stackLevel", profile["stackLevel"]) == profile["stackLevel"]
                and criteria.get("chargingProfilePurpose", profile["chargingProfilePurpose"])
                == profile["chargingProfilePurpose"]
                and "CSO" in criteria.get("chargingLimitSource", ["CSO"])
            )

        found = [(evse, profile) for evse, profile in self.kept.values() if wanted(evse, profile)]
        if self.b.misreport_profiles:
            found = [] if found else list(self.kept.values())
        if not found:
            return {"status": "NoProfiles"}

        async def report() -> None:
            assert self.conn is not None
            evses = sorted({e for e, _ in found})
            for index, evse in enumerate(evses):
                payload = {
                    "requestId": p["requestId"],
                    "chargingLimitSource": "CSO",
                    "evseId": evse,
                    "chargingProfile": [prof for e, prof in found if e == evse],
                }
                if index + 1 < len(evses):
                    payload["tbc"] = True
                await self.conn.call("ReportChargingProfiles", payload, timeout_s=30)

        asyncio.get_running_loop().call_soon(lambda: self._spawn(report()))
        return {"status": "Accepted"}

    async def _GetCompositeSchedule(self, p: dict[str, Any]) -> dict[str, Any]:
        # an EVSE it does not have (OCA TC_K_47_CS); deviating, it answers anyway
        if p["evseId"] not in (0, 1):
            if not self.b.accept_every_profile:
                return {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEVSE"}}
            schedule = {
                "evseId": p["evseId"],
                "duration": p["duration"],
                "scheduleStart": format_utc(self.clock.now()),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32}],
            }
            return {"status": "Accepted", "schedule": schedule}
        if p.get("chargingRateUnit") == "W" and not self.b.accept_every_profile:
            # it supports A only (OCA TC_K_42_CS)
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedRateUnit"}}
        if self.b.composite_script is None:
            return {"status": "Rejected"}
        return self.b.composite_script(self, p)
