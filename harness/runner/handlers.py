"""Default answers of the harness (as CSMS) to the DUT's own requests, per OCPP version.

Every answer is the plain, accepting one a CSMS gives when nothing special is being tested
(BootNotification Accepted with an interval, Authorize Accepted, StartTransaction with a
harness-assigned transactionId in 1.6, ...). A scenario's ``respond_with`` replaces the
answer for one request. Whatever the answer, the request and the answer feed the
:class:`~harness.runner.observations.ObservationLog`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from harness.clock import Clock
from harness.runner.observations import (
    ObservationLog,
    ObservedTransaction,
    dut_time,
    meter_samples,
)
from harness.scenario.values import format_utc
from harness.session import CallReceived, Role, initiators
from harness.versions import OcppVersion

__all__ = ["DefaultAnswers"]

_EMPTY_16 = (
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignedFirmwareStatusNotification",
    "StatusNotification",
    "MeterValues",
    "StopTransaction",
)
_EMPTY_2X = (
    "ClearedChargingLimit",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "StatusNotification",
    "TransactionEvent",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "ReportDERControl",
)
_ACCEPTED_2X = ("NotifyEVChargingNeeds", "NotifyEVChargingSchedule")


class DefaultAnswers:
    """Builds the answer to each DUT request and records what it tells about the DUT."""

    def __init__(
        self,
        *,
        version: OcppVersion,
        clock: Clock,
        observations: ObservationLog,
        heartbeat_interval_s: int,
        frames_of: Callable[[str], tuple[int, ...]],
    ) -> None:
        self.version = version
        self.clock = clock
        self.observations = observations
        self.heartbeat_interval_s = heartbeat_interval_s
        self._frames_of = frames_of
        self._transaction_ids = itertools.count(1)
        self.on_transaction_ended: Callable[[ObservedTransaction], None] | None = None

    def actions(self) -> list[str]:
        """Every action the DUT (a charging station) may send in this version."""
        names = {"Authorize", "BootNotification", "Heartbeat", "DataTransfer", "StartTransaction"}
        names |= set(_EMPTY_16 if self.version is OcppVersion.V16 else (*_EMPTY_2X, *_ACCEPTED_2X))
        return sorted(n for n in names if Role.CHARGING_STATION in initiators(self.version, n))

    def answer(
        self, event: CallReceived, *, override: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The answer to ``event`` (``override`` if given), after observing both."""
        response = dict(override) if override is not None else self._default(event)
        self._observe(event, response)
        return response

    # ---------------------------------------------------------------- defaults

    def _default(self, event: CallReceived) -> dict[str, Any]:
        action, v16 = event.action, self.version is OcppVersion.V16
        if action == "BootNotification":
            now = format_utc(self.clock.now())
            return {"status": "Accepted", "currentTime": now, "interval": self.heartbeat_interval_s}
        if action == "Heartbeat":
            return {"currentTime": format_utc(self.clock.now())}
        if action == "Authorize":
            return (
                {"idTagInfo": {"status": "Accepted"}}
                if v16
                else {"idTokenInfo": {"status": "Accepted"}}
            )
        if action == "StartTransaction":
            return {
                "idTagInfo": {"status": "Accepted"},
                "transactionId": next(self._transaction_ids),
            }
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        if action in _ACCEPTED_2X:
            return {"status": "Accepted"}
        if action == "TransactionEvent" and "idToken" in event.payload:
            return {"idTokenInfo": {"status": "Accepted"}}
        return {}

    # ------------------------------------------------------------- observation

    def _observe(self, event: CallReceived, response: Mapping[str, Any]) -> None:
        payload, log, now = event.payload, self.observations, self.clock.now()
        frame = next(iter(self._frames_of(event.message_id)), None)
        action = event.action
        if action == "BootNotification":
            log.boot = dict(payload)
            log.booted.set()
        elif action == "StatusNotification":
            evse = (
                payload.get("connectorId")
                if self.version is OcppVersion.V16
                else payload.get("evseId")
            )
            status = payload.get("status") or payload.get("connectorStatus")
            if isinstance(evse, int) and isinstance(status, str):
                log.set_status(evse, status)
        elif action == "StartTransaction":
            tx = response.get("transactionId")
            accepted = (response.get("idTagInfo") or {}).get("status") == "Accepted"
            if tx is not None and accepted:
                evse = int(payload.get("connectorId", 1))
                start = dut_time(payload.get("timestamp"), arrival=now)
                log.start_transaction(ObservedTransaction(str(tx), evse, start))
        elif action == "StopTransaction":
            self._ended(str(payload.get("transactionId")))
        elif action == "MeterValues":
            evse = payload.get("connectorId", payload.get("evseId", 0))
            log.add_samples(
                meter_samples(
                    payload.get("meterValue", ()),
                    evse=int(evse),
                    at=now,
                    frame=frame,
                    rejected=log.invalid_values,
                )
            )
        elif action == "TransactionEvent":
            self._transaction_event(payload, frame)

    def _transaction_event(self, payload: Mapping[str, Any], frame: int | None) -> None:
        log, now = self.observations, self.clock.now()
        tx_id = str((payload.get("transactionInfo") or {}).get("transactionId"))
        evse_field = payload.get("evse") or {}
        evse = evse_field.get("id") if isinstance(evse_field, Mapping) else None
        known = next((t for t in log.transactions.values() if t.transaction_id == tx_id), None)
        if evse is None and known is not None:
            evse = known.evse
        event_type = payload.get("eventType")
        if event_type in ("Started", "Updated") and known is None and evse is not None:
            start = dut_time(payload.get("timestamp"), arrival=now)
            log.start_transaction(ObservedTransaction(tx_id, int(evse), start))
        if payload.get("meterValue"):
            log.add_samples(
                meter_samples(
                    payload["meterValue"],
                    evse=int(evse or 0),
                    at=now,
                    frame=frame,
                    rejected=log.invalid_values,
                )
            )
        if event_type == "Ended":
            self._ended(tx_id)

    def _ended(self, transaction_id: str) -> None:
        ended = self.observations.end_transaction(transaction_id)
        if ended is not None and self.on_transaction_ended is not None:
            self.on_transaction_ended(ended)
