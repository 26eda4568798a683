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

from harness.runner.station_role.judge import (
    ProfileJudgement,
    StationDeclaration,
    judge_profile,
)
from harness.smartcharging import (
    ClearCriteria,
    OcppVersion,
    ProfileStore,
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
    rejected_response,
)

__all__ = ["StationState"]

_UNIT_TEXT_16 = {RateUnit.A: "Current", RateUnit.W: "Power"}


class StationState:
    """Transactions and installed profiles of the simulated station of one case."""

    def __init__(self, version: OcppVersion, declaration: StationDeclaration) -> None:
        self.version = version
        self.declaration = declaration
        self.store = ProfileStore(version)
        self._transactions: dict[int, Transaction] = {}

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
            if info.get("status") == "Accepted" and "transactionId" in response:
                self._transactions[int(request["connectorId"])] = Transaction(
                    str(response["transactionId"]), at
                )
        elif action == "StopTransaction":
            self._end(str(request.get("transactionId")))
        elif action == "TransactionEvent":
            info = request.get("transactionInfo", {})
            tx_id = str(info.get("transactionId"))
            if request.get("eventType") == "Started" and "evse" in request:
                self._transactions[int(request["evse"]["id"])] = Transaction(tx_id, at)
            elif request.get("eventType") == "Ended":
                self._end(tx_id)

    def _end(self, transaction_id: str) -> None:
        for evse_id, tx in list(self._transactions.items()):
            if tx.transaction_id == transaction_id:
                del self._transactions[evse_id]
        self.store.end_transaction(transaction_id)

    # ---------------------------------------------------------------- answers

    def answerable(self) -> tuple[str, ...]:
        """The CSMS requests this station answers (others get CALLERROR NotImplemented)."""
        return tuple(self._answers())

    def _answers(self) -> dict[str, Callable[[Mapping[str, Any], datetime], dict[str, Any]]]:
        common: dict[str, Callable[[Mapping[str, Any], datetime], dict[str, Any]]] = {
            "SetChargingProfile": self._set_profile,
            "ClearChargingProfile": self._clear,
            "GetCompositeSchedule": self._composite,
            "TriggerMessage": lambda _p, _t: {"status": "Rejected"},
        }
        if self.version is OcppVersion.V16:
            return {
                **common,
                "RemoteStartTransaction": self._remote_start,
                "RemoteStopTransaction": lambda _p, _t: {"status": "Accepted"},
                "GetConfiguration": self._configuration,
                "ChangeConfiguration": lambda _p, _t: {"status": "Rejected"},
            }
        return {
            **common,
            "RequestStartTransaction": self._remote_start,
            "RequestStopTransaction": lambda _p, _t: {"status": "Accepted"},
            "GetVariables": self._variables,
            "SetVariables": self._set_variables,
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
        if self.version is OcppVersion.V16:
            purpose_text = payload.get("chargingProfilePurpose")
            purpose = (
                Purpose.STATION_MAX
                if purpose_text == "ChargePointMaxProfile"
                else Purpose(purpose_text)
                if purpose_text
                else None
            )
            criteria = ClearCriteria(
                profile_id=payload.get("id"),
                evse_id=payload.get("connectorId"),
                purpose=purpose,
                stack_level=payload.get("stackLevel"),
            )
        else:
            given = payload.get("chargingProfileCriteria", {})
            purpose_text = given.get("chargingProfilePurpose")
            criteria = ClearCriteria(
                profile_id=payload.get("chargingProfileId"),
                evse_id=given.get("evseId"),
                purpose=Purpose(purpose_text) if purpose_text else None,
                stack_level=given.get("stackLevel"),
            )
        cleared = self.store.clear(criteria)
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
        }

    def _configuration(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        config = self._config()
        keys = payload.get("key") or list(config)
        known = [k for k in keys if k in config]
        out: dict[str, Any] = {
            "configurationKey": [{"key": k, "readonly": True, "value": config[k]} for k in known]
        }
        unknown = [k for k in keys if k not in config]
        if unknown:
            out["unknownKey"] = unknown
        return out

    def _variable_values(self) -> dict[str, str]:
        d = self.declaration
        return {
            "RateUnit": ",".join(sorted(u.value for u in d.units)),
            "ProfileStackLevel": str(d.max_stack_level),
            "PeriodsPerSchedule": str(d.max_periods),
            "Entries": str(d.max_profiles),
            "Enabled": "true",
        }

    def _variables(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        values = self._variable_values()
        results = []
        for item in payload.get("getVariableData", []):
            component = item.get("component", {}).get("name")
            variable = item.get("variable", {}).get("name")
            result: dict[str, Any] = {"component": item["component"], "variable": item["variable"]}
            if component != "SmartChargingCtrlr":
                result["attributeStatus"] = "UnknownComponent"
            elif variable not in values:
                result["attributeStatus"] = "UnknownVariable"
            else:
                result["attributeStatus"] = "Accepted"
                result["attributeValue"] = values[variable]
            results.append(result)
        return {"getVariableResult": results}

    def _set_variables(self, payload: Mapping[str, Any], _at: datetime) -> dict[str, Any]:
        return {
            "setVariableResult": [
                {
                    "attributeStatus": "Rejected",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in payload.get("setVariableData", [])
            ]
        }


STATION_PARAMETERS = (
    "station_max_a",
    "station_units",
    "station_phases",
    "station_evses",
    "station_max_stack_level",
    "station_max_periods",
)
"""Case parameters that describe the station the harness plays (a case declares the ones it
relies on; a lab file sets them for every case): the maximum current per phase in A
(0: none), the units it accepts (``A``, ``W`` or ``A,W``), its phases, EVSEs, highest stack
level and periods per schedule."""


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
    return StationDeclaration(
        max_current_a=max_a if max_a > 0 else None,
        units=units,
        supply_phases=int(parameters.get("station_phases", base.supply_phases)),
        number_of_evses=int(parameters.get("station_evses", base.number_of_evses)),
        max_stack_level=int(parameters.get("station_max_stack_level", base.max_stack_level)),
        max_periods=int(parameters.get("station_max_periods", base.max_periods)),
    )
