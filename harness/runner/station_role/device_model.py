"""The device model of the 2.0.1 / 2.1 station the harness plays (OCPP 2.0.1 Part 2, B/C).

A CSMS learns what a station has from its device model: components (the station, its EVSEs
and connectors, and controllers) with variables. Some CSMSs need it before they act on an
EVSE ("Evse 1 not found" until a NotifyReport named it), so the harness station keeps one:

* :class:`DeviceModel` — every variable of the station, its EVSEs and connectors and the
  controllers the cases use (SmartChargingCtrlr from the station declaration,
  OCPPCommCtrlr, TxCtrlr, AuthCtrlr, SampledDataCtrlr, LocalAuthListCtrlr, DeviceDataCtrlr);
* :meth:`DeviceModel.get` / :meth:`DeviceModel.set` — one GetVariables / SetVariables entry
  (B06 / B05): UnknownComponent, UnknownVariable, NotSupportedAttributeType, Rejected for a
  read-only variable, Accepted;
* :meth:`DeviceModel.report` — the ``reportData`` of a GetBaseReport / GetReport (B07 / B08),
  and :func:`notify_reports` splits them into NotifyReport requests (``seqNo``, ``tbc``).

Values are text, as on the wire. The model is pure data: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from harness.runner.station_role.judge import StationDeclaration

__all__ = ["DeviceModel", "Variable", "notify_reports"]

ITEMS_PER_MESSAGE = 20
"""reportData entries per NotifyReport (DeviceDataCtrlr.ItemsPerMessage of GetReport)."""


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of one component (its Actual attribute)."""

    component: str
    name: str
    value: str
    data_type: str = "string"
    """boolean, integer, decimal, string, MemberList, SequenceList, OptionList..."""
    mutability: str = "ReadOnly"
    evse_id: int | None = None
    connector_id: int | None = None
    instance: str | None = None
    """The variable's instance (e.g. ``Entries`` of ``ChargingProfiles``)."""

    def key(self) -> tuple[str, int | None, int | None, str, str | None]:
        """How a request names this variable: component, EVSE, connector, variable, instance."""
        return (self.component, self.evse_id, self.connector_id, self.name, self.instance)

    def component_json(self) -> dict[str, Any]:
        """The ``component`` object of a request or report."""
        out: dict[str, Any] = {"name": self.component}
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connectorId"] = self.connector_id
            out["evse"] = evse
        return out

    def variable_json(self) -> dict[str, Any]:
        """The ``variable`` object of a request or report."""
        out: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            out["instance"] = self.instance
        return out

    def report_data(self) -> dict[str, Any]:
        """One ``reportData`` entry of NotifyReport."""
        return {
            "component": self.component_json(),
            "variable": self.variable_json(),
            "variableAttribute": [
                {"type": "Actual", "value": self.value, "mutability": self.mutability}
            ],
            "variableCharacteristics": {"dataType": self.data_type, "supportsMonitoring": False},
        }


def _fits(variable: Variable, value: object) -> bool:
    """``value`` is text of the variable's data type (integer, boolean; others any text)."""
    text = str(value if value is not None else "")
    if variable.data_type == "integer":
        return text.lstrip("-").isdigit()
    if variable.data_type == "boolean":
        return text in {"true", "false"}
    return True


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _station_variables(
    declaration: StationDeclaration, *, vendor: str, model: str
) -> list[Variable]:
    d = declaration
    out = [
        Variable("ChargingStation", "Available", "true", "boolean"),
        Variable("ChargingStation", "AvailabilityState", "Available", "OptionList"),
        Variable("ChargingStation", "SupplyPhases", str(d.supply_phases), "integer"),
        Variable("ChargingStation", "Model", model),
        Variable("ChargingStation", "VendorName", vendor),
    ]
    limit_w = d.max_current_a * 230.0 * d.supply_phases if d.max_current_a else None
    for evse in range(1, d.number_of_evses + 1):
        out += [
            Variable("EVSE", "Available", "true", "boolean", evse_id=evse),
            Variable("EVSE", "AvailabilityState", "Available", "OptionList", evse_id=evse),
            Variable("EVSE", "SupplyPhases", str(d.supply_phases), "integer", evse_id=evse),
            Variable("Connector", "Available", "true", "boolean", evse_id=evse, connector_id=1),
            Variable(
                "Connector",
                "AvailabilityState",
                "Available",
                "OptionList",
                evse_id=evse,
                connector_id=1,
            ),
            Variable(
                "Connector", "ConnectorType", "cType2", "OptionList", evse_id=evse, connector_id=1
            ),
            Variable(
                "Connector",
                "SupplyPhases",
                str(d.supply_phases),
                "integer",
                evse_id=evse,
                connector_id=1,
            ),
        ]
        if limit_w is not None:
            out.append(Variable("EVSE", "Power", f"{limit_w:g}", "decimal", evse_id=evse))
    units = ",".join(sorted(u.value for u in d.units))
    smart = "true" if d.smart_charging else "false"
    rw = "ReadWrite"
    out += [
        Variable("SmartChargingCtrlr", "Enabled", smart, "boolean"),
        Variable("SmartChargingCtrlr", "Available", smart, "boolean"),
        Variable("SmartChargingCtrlr", "RateUnit", units, "MemberList"),
        Variable("SmartChargingCtrlr", "ProfileStackLevel", str(d.max_stack_level), "integer"),
        Variable("SmartChargingCtrlr", "PeriodsPerSchedule", str(d.max_periods), "integer"),
        Variable(
            "SmartChargingCtrlr",
            "Entries",
            str(d.max_profiles),
            "integer",
            instance="ChargingProfiles",
        ),
        Variable("SmartChargingCtrlr", "Entries", str(d.max_profiles), "integer"),
        Variable("SmartChargingCtrlr", "LimitChangeSignificance", "1.0", "decimal", rw),
        Variable("OCPPCommCtrlr", "HeartbeatInterval", "300", "integer", rw),
        Variable("OCPPCommCtrlr", "MessageTimeout", "30", "integer", instance="Default"),
        Variable("OCPPCommCtrlr", "NetworkConfigurationPriority", "1", "SequenceList", rw),
        Variable("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", "integer", rw),
        Variable("OCPPCommCtrlr", "OfflineThreshold", "60", "integer", rw),
        Variable("OCPPCommCtrlr", "ResetRetries", "1", "integer", rw),
        Variable("TxCtrlr", "EVConnectionTimeOut", "60", "integer", rw),
        Variable("TxCtrlr", "StopTxOnEVSideDisconnect", "true", "boolean", rw),
        Variable("TxCtrlr", "StopTxOnInvalidId", "true", "boolean", rw),
        Variable("TxCtrlr", "TxStartPoint", "PowerPathClosed", "MemberList", rw),
        Variable("TxCtrlr", "TxStopPoint", "EVConnected", "MemberList", rw),
        Variable("AuthCtrlr", "Enabled", "true", "boolean", rw),
        Variable("AuthCtrlr", "AuthorizeRemoteStart", "true", "boolean", rw),
        Variable("AuthCtrlr", "LocalAuthorizeOffline", "false", "boolean", rw),
        Variable("AuthCtrlr", "LocalPreAuthorize", "false", "boolean", rw),
        Variable("LocalAuthListCtrlr", "Enabled", "false", "boolean", rw),
        Variable("LocalAuthListCtrlr", "Entries", "0", "integer"),
        Variable("SampledDataCtrlr", "TxUpdatedInterval", "60", "integer", rw),
        Variable(
            "SampledDataCtrlr",
            "TxUpdatedMeasurands",
            "Energy.Active.Import.Register,Current.Import,Power.Active.Import",
            "MemberList",
            rw,
        ),
        Variable(
            "SampledDataCtrlr",
            "TxEndedMeasurands",
            "Energy.Active.Import.Register",
            "MemberList",
            rw,
        ),
        Variable(
            "DeviceDataCtrlr",
            "ItemsPerMessage",
            str(ITEMS_PER_MESSAGE),
            "integer",
            instance="GetReport",
        ),
        Variable("DeviceDataCtrlr", "ItemsPerMessage", "20", "integer", instance="GetVariables"),
        Variable("DeviceDataCtrlr", "ItemsPerMessage", "20", "integer", instance="SetVariables"),
        Variable("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", instance="GetReport"),
    ]
    return out


_CONFIGURATION_COMPONENTS = frozenset(
    {
        "SmartChargingCtrlr",
        "OCPPCommCtrlr",
        "TxCtrlr",
        "AuthCtrlr",
        "LocalAuthListCtrlr",
        "SampledDataCtrlr",
        "DeviceDataCtrlr",
    }
)


class DeviceModel:
    """Components and variables of the station the harness plays (see the module)."""

    def __init__(
        self,
        declaration: StationDeclaration,
        *,
        vendor: str = "ocpp-harness",
        model: str = "simulated-station",
    ) -> None:
        self._variables: dict[tuple[str, int | None, int | None, str, str | None], Variable] = {
            v.key(): v for v in _station_variables(declaration, vendor=vendor, model=model)
        }

    @property
    def variables(self) -> tuple[Variable, ...]:
        """Every variable, in report order."""
        return tuple(self._variables.values())

    def evse_ids(self) -> tuple[int, ...]:
        """The EVSEs the model has."""
        return tuple(
            sorted(
                {
                    v.evse_id
                    for v in self.variables
                    if v.component == "EVSE" and v.evse_id is not None
                }
            )
        )

    def _find(
        self, component: Mapping[str, Any], variable: Mapping[str, Any]
    ) -> tuple[Variable | None, str]:
        name = str(component.get("name", ""))
        evse = component.get("evse") or {}
        evse_id = evse.get("id")
        connector_id = evse.get("connectorId")
        same_component = [
            v
            for v in self.variables
            if v.component == name
            and (evse_id is None or v.evse_id == evse_id)
            and (connector_id is None or v.connector_id == connector_id)
        ]
        if not same_component:
            return None, "UnknownComponent"
        wanted = str(variable.get("name", ""))
        instance = variable.get("instance")
        for v in same_component:
            if v.name == wanted and v.instance == instance:
                if evse_id is None and v.evse_id is not None:
                    continue  # an EVSE's variable must be asked for with its EVSE
                return v, "Accepted"
        return None, "UnknownVariable"

    def get(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One ``getVariableResult`` for one ``getVariableData`` entry (B06)."""
        component, variable = item.get("component", {}), item.get("variable", {})
        found, status = self._find(component, variable)
        result: dict[str, Any] = {"component": component, "variable": variable}
        attribute = item.get("attributeType", "Actual")
        if attribute != "Actual":
            result["attributeType"] = attribute
        if found is None:
            result["attributeStatus"] = status
        elif attribute != "Actual":
            result["attributeStatus"] = "NotSupportedAttributeType"
        else:
            result["attributeStatus"] = "Accepted"
            result["attributeValue"] = found.value
        return result

    def set(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One ``setVariableResult`` for one ``setVariableData`` entry (B05): a ReadWrite
        variable takes the value (kept for later Gets and reports), others are Rejected."""
        component, variable = item.get("component", {}), item.get("variable", {})
        found, status = self._find(component, variable)
        result: dict[str, Any] = {"component": component, "variable": variable}
        attribute = item.get("attributeType", "Actual")
        if attribute != "Actual":
            result["attributeType"] = attribute
        if found is None:
            result["attributeStatus"] = status
        elif attribute != "Actual":
            result["attributeStatus"] = "NotSupportedAttributeType"
        elif found.mutability == "ReadOnly" or not _fits(found, item.get("attributeValue")):
            result["attributeStatus"] = "Rejected"
        else:
            self._variables[found.key()] = replace(found, value=str(item["attributeValue"]))
            result["attributeStatus"] = "Accepted"
        return result

    def set_availability(self, *, evse_id: int | None, available: bool) -> None:
        """ChangeAvailability accepted: the Available/AvailabilityState variables follow."""
        state = "Available" if available else "Unavailable"
        for v in self.variables:
            if evse_id not in (None, 0) and v.evse_id != evse_id:
                continue
            if v.name == "Available":
                self._variables[v.key()] = replace(v, value=_bool(available))
            elif v.name == "AvailabilityState":
                self._variables[v.key()] = replace(v, value=state)

    def report(
        self,
        *,
        base: str | None = None,
        component_variables: Sequence[Mapping[str, Any]] = (),
    ) -> list[dict[str, Any]]:
        """The ``reportData`` of GetBaseReport (``base``: ConfigurationInventory,
        FullInventory, SummaryInventory) or GetReport (``component_variables``; none: all)."""
        chosen: list[Variable]
        if base == "ConfigurationInventory":
            chosen = [
                v
                for v in self.variables
                if v.component in _CONFIGURATION_COMPONENTS or v.mutability != "ReadOnly"
            ]
        elif base == "SummaryInventory":
            chosen = [v for v in self.variables if v.name in {"Available", "AvailabilityState"}]
        elif component_variables:
            chosen = []
            for want in component_variables:
                component = want.get("component", {})
                variable = want.get("variable")
                for v in self.variables:
                    if v in chosen or v.component != component.get("name"):
                        continue
                    evse = component.get("evse") or {}
                    if "id" in evse and v.evse_id != evse["id"]:
                        continue
                    if "connectorId" in evse and v.connector_id != evse["connectorId"]:
                        continue
                    if variable is not None and (
                        v.name != variable.get("name")
                        or ("instance" in variable and v.instance != variable["instance"])
                    ):
                        continue
                    chosen.append(v)
        else:
            chosen = list(self.variables)
        return [v.report_data() for v in chosen]


def notify_reports(
    request_id: int, data: Sequence[dict[str, Any]], *, generated_at: datetime
) -> list[dict[str, Any]]:
    """NotifyReport payloads carrying ``data`` (at most :data:`ITEMS_PER_MESSAGE` each);
    ``tbc`` is true on all but the last."""
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    chunks = [list(data[i : i + ITEMS_PER_MESSAGE]) for i in range(0, len(data), ITEMS_PER_MESSAGE)]
    chunks = chunks or [[]]
    out = []
    for seq, chunk in enumerate(chunks):
        payload: dict[str, Any] = {
            "requestId": request_id,
            "generatedAt": stamp,
            "seqNo": seq,
            "tbc": seq < len(chunks) - 1,
        }
        if chunk:
            payload["reportData"] = chunk
        out.append(payload)
    return out
