"""The state of the station the harness plays, and its default answers to the CSMS.

:class:`StationState` follows the transactions the case's own requests start and stop (1.6
StartTransaction/StopTransaction, 2.x TransactionEvent Started/Ended) and keeps the profiles
the station accepted in an oracle :class:`~harness.smartcharging.ProfileStore`, so that its
answers stay consistent: a profile a conforming station must reject is Rejected, a
GetCompositeSchedule is answered with the oracle's composite of what was accepted,
ClearChargingProfile clears (or answers Unknown), GetConfiguration / GetVariables report the
declared smart-charging configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from harness.runner.station_role.answers import Outgoing, StationAnswers, iso
from harness.runner.station_role.device_model import DeviceModel
from harness.runner.station_role.judge import (
    ProfileJudgement,
    StationDeclaration,
    judge_profile,
)
from harness.smartcharging import (
    ProfileStore,
    RateUnit,
    StationContext,
    Transaction,
    parse_clear_charging_profile,
    rejected_response,
)
from harness.versions import OcppVersion

__all__ = ["StationState"]

_UNIT_TEXT_16 = {RateUnit.A: "Current", RateUnit.W: "Power"}


class StationState(StationAnswers):
    """Transactions, installed profiles and device model of the simulated station of one case.

    ``outbox`` holds the requests the station owes the CSMS after an answer (NotifyReport
    after GetBaseReport, the message a TriggerMessage asked for...); the endpoint sends them
    in order (:meth:`take_outbox`).
    """

    def __init__(self, version: OcppVersion, declaration: StationDeclaration) -> None:
        self.version = version
        self.declaration = declaration
        self.store = ProfileStore(version)
        self.device_model = DeviceModel(declaration)
        self.outbox: list[Outgoing] = []
        self.unavailable: set[int] = set()
        self.local_list_version = 0
        self.config_16 = self._config()
        self._transactions: dict[int, Transaction] = {}
        self._open: dict[int, str] = {}
        """Transactions the CSMS knows, by EVSE: also a 1.6 one it did not accept (it has
        an id and must be stopped), for :meth:`closing_messages`."""
        self._seq: dict[str, int] = {}
        """The last seqNo sent per 2.x transaction."""

    # ------------------------------------------------------------------ state

    def context(self) -> StationContext:
        """The oracle's view of the station now."""
        context = self.declaration.context()
        for evse_id, tx in self._transactions.items():
            context = context.with_transaction(evse_id, tx)
        return context

    def judge(self, action: str, payload: Mapping[str, Any]) -> ProfileJudgement:
        """Judge the profile in a CSMS request against the current state."""
        return judge_profile(
            action,
            payload,
            version=self.version,
            declaration=self.declaration,
            context=self.context(),
            installed=self.store.installed,
        )

    def request_answered(
        self, action: str, request: Mapping[str, Any], response: Mapping[str, Any], *, at: datetime
    ) -> None:
        """Update the state after the station sent ``action`` and the CSMS answered."""
        if action == "StartTransaction":
            info = response.get("idTagInfo", {})
            if "transactionId" in response:
                tx_id = str(response["transactionId"])
                self._open[int(request["connectorId"])] = tx_id
                if info.get("status") == "Accepted":
                    self._transactions[int(request["connectorId"])] = Transaction(tx_id, at)
        elif action == "StopTransaction":
            self._end(str(request.get("transactionId")))
        elif action == "TransactionEvent":
            info = request.get("transactionInfo", {})
            tx_id = str(info.get("transactionId"))
            self._seq[tx_id] = max(int(request.get("seqNo", 0)), self._seq.get(tx_id, -1))
            if request.get("eventType") == "Started" and "evse" in request:
                self._transactions[int(request["evse"]["id"])] = Transaction(tx_id, at)
                self._open[int(request["evse"]["id"])] = tx_id
            elif request.get("eventType") == "Ended":
                self._end(tx_id)

    def _end(self, transaction_id: str) -> None:
        for evse_id, tx in list(self._transactions.items()):
            if tx.transaction_id == transaction_id:
                del self._transactions[evse_id]
        for evse_id, open_id in list(self._open.items()):
            if open_id == transaction_id:
                del self._open[evse_id]
        self.store.end_transaction(transaction_id)

    def open_transactions(self) -> dict[int, str]:
        """Transactions the station started and has not ended, by EVSE / connector."""
        return dict(self._open)

    def take_outbox(self) -> list[Outgoing]:
        """The requests the station owes the CSMS now (emptied)."""
        out, self.outbox = self.outbox, []
        return out

    def updated_event(self, evse_id: int, tx: str, at: datetime, *, trigger: str) -> dict[str, Any]:
        """A 2.x TransactionEvent Updated of ``tx`` with the next seqNo."""
        seq = self._seq.get(tx, -1) + 1
        self._seq[tx] = seq
        return {
            "eventType": "Updated",
            "timestamp": iso(at),
            "triggerReason": trigger,
            "seqNo": seq,
            "transactionInfo": {"transactionId": tx},
            "evse": {"id": evse_id, "connectorId": 1},
        }

    def closing_messages(
        self, at: datetime, *, reason: str, only: str | None = None
    ) -> list[Outgoing]:
        """What ends every open transaction and leaves its connector Available: 1.6
        StopTransaction + StatusNotification; 2.x TransactionEvent Ended + StatusNotification.
        ``reason`` is the 1.6 stop reason or the 2.x stoppedReason (Local, SoftReset...);
        ``only``: just that transaction."""
        out: list[Outgoing] = []
        for evse_id, tx in sorted(self._open.items()):
            if only is not None and tx != only:
                continue
            if self.version is OcppVersion.V16:
                tx_number = int(tx) if tx.lstrip("-").isdigit() else 0
                out.append(
                    (
                        "StopTransaction",
                        {
                            "transactionId": tx_number,
                            "meterStop": 0,
                            "timestamp": iso(at),
                            "reason": reason,
                        },
                    )
                )
                status: dict[str, Any] = {
                    "connectorId": evse_id,
                    "errorCode": "NoError",
                    "status": "Available",
                }
            else:
                seq = self._seq.get(tx, -1) + 1
                self._seq[tx] = seq
                out.append(
                    (
                        "TransactionEvent",
                        {
                            "eventType": "Ended",
                            "timestamp": iso(at),
                            "triggerReason": "ResetCommand"
                            if reason.endswith("Reset")
                            else "StopAuthorized",
                            "seqNo": seq,
                            "transactionInfo": {"transactionId": tx, "stoppedReason": reason},
                            "evse": {"id": evse_id, "connectorId": 1},
                        },
                    )
                )
                status = {
                    "timestamp": iso(at),
                    "connectorStatus": "Available",
                    "evseId": evse_id,
                    "connectorId": 1,
                }
            if evse_id not in self.unavailable:
                out.append(("StatusNotification", status))
        return out

    # ---------------------------------------------------------------- answers

    def answerable(self) -> tuple[str, ...]:
        """The CSMS requests this station answers (others get CALLERROR NotImplemented, or
        NotSupported when :meth:`unsupported`)."""
        unsupported = self.unsupported()
        return tuple(a for a in self._answers() if a not in unsupported)

    def unsupported(self) -> frozenset[str]:
        """Requests this station recognises but does not support (CALLERROR NotSupported):
        the smart-charging ones when it declares no smart charging."""
        return frozenset() if self.declaration.smart_charging else SMART_CHARGING_REQUESTS

    def _answers(self) -> dict[str, Callable[[Mapping[str, Any], datetime], dict[str, Any]]]:
        common: dict[str, Callable[[Mapping[str, Any], datetime], dict[str, Any]]] = {
            **self.common_answers(),
            "SetChargingProfile": self._set_profile,
            "ClearChargingProfile": self._clear,
            "GetCompositeSchedule": self._composite,
        }
        if self.version is OcppVersion.V16:
            return {
                **common,
                "RemoteStartTransaction": self._remote_start,
                "RemoteStopTransaction": self._remote_stop,
            }
        return {
            **common,
            "RequestStartTransaction": self._remote_start,
            "RequestStopTransaction": self._remote_stop,
        }

    def default_answer(
        self, action: str, payload: Mapping[str, Any], *, at: datetime
    ) -> dict[str, Any]:
        """What this station answers to ``action`` when the case does not say."""
        return self._answers()[action](payload, at)

    def install_if_accepted(
        self, action: str, payload: Mapping[str, Any], response: Mapping[str, Any]
    ) -> None:
        """After answering a profile request: keep the profile if the answer accepted it."""
        if response.get("status") != "Accepted":
            return
        judgement = self.judge(action, payload)
        if judgement.profile is not None and not judgement.conforming_station_rejects:
            self.store.install(judgement.evse_id, judgement.profile, self.context())

    def _set_profile(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        judgement = self.judge("SetChargingProfile", payload)
        if judgement.conforming_station_rejects or judgement.profile is None:
            return rejected_response(self.version, judgement.reason_code or "InvalidValue")
        return {"status": "Accepted"}

    def _remote_start(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        if "chargingProfile" in payload:
            judgement = self.judge(
                "RemoteStartTransaction"
                if self.version is OcppVersion.V16
                else "RequestStartTransaction",
                payload,
            )
            if judgement.conforming_station_rejects:
                return rejected_response(self.version, judgement.reason_code or "InvalidValue")
        return {"status": "Accepted"}

    def _clear(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        cleared = self.store.clear(parse_clear_charging_profile(payload, version=self.version))
        return {"status": "Accepted" if cleared else "Unknown"}

    def _composite(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        evse_id = int(payload.get("connectorId", payload.get("evseId", 0)))
        unit_text = payload.get("chargingRateUnit")
        unit = RateUnit(unit_text) if unit_text else min(self.declaration.units)
        top = self.declaration.maximum(unit, number_phases=None)
        return self.store.composite_response(
            evse_id=evse_id,
            start=at.replace(microsecond=0),
            duration_s=int(payload["duration"]),
            unit=unit,
            context=self.context(),
            default_limit=top,
        )

    def _config(self) -> dict[str, str]:
        d = self.declaration
        units = ",".join(_UNIT_TEXT_16[u] for u in sorted(d.units))
        return {
            "ChargeProfileMaxStackLevel": str(d.max_stack_level),
            "ChargingScheduleAllowedChargingRateUnit": units,
            "ChargingScheduleMaxPeriods": str(d.max_periods),
            "MaxChargingProfilesInstalled": str(d.max_profiles),
            "NumberOfConnectors": str(d.number_of_evses),
            "HeartbeatInterval": "300",
            "MeterValueSampleInterval": "60",
            "ConnectionTimeOut": "60",
            "AuthorizeRemoteTxRequests": "true",
            "LocalAuthListEnabled": "false",
            "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger,LocalAuthListManagement",
        }

    def _remote_stop(self, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        """Accepted when the transaction runs here; it then ends (and the connector is
        Available again)."""
        wanted = str(payload.get("transactionId"))
        if wanted not in self._open.values():
            return {"status": "Rejected"}
        self.outbox.extend(self.closing_messages(at, reason="Remote", only=wanted))
        return {"status": "Accepted"}


SMART_CHARGING_REQUESTS = frozenset(
    {"SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "GetChargingProfiles"}
)
"""What a station without smart charging answers with CALLERROR NotSupported."""


STATION_PARAMETERS = (
    "station_max_a",
    "station_units",
    "station_phases",
    "station_evses",
    "station_max_stack_level",
    "station_max_periods",
    "station_smart_charging",
)
"""Case parameters that describe the station the harness plays (a case declares the ones it
relies on; a lab file sets them for every case): the maximum current per phase in A
(0: none), the units it accepts (``A``, ``W`` or ``A,W``), its phases, EVSEs, highest stack
level and periods per schedule, and whether it supports smart charging at all (default
true)."""


def declaration_from_parameters(parameters: Mapping[str, Any]) -> StationDeclaration:
    """The station declaration from a case's resolved parameters (defaults for the others).

    Raises :class:`ValueError` naming the parameter for a value that makes no sense.
    """
    base = StationDeclaration()
    units_text = str(parameters.get("station_units", ",".join(sorted(base.units))))
    try:
        units = frozenset(RateUnit(u.strip()) for u in units_text.split(",") if u.strip())
    except ValueError:
        raise ValueError(f"station_units: expected A, W or A,W, got {units_text!r}") from None
    if not units:
        raise ValueError("station_units: expected A, W or A,W, got nothing")
    max_a = float(parameters.get("station_max_a", base.max_current_a or 0))
    smart = parameters.get("station_smart_charging", True)
    if not isinstance(smart, bool):
        raise ValueError(f"station_smart_charging: expected true or false, got {smart!r}")
    return StationDeclaration(
        max_current_a=max_a if max_a > 0 else None,
        units=units,
        supply_phases=int(parameters.get("station_phases", base.supply_phases)),
        number_of_evses=int(parameters.get("station_evses", base.number_of_evses)),
        max_stack_level=int(parameters.get("station_max_stack_level", base.max_stack_level)),
        max_periods=int(parameters.get("station_max_periods", base.max_periods)),
        smart_charging=smart,
    )
