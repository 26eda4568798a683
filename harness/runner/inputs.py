"""Inputs of a run: where the case library is, fleet files, built-in declarations.

The case library (``scenarios/``) is located relative to the checkout: the folder next to the
``harness`` package (``pip install -e .`` — the supported installation — keeps it there).
A non-editable wheel does not ship it; ``OCPP_HARNESS_SCENARIOS`` (a path) overrides the
location, and a clear error says so when neither is found.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.runner.targets import FleetVehicle
from harness.scenario import Capabilities, Case, load_capabilities
from harness.scenario.fleet import load_fleet as load_fleet_file
from harness.scenario.fleet import vehicle_facts
from simulators.vehicle import CatalogueError, load_catalogue

__all__ = [
    "DEFAULT_VEHICLE",
    "VEHICLE_SUITE_PREFIX",
    "RunnerInputError",
    "catalogue_vehicle",
    "default_fleet_file",
    "is_vehicle_case",
    "load_fleet",
    "resolve_suites",
    "scenarios_root",
    "sim_capabilities",
]

DEFAULT_VEHICLE = FleetVehicle("reference-bev-3ph-16a", "bev_3ph_16a", "reference BEV 11 kW")
"""The vehicle of the built-in fleet when no fleet file exists (its facts are not resolved:
every case runs; :func:`catalogue_vehicle` gives one with facts)."""

VEHICLE_SUITE_PREFIX = "vehicle-programme"
"""Suites whose name starts with this judge the *vehicle*: a sim run plays them with every
fleet model. The others judge the station and run once per station."""


def is_vehicle_case(case: Case) -> bool:
    """Whether ``case`` judges the vehicle (its suite is a vehicle programme)."""
    return case.suite.startswith(VEHICLE_SUITE_PREFIX)


class RunnerInputError(Exception):
    """A bad input the user can fix (message names the file and what was expected)."""


def scenarios_root() -> Path:
    """The case library folder (see the module docstring)."""
    override = os.environ.get("OCPP_HARNESS_SCENARIOS")
    root = Path(override) if override else Path(__file__).resolve().parents[2] / "scenarios"
    if not root.is_dir():
        raise RunnerInputError(
            f"the case library was not found at {root}; set OCPP_HARNESS_SCENARIOS to the "
            "scenarios/ folder of an ocpp-harness checkout"
        )
    return root


def resolve_suites(names: tuple[str, ...]) -> list[Path]:
    """Each ``SUITE`` (a folder under ``scenarios/``) or path; none: the whole library."""
    if not names:
        return [scenarios_root()]
    out: list[Path] = []
    for name in names:
        path = Path(name)
        if path.exists():
            out.append(path)
            continue
        candidate = scenarios_root() / name
        if candidate.is_dir():
            out.append(candidate)
            continue
        known = sorted(p.name for p in scenarios_root().iterdir() if p.is_dir())
        raise RunnerInputError(
            f"{name}: neither a file/folder nor a suite (suites: {', '.join(known) or 'none'})"
        )
    return out


def load_fleet(path: Path) -> list[FleetVehicle]:
    """The models of a fleet file (:func:`harness.scenario.fleet.load_fleet`: format, checks
    and file:line errors, as :class:`~harness.scenario.ScenarioLoadError`) as run vehicles."""
    fleet = load_fleet_file(path)
    return [
        FleetVehicle(
            id=model.id,
            archetype=model.archetype,
            label=model.label,
            market_share=model.market_share,
            params=dict(model.overrides),
            facts=model.facts,
        )
        for model in fleet.models
    ]


def catalogue_vehicle(
    archetype: str,
    *,
    vehicle_id: str | None = None,
    label: str = "",
    params: Mapping[str, Any] | None = None,
) -> FleetVehicle:
    """A vehicle of the built-in catalogue's ``archetype`` (with YAML-typed ``params``
    overrides), its facts resolved; :class:`RunnerInputError` names a bad archetype/param."""
    name = vehicle_id or archetype
    try:
        resolved = (
            load_catalogue()
            .get(archetype)
            .vehicle_params(dict(params or {}) or None, source=f"vehicle {name}")
        )
    except CatalogueError as exc:
        raise RunnerInputError(str(exc)) from None
    return FleetVehicle(
        id=name,
        archetype=archetype,
        label=label,
        params=dict(params or {}),
        facts=vehicle_facts(resolved, name=name),
    )


def default_fleet_file() -> Path | None:
    """The built-in fleet: ``scenarios/fleets/default.yaml``, else the first fleet file there."""
    folder = scenarios_root() / "fleets"
    if not folder.is_dir():
        return None
    default = folder / "default.yaml"
    if default.is_file():
        return default
    files = sorted(folder.glob("*.yaml"))
    return files[0] if files else None


def sim_capabilities(versions: tuple[str, ...]) -> Capabilities:
    """What the built-in station simulator supports: ``scenarios/capabilities/sim-station.yaml``
    when it covers ``versions``, else a declaration built here."""
    try:
        path = scenarios_root() / "capabilities" / "sim-station.yaml"
    except RunnerInputError:
        path = None
    if path is not None and path.is_file():
        declared = load_capabilities(path)
        if set(versions) <= {str(v) for v in declared.ocpp_versions}:
            return declared
    v21 = "2.1" in versions
    return Capabilities.model_validate(
        {
            "name": "built-in station simulator",
            "ocpp_versions": list(versions),
            "role": "station",
            "smart_charging": True,
            "purposes": ["station_max", "tx_default", "tx"],
            "profile_kinds": ["absolute", "recurring", "relative"],
            "units": ["A", "W"],
            "max_stack_level": 8,
            "max_periods": 24,
            "max_profiles": 16,
            "number_of_evses": 1,
            "supply_phases": 3,
            "max_current_a": 32.0,
            "phase_switching": True,
            # The simulator takes an external (EMS) limit (external_limit steps) and reports
            # it in 2.x with NotifyChargingLimit; 1.6 has no message for it.
            "external_constraints": any(v != "1.6" for v in versions),
            # 2.x: an ISO 15118 vehicle's needs and renegotiated schedule are reported
            # (NotifyEVChargingNeeds / NotifyEVChargingSchedule; the dialogue is simulated)
            "iso15118": any(v != "1.6" for v in versions),
            "v2x": v21,
            # the modes the station simulator follows (External* as limits: it has no
            # external system; the frequency and load-balancing modes are not simulated)
            "v2x_modes": (
                ["ChargingOnly", "CentralSetpoint", "ExternalSetpoint", "ExternalLimits", "Idle"]
                if v21
                else []
            ),
            "measurands": [
                "Current.Import",
                "Current.Offered",
                "Power.Active.Import",
                "Energy.Active.Import.Register",
                *(["Power.Active.Export", "Current.Export"] if v21 else []),
            ],
        }
    )
