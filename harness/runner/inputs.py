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

import yaml

from harness.runner.targets import FleetVehicle
from harness.scenario import Capabilities, Problem, ScenarioLoadError, SourceLocation

__all__ = [
    "DEFAULT_VEHICLE",
    "RunnerInputError",
    "load_fleet",
    "resolve_suites",
    "scenarios_root",
    "sim_capabilities",
]

DEFAULT_VEHICLE = FleetVehicle("reference-bev-3ph-16a", "bev_3ph_16a", "reference BEV 11 kW")
"""The vehicle of the built-in fleet when no fleet file exists."""


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
    """Read a fleet file::

        vehicles:
          - {id: model-y-2023, archetype: bev_3ph_16a, label: ..., market_share: 0.12,
             params: {max_current_a: 16}}

    Raises :class:`ScenarioLoadError` with file:line for a bad file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioLoadError([Problem(SourceLocation(str(path), 0, 0), (), str(exc))]) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        column = mark.column + 1 if mark is not None else 0
        where = SourceLocation(str(path), line, column)
        raise ScenarioLoadError([Problem(where, (), f"not valid YAML: {exc}")]) from None
    top = SourceLocation(str(path), 1, 1)
    if not isinstance(data, Mapping) or not isinstance(data.get("vehicles"), list):
        raise ScenarioLoadError([Problem(top, ("vehicles",), "expected a list of vehicles")])
    items = _item_nodes(node)
    problems: list[Problem] = []
    vehicles: list[FleetVehicle] = []
    for index, raw in enumerate(data["vehicles"]):
        line = items[index] if index < len(items) else 1
        where = SourceLocation(str(path), line, 1)
        if not isinstance(raw, Mapping) or not raw.get("id") or not raw.get("archetype"):
            problems.append(
                Problem(where, ("vehicles", index), "expected a mapping with id and archetype")
            )
            continue
        share = raw.get("market_share")
        if share is not None and (isinstance(share, bool) or not isinstance(share, int | float)):
            problems.append(
                Problem(where, ("vehicles", index, "market_share"), "expected a number")
            )
            continue
        params = raw.get("params") or {}
        vehicles.append(
            FleetVehicle(
                id=str(raw["id"]),
                archetype=str(raw["archetype"]),
                label=str(raw.get("label", "")),
                market_share=None if share is None else float(share),
                params=dict(params) if isinstance(params, Mapping) else {},
            )
        )
    if problems:
        raise ScenarioLoadError(problems)
    return vehicles


def _item_nodes(node: yaml.Node | None) -> list[int]:
    """Line numbers of the items of the top-level ``vehicles`` list."""
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "vehicles" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def sim_capabilities(versions: tuple[str, ...]) -> Capabilities:
    """What the built-in station simulator supports (its capability declaration)."""
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
            "v2x": v21,
            "v2x_modes": ["CentralSetpoint", "Idle"] if v21 else [],
            "measurands": [
                "Current.Import",
                "Current.Offered",
                "Power.Active.Import",
                "Energy.Active.Import.Register",
                *(["Power.Active.Export"] if v21 else []),
            ],
        }
    )
