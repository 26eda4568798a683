"""The station's answers to the CSMS's common requests (besides smart charging).

A real CSMS talks to a station it has just seen boot: it reads the device model or the
configuration, asks for messages, changes availability, resets it, looks at the local list.
The harness station answers these as a simple conforming station would, instead of CALLERROR
NotImplemented:

========================  ==================================================================
request                   answer (and what the station then sends, queued in the outbox)
========================  ==================================================================
GetBaseReport/GetReport   Accepted (EmptyResultSet when nothing matches) → NotifyReport(s)
Get/SetVariables          from the :class:`~.device_model.DeviceModel`
GetConfiguration (1.6)    the keys of :meth:`StationAnswers.configuration_keys`
ChangeConfiguration       Accepted for a writable key, Rejected for a read-only one,
                          NotSupported for an unknown one
TriggerMessage            Accepted → the message (BootNotification, Heartbeat,
                          StatusNotification, MeterValues, TransactionEvent); else
                          NotImplemented
ChangeAvailability        Scheduled while a transaction runs there, else Accepted →
                          StatusNotification
Reset                     2.x OnIdle during a transaction: Scheduled; else Accepted → the
                          transactions end, BootNotification, StatusNotification
GetLocalListVersion       0 (no local list); SendLocalList Accepted (the version is kept)
ClearCache, UnlockConnector, CancelReservation, ReserveNow, DataTransfer, GetTransactionStatus,
GetInstalledCertificateIds, CostUpdated: the plain answer of a station without that feature
========================  ==================================================================

:class:`StationAnswers` is mixed into :class:`~.state.StationState`, which owns the state
these answers read and change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from harness.runner.station_role.device_model import DeviceModel, notify_reports
from harness.runner.station_role.judge import StationDeclaration
from harness.versions import OcppVersion

__all__ = ["Outgoing", "StationAnswers", "iso"]

Outgoing = tuple[str, dict[str, Any]]
"""A request the station sends after answering: action and payload."""

Answer = Callable[[Mapping[str, Any], datetime], dict[str, Any]]

_WRITABLE_16 = {"HeartbeatInterval", "MeterValueSampleInterval", "ConnectionTimeOut"}


def iso(at: datetime) -> str:
    """A timestamp as OCPP carries it (UTC, seconds)."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class StationAnswers(ABC):
    """Default answers to the common CSMS requests (see the module)."""

    version: OcppVersion
    declaration: StationDeclaration
    device_model: DeviceModel
    outbox: list[Outgoing]
    unavailable: set[int]
    local_list_version: int
    config_16: dict[str, str]

    # What the answers need of the station's transactions (StationState implements them).
    @abstractmethod
    def open_transactions(self) -> dict[int, str]:
        """Transactions the station started and has not ended, by EVSE."""

    @abstractmethod
    def closing_messages(
        self, at: datetime, *, reason: str, only: str | None = None
    ) -> list[Outgoing]:
        """The requests that end the open transactions (``only``: that one)."""

    @abstractmethod
    def updated_event(self, evse_id: int, tx: str, at: datetime, *, trigger: str) -> dict[str, Any]:
        """A TransactionEvent Updated of the running transaction ``tx`` (next seqNo)."""

    # ------------------------------------------------------------------ table

    def common_answers(self) -> dict[str, Answer]:
        """The answers this mixin provides for the station's OCPP version."""
        both: dict[str, Answer] = {
            "TriggerMessage": self._trigger,
            "ChangeAvailability": self._availability,
            "Reset": self._reset,
            "GetLocalListVersion": self._local_list_version,
            "SendLocalList": self._send_local_list,
            "ClearCache": lambda _p, _t: {"status": "Accepted"},
            "UnlockConnector": lambda _p, _t: {"status": "Unlocked"},
            "CancelReservation": lambda _p, _t: {"status": "Rejected"},
            "ReserveNow": lambda _p, _t: {"status": "Rejected"},
            "DataTransfer": lambda _p, _t: {"status": "UnknownVendorId"},
        }
        if self.version is OcppVersion.V16:
            return {
                **both,
                "GetConfiguration": self._configuration,
                "ChangeConfiguration": self._change_configuration,
            }
        return {
            **both,
            "GetVariables": lambda p, _t: {
                "getVariableResult": [self.device_model.get(i) for i in p["getVariableData"]]
            },
            "SetVariables": lambda p, _t: {
                "setVariableResult": [self.device_model.set(i) for i in p["setVariableData"]]
            },
            "GetBaseReport": self._base_report,
            "GetReport": self._report,
            "GetTransactionStatus": self._transaction_status,
            "GetInstalledCertificateIds": lambda _p, _t: {"status": "NotFound"},
            "CostUpdated": lambda _p, _t: {},
        }

    # --------------------------------------------------------------- messages

    def boot_payload(self, reason: str) -> dict[str, Any]:
        """A BootNotification request of this station (``reason`` for 2.x)."""
        if self.version is OcppVersion.V16:
            return {"chargePointVendor": "ocpp-harness", "chargePointModel": "simulated-station"}
        return {
            "reason": reason,
            "chargingStation": {"vendorName": "ocpp-harness", "model": "simulated-station"},
        }

    def status_payload(self, evse_id: int, at: datetime) -> dict[str, Any]:
        """A StatusNotification of connector 1 of ``evse_id`` as the station is now."""
        busy = evse_id in self.open_transactions()
        if self.version is OcppVersion.V16:
            status = (
                "Unavailable"
                if evse_id in self.unavailable
                else ("Charging" if busy else "Available")
            )
            return {"connectorId": evse_id, "errorCode": "NoError", "status": status}
        status = (
            "Unavailable" if evse_id in self.unavailable else ("Occupied" if busy else "Available")
        )
        return {
            "timestamp": iso(at),
            "connectorStatus": status,
            "evseId": evse_id,
            "connectorId": 1,
        }

    def _evses(self) -> range:
        return range(1, self.declaration.number_of_evses + 1)

    def _meter_payload(self, evse_id: int, at: datetime) -> dict[str, Any]:
        if self.version is OcppVersion.V16:
            return {
                "connectorId": evse_id,
                "meterValue": [{"timestamp": iso(at), "sampledValue": [{"value": "0"}]}],
            }
        return {
            "evseId": evse_id,
            "meterValue": [{"timestamp": iso(at), "sampledValue": [{"value": 0.0}]}],
        }

    # ---------------------------------------------------------------- answers

    def _trigger(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        what = payload.get("requestedMessage")
        evse = payload.get("connectorId") or (payload.get("evse") or {}).get("id")
        evses = [int(evse)] if evse else list(self._evses())
        if any(e not in self._evses() for e in evses):
            return {"status": "Rejected"}
        if what == "BootNotification":
            self.outbox.append(("BootNotification", self.boot_payload("Triggered")))
        elif what == "Heartbeat":
            self.outbox.append(("Heartbeat", {}))
        elif what == "StatusNotification":
            self.outbox.extend(("StatusNotification", self.status_payload(e, at)) for e in evses)
        elif what == "MeterValues":
            self.outbox.extend(("MeterValues", self._meter_payload(e, at)) for e in evses)
        elif what == "TransactionEvent" and self.version is not OcppVersion.V16:
            running = {e: t for e, t in self.open_transactions().items() if e in evses}
            if not running:
                return {"status": "Rejected"}
            self.outbox.extend(
                ("TransactionEvent", self.updated_event(e, tx, at, trigger="Trigger"))
                for e, tx in running.items()
            )
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    def _availability(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        if self.version is OcppVersion.V16:
            target = int(payload["connectorId"])
            available = payload.get("type") == "Operative"
        else:
            target = int((payload.get("evse") or {}).get("id", 0))
            available = payload.get("operationalStatus") == "Operative"
        if target not in (0, *self._evses()):
            return {"status": "Rejected"}
        evses = list(self._evses()) if target == 0 else [target]
        if not available and any(e in self.open_transactions() for e in evses):
            return {"status": "Scheduled"}
        for e in evses:
            (self.unavailable.discard if available else self.unavailable.add)(e)
        if self.version is not OcppVersion.V16:
            self.device_model.set_availability(evse_id=target, available=available)
        self.outbox.extend(("StatusNotification", self.status_payload(e, at)) for e in evses)
        return {"status": "Accepted"}

    def _reset(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        kind = str(payload.get("type", ""))
        if kind == "OnIdle" and self.open_transactions():
            return {"status": "Scheduled"}
        if self.version is OcppVersion.V16:
            reason = "HardReset" if kind == "Hard" else "SoftReset"
        else:
            reason = "ImmediateReset"
        closing = self.closing_messages(at, reason=reason)
        self.outbox.extend(m for m in closing if m[0] != "StatusNotification")  # after boot
        self.outbox.append(("BootNotification", self.boot_payload("RemoteReset")))
        self.outbox.extend(
            ("StatusNotification", self.status_payload(e, at)) for e in self._evses()
        )
        return {"status": "Accepted"}

    def _local_list_version(self, _payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        key = "listVersion" if self.version is OcppVersion.V16 else "versionNumber"
        return {key: self.local_list_version}

    def _send_local_list(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        self.local_list_version = int(payload.get("listVersion", payload.get("versionNumber", 0)))
        return {"status": "Accepted"}

    def _configuration(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        config = self.config_16
        keys = payload.get("key") or list(config)
        known = [k for k in keys if k in config]
        out: dict[str, Any] = {
            "configurationKey": [
                {"key": k, "readonly": k not in _WRITABLE_16, "value": config[k]} for k in known
            ]
        }
        unknown = [k for k in keys if k not in config]
        if unknown:
            out["unknownKey"] = unknown
        return out

    def _change_configuration(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        key, value = str(payload.get("key")), str(payload.get("value"))
        if key not in self.config_16:
            return {"status": "NotSupported"}
        if key not in _WRITABLE_16 or not value.isdigit():
            return {"status": "Rejected"}
        self.config_16[key] = value
        return {"status": "Accepted"}

    def _base_report(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        data = self.device_model.report(base=str(payload.get("reportBase")))
        request_id = int(payload["requestId"])
        self.outbox.extend(
            ("NotifyReport", p) for p in notify_reports(request_id, data, generated_at=at)
        )
        return {"status": "Accepted"}

    def _report(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        data = self.device_model.report(component_variables=payload.get("componentVariable", ()))
        if not data:
            return {"status": "EmptyResultSet"}
        request_id = int(payload["requestId"])
        self.outbox.extend(
            ("NotifyReport", p) for p in notify_reports(request_id, data, generated_at=at)
        )
        return {"status": "Accepted"}

    def _transaction_status(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"messagesInQueue": False}
        if "transactionId" in payload:
            out["ongoingIndicator"] = payload["transactionId"] in self.open_transactions().values()
        return out
