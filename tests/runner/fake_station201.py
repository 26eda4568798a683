"""The scripted fake station of :mod:`tests.runner.fake_station`, speaking OCPP 2.0.1.

It boots, starts a transaction on RequestStartTransaction (TransactionEvent Started with the
remoteStartId), ends it on RequestStopTransaction, accepts every SetChargingProfile and keeps
it as sent; ClearChargingProfile removes the matching ones (Unknown when none matches);
GetChargingProfiles reports the kept ones (ReportChargingProfiles); SetVariables is Accepted.
GetCompositeSchedule is answered only by its ``composite_script`` (fixed frames: it has no
oracle). No metering.
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
    kept: dict[int, tuple[int, dict[str, Any]]]
    """Profiles as sent, by id: (evseId, chargingProfile)."""

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
        # K01.FR.09 / K01.FR.33: a TxProfile needs the running transaction
        running = None if self.tx is None else self.tx.transaction_id
        if (
            profile["chargingProfilePurpose"] == "TxProfile"
            and profile.get("transactionId") != running
            and not self.b.accept_every_profile
        ):
            return {"status": "Rejected"}
        self.kept[int(profile["id"])] = (int(p["evseId"]), profile)
        return {"status": "Accepted"}

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
