"""From what a station advertises to a capability declaration for the engineer to confirm.

Pure functions: the 1.6 configuration keys (GetConfiguration) or the 2.0.1/2.1 device-model
variables (GetVariables) in, :class:`Discovered` out, and :func:`declaration_yaml` writes it
as a commented capabilities file. Every field is marked with where it came from:

* **advertised** -- read from a configuration key or variable, named in the comment;
* **implied** -- what the advertised feature profile requires of the station (1.6
  SmartCharging: the three purposes and the three profile kinds), or what the version cannot
  do (1.6 has no message for external limits, V2X or DER control);
* **to confirm** -- the station does not advertise it: the file carries it as a commented-out
  line, and the engineer fills it in (or leaves it out: not declared is not claimed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.scenario.capabilities import Measurand

__all__ = [
    "CONFIGURATION_KEYS_16",
    "VARIABLES_2X",
    "Discovered",
    "Origin",
    "declaration_yaml",
    "differences",
    "from_configuration_16",
    "from_variables_2x",
]


class Origin(StrEnum):
    """Where a discovered field's value came from."""

    ADVERTISED = "advertised"
    IMPLIED = "implied"
    TO_CONFIRM = "to confirm"


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the declaration: its value (``None``: unknown), origin and note."""

    name: str
    value: Any
    origin: Origin
    note: str


@dataclass(frozen=True, slots=True)
class Discovered:
    """What discovery found about one station."""

    station_id: str
    ocpp_version: str
    identity: Mapping[str, str]
    """``vendor``, ``model``, ``firmware``, ``serial`` from its BootNotification."""
    fields: tuple[Field, ...]
    raw: Mapping[str, str] = field(default_factory=dict)
    """Every key/variable read, as the station answered it."""

    def value(self, name: str) -> Any:
        """The value of field ``name`` (``None`` when unknown or absent)."""
        return next((f.value for f in self.fields if f.name == name), None)

    def declared(self) -> dict[str, Any]:
        """The fields that go into the declaration uncommented (advertised and implied)."""
        out: dict[str, Any] = {
            "ocpp_versions": [self.ocpp_version],
            "role": "station",
        }
        out.update({f.name: f.value for f in self.fields if f.origin is not Origin.TO_CONFIRM})
        return out


CONFIGURATION_KEYS_16 = (
    "SupportedFeatureProfiles",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
    "ChargingScheduleAllowedChargingRateUnit",
    "NumberOfConnectors",
    "ConnectorSwitch3to1PhaseSupported",
    "MeterValuesSampledData",
    "ConnectorPhaseRotation",
)
"""The OCPP 1.6 configuration keys discovery reads (all keys are asked for; these map)."""

VARIABLES_2X = (
    ("SmartChargingCtrlr", "Enabled"),
    ("SmartChargingCtrlr", "Available"),
    ("SmartChargingCtrlr", "ProfileStackLevel"),
    ("SmartChargingCtrlr", "PeriodsPerSchedule"),
    ("SmartChargingCtrlr", "RateUnit"),
    ("SmartChargingCtrlr", "Phases3to1"),
    ("SmartChargingCtrlr", "ExternalControlSignalsEnabled"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("ISO15118Ctrlr", "Enabled"),
    ("V2XChargingCtrlr", "Enabled"),
    ("DERCtrlr", "Enabled"),
)
"""The OCPP 2.0.1/2.1 variables (component, variable) discovery asks for with GetVariables."""

_UNITS = {"current": "A", "power": "W", "a": "A", "w": "W"}
_CONFIRM_ALWAYS = (
    ("max_current_a", "the largest current per phase the station offers (A)"),
    ("supply_phases", "phases the station is wired for (1 or 3)"),
)


def _int(text: str | None) -> int | None:
    try:
        return int(str(text).strip()) if text is not None else None
    except ValueError:
        return None


def _bool(text: str | None) -> bool | None:
    return {"true": True, "false": False}.get(str(text).strip().lower()) if text else None


def _list(text: str | None) -> list[str]:
    return [p.strip() for p in str(text or "").split(",") if p.strip()]


def _units(text: str | None) -> list[str]:
    return sorted({_UNITS[p.lower()] for p in _list(text) if p.lower() in _UNITS})


def _measurands(text: str | None) -> list[str]:
    known = {m.value for m in Measurand}
    return [m for m in _list(text) if m in known]


def _implied_smart_charging(source: str) -> list[Field]:
    return [
        Field("purposes", ["station_max", "tx_default", "tx"], Origin.IMPLIED,
              f"{source}: station max, tx default and tx profiles"),
        Field("profile_kinds", ["absolute", "recurring", "relative"], Origin.IMPLIED,
              f"{source}: the three chargingProfileKind values"),
    ]  # fmt: skip


def _confirm(name: str, note: str) -> Field:
    return Field(name, None, Origin.TO_CONFIRM, note)


def from_configuration_16(
    station_id: str, keys: Mapping[str, str], identity: Mapping[str, str]
) -> Discovered:
    """A 1.6 station's declaration from its GetConfiguration answer (key → value)."""
    out: list[Field] = []
    profiles = _list(keys.get("SupportedFeatureProfiles"))
    smart = "SmartCharging" in profiles
    out.append(
        Field(
            "smart_charging",
            smart,
            Origin.ADVERTISED,
            "SupportedFeatureProfiles: " + ",".join(profiles),
        )
    )
    if smart:
        out.extend(_implied_smart_charging("the SmartCharging profile (OCPP 1.6 §3.13)"))
    for name, key in (
        ("max_stack_level", "ChargeProfileMaxStackLevel"),
        ("max_periods", "ChargingScheduleMaxPeriods"),
        ("max_profiles", "MaxChargingProfilesInstalled"),
        ("number_of_evses", "NumberOfConnectors"),
    ):
        value = _int(keys.get(key))
        out.append(
            Field(name, value, Origin.ADVERTISED, key)
            if value is not None and (name != "max_periods" or value >= 1)
            else _confirm(name, f"{key} not advertised")
        )
    units = _units(keys.get("ChargingScheduleAllowedChargingRateUnit"))
    out.append(
        Field("units", units, Origin.ADVERTISED, "ChargingScheduleAllowedChargingRateUnit")
        if units
        else _confirm("units", "ChargingScheduleAllowedChargingRateUnit not advertised")
    )
    switch = _bool(keys.get("ConnectorSwitch3to1PhaseSupported"))
    out.append(
        Field("phase_switching", switch, Origin.ADVERTISED, "ConnectorSwitch3to1PhaseSupported")
        if switch is not None
        else _confirm("phase_switching", "ConnectorSwitch3to1PhaseSupported not advertised")
    )
    for name in ("external_constraints", "v2x", "der_control", "iso15118"):
        out.append(Field(name, False, Origin.IMPLIED, "OCPP 1.6 has no message for it"))
    out.extend(_confirm(name, note) for name, note in _CONFIRM_ALWAYS)
    sampled = _measurands(keys.get("MeterValuesSampledData"))
    out.append(
        _confirm(
            "measurands",
            "MeterValuesSampledData (configured now, not all it can measure): "
            + (", ".join(sampled) or "none"),
        )
    )
    return Discovered(station_id, "1.6", dict(identity), tuple(out), dict(keys))


def from_variables_2x(
    station_id: str,
    version: str,
    variables: Mapping[tuple[str, str], str],
    identity: Mapping[str, str],
) -> Discovered:
    """A 2.0.1/2.1 station's declaration from its GetVariables answers (the variables it
    rejected or does not know are absent from ``variables``)."""

    def var(component: str, name: str) -> str | None:
        return variables.get((component, name))

    out: list[Field] = []
    available = _bool(var("SmartChargingCtrlr", "Available"))
    enabled = _bool(var("SmartChargingCtrlr", "Enabled"))
    smart = bool(available) or bool(enabled)
    out.append(Field("smart_charging", smart, Origin.ADVERTISED,
                     "SmartChargingCtrlr.Available / Enabled"))  # fmt: skip
    if smart:
        out.extend(_implied_smart_charging("smart charging (OCPP 2.x K01)"))
    for name, variable in (("max_stack_level", "ProfileStackLevel"),
                           ("max_periods", "PeriodsPerSchedule")):  # fmt: skip
        value = _int(var("SmartChargingCtrlr", variable))
        out.append(
            Field(name, value, Origin.ADVERTISED, f"SmartChargingCtrlr.{variable}")
            if value is not None
            else _confirm(name, f"SmartChargingCtrlr.{variable} not advertised")
        )
    units = _units(var("SmartChargingCtrlr", "RateUnit"))
    out.append(
        Field("units", units, Origin.ADVERTISED, "SmartChargingCtrlr.RateUnit")
        if units
        else _confirm("units", "SmartChargingCtrlr.RateUnit not advertised")
    )
    switch = _bool(var("SmartChargingCtrlr", "Phases3to1"))
    out.append(
        Field("phase_switching", switch, Origin.ADVERTISED, "SmartChargingCtrlr.Phases3to1")
        if switch is not None
        else _confirm("phase_switching", "SmartChargingCtrlr.Phases3to1 not advertised")
    )
    for name, component in (("iso15118", "ISO15118Ctrlr"), ("v2x", "V2XChargingCtrlr"),
                            ("der_control", "DERCtrlr")):  # fmt: skip
        flag = _bool(var(component, "Enabled"))
        out.append(
            Field(name, flag, Origin.ADVERTISED, f"{component}.Enabled")
            if flag is not None
            else _confirm(name, f"{component} not in the device model answer")
        )
    if version != "2.0.1":
        out.append(_confirm("v2x_modes", "the V2X operation modes it supports (OCPP 2.1)"))
    out.append(_confirm("max_profiles", "no variable states the most profiles installed"))
    out.append(_confirm("number_of_evses", "EVSE components not read"))
    out.append(
        _confirm("external_constraints", "reports external limits with NotifyChargingLimit?")
    )
    out.extend(_confirm(name, note) for name, note in _CONFIRM_ALWAYS)
    sampled = _measurands(var("SampledDataCtrlr", "TxUpdatedMeasurands"))
    out.append(
        _confirm(
            "measurands",
            "SampledDataCtrlr.TxUpdatedMeasurands (configured now, not all it can measure): "
            + (", ".join(sampled) or "none"),
        )
    )
    raw = {f"{c}.{v}": text for (c, v), text in variables.items()}
    return Discovered(station_id, version, dict(identity), tuple(out), raw)


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def declaration_yaml(found: Discovered) -> str:
    """The capabilities file: advertised and implied fields set, each with its source as a
    comment; fields to confirm commented out, with what is known. Loads with
    :func:`~harness.scenario.load_capabilities` as it is."""
    who = " ".join(p for p in (found.identity.get("vendor"), found.identity.get("model")) if p)
    name = who or found.station_id
    if found.identity.get("firmware"):
        name += f" (firmware {found.identity['firmware']})"
    lines = [
        f"# Written by `ocpp-harness discover` from what station {found.station_id} advertised",
        f"# over OCPP {found.ocpp_version}. CONFIRM every line before a run: 'advertised' is the",
        "# station's own answer, 'implied' follows from the version or the feature profile, and",
        "# the commented-out lines are not advertised -- fill them in (or leave them out: a",
        "# capability not declared is not claimed, and the cases that need it are",
        "# NOT_APPLICABLE). `ocpp-harness scenario select SUITE --capabilities THIS_FILE`",
        "# shows which cases will run.",
        f"name: {_yaml_value(name)}",
        f'ocpp_versions: ["{found.ocpp_version}"]',
        "role: station",
    ]
    width = 34
    for item in found.fields:
        if item.origin is Origin.TO_CONFIRM:
            lines.append(f"# {item.name}: ?".ljust(width) + f"  # to confirm: {item.note}")
        else:
            text = f"{item.name}: {_yaml_value(item.value)}"
            lines.append(text.ljust(width) + f"  # {item.origin.value}: {item.note}")
    return "\n".join(lines) + "\n"


def differences(found: Discovered, declared: Mapping[str, Any]) -> list[str]:
    """Where a declaration (``Capabilities.model_dump(mode="json")``) disagrees with what the
    station advertised: one line per field, naming the key or variable read. Implied and
    to-confirm fields are not compared (the station said nothing about them)."""
    out = []
    for item in found.fields:
        if item.origin is not Origin.ADVERTISED or item.name not in declared:
            continue
        mine, theirs = declared[item.name], item.value
        if isinstance(mine, list) and isinstance(theirs, list):
            same = sorted(map(str, mine)) == sorted(map(str, theirs))
        else:
            same = mine == theirs
        if not same:
            out.append(
                f"the declaration says {item.name}: {_yaml_value(mine)}; the station advertises "
                f"{_yaml_value(theirs)} ({item.note})"
            )
    return out
