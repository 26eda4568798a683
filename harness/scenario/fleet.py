"""Fleet files: the vehicle models a simulated run uses, each with its market share.

When the target is ``sim``, the vehicle programme runs once per model of a fleet, and the
report shows per case (and overall) the share of vehicles passing both by count and
weighted by market share. A fleet file (YAML) reads::

    synthetic: true                 # required: say whether the figures are invented
    name: Synthetic fleet 2026
    description: optional text
    models:
      - id: syn-bev-3ph-11kw-01     # unique within the file
        label: "Synthetic BEV 3ph 11 kW #1"
        archetype: bev_3ph_16a      # a name of the vehicle catalogue
        market_share: 16.0          # percent; all models together: 100 (± 0.5)
        params: {battery_capacity_wh: 58000}   # optional VehicleParams overrides

Use::

    fleet = load_fleet("scenarios/fleets/synthetic-fleet.yaml")   # FleetLoadError if bad
    for model in fleet.models:
        vehicle = Vehicle(model.params)                 # simulators.vehicle
    rates = fleet.pass_rates({"syn-bev-3ph-11kw-01"})   # .by_count_percent, .by_share_percent

Every problem of a file is reported at once as ``file:line:column: field: expected ...``
(a :class:`FleetLoadError`, a :class:`~harness.scenario.errors.ScenarioLoadError`), never
as a traceback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.scenario.errors import FieldPath, Problem, ScenarioLoadError
from harness.scenario.vehicle import VehicleFacts
from harness.scenario.yamlsource import Located, read_yaml
from simulators.vehicle import (
    PARAM_SPECS,
    Behaviour,
    Catalogue,
    CatalogueError,
    VehicleKind,
    VehicleParams,
    load_catalogue,
)

__all__ = [
    "SHARE_TOLERANCE_PERCENT",
    "Fleet",
    "FleetLoadError",
    "FleetModel",
    "PassRates",
    "fleet_json_schema",
    "load_fleet",
    "vehicle_facts",
]

SHARE_TOLERANCE_PERCENT = 0.5
"""How far the market shares of a fleet may sum away from 100 % (rounding)."""

MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_MODEL_ID = re.compile(MODEL_ID_PATTERN)
_TOP_KEYS = ("synthetic", "name", "description", "models")
_REQUIRED_TOP = ("synthetic", "name", "models")
_MODEL_KEYS = ("id", "label", "archetype", "market_share", "params")
_REQUIRED_MODEL = ("id", "label", "archetype", "market_share")


class FleetLoadError(ScenarioLoadError):
    """One or more problems in a fleet file (``problems`` lists them all)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetModel:
    """One vehicle model: its archetype, its parameters (archetype + overrides), its share."""

    id: str
    label: str
    archetype: str
    params: VehicleParams
    market_share: float
    """Percent of the fleet (registrations)."""
    overrides: Mapping[str, Any]
    """The parameter overrides as written in the file (for reports)."""
    behaviours: tuple[Behaviour, ...]
    """What its archetype claims (from the catalogue)."""

    @property
    def well_behaved(self) -> bool:
        """Whether its archetype claims :attr:`Behaviour.WELL_BEHAVED` (no field defect)."""
        return Behaviour.WELL_BEHAVED in self.behaviours

    @property
    def facts(self) -> VehicleFacts:
        """What a run knows of this model (for ``vehicle_needs`` and ``from_vehicle``)."""
        return vehicle_facts(self.params, name=self.id)


def vehicle_facts(params: VehicleParams, *, name: str | None = None) -> VehicleFacts:
    """The facts of a simulated vehicle with ``params`` (all known), named ``name``."""
    return VehicleFacts(
        name=name,
        phases=params.phases,
        max_current_a=params.max_current_a,
        min_current_a=params.min_current_a,
        start_current_a=params.start_current_a,
        bidirectional=params.bidirectional,
        max_discharge_power_w=params.max_discharge_power_w,
        iso15118=params.iso15118,
        dc=params.dc,
    )


@dataclass(frozen=True, slots=True)
class PassRates:
    """Share of a fleet's models that passed: by count and weighted by market share (%)."""

    by_count_percent: float
    by_share_percent: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """A fleet file's content: models in file order."""

    name: str
    synthetic: bool
    description: str
    models: tuple[FleetModel, ...]
    source: str

    @property
    def total_share_percent(self) -> float:
        """Sum of the market shares (100 within :data:`SHARE_TOLERANCE_PERCENT`)."""
        return math.fsum(model.market_share for model in self.models)

    def model(self, model_id: str) -> FleetModel:
        """The model with this id; :class:`KeyError` names the known ids."""
        for model in self.models:
            if model.id == model_id:
                return model
        known = ", ".join(model.id for model in self.models)
        raise KeyError(f"no model {model_id!r} in fleet {self.name!r}; known: {known}")

    def pass_rates(self, passed: Iterable[str]) -> PassRates:
        """Rates for the models whose ids are in ``passed`` (unknown ids: :class:`KeyError`).

        The share-weighted rate is normalised by the fleet's total share, so a fleet whose
        shares sum to 99.8 % still gives 100 % when every model passes.
        """
        ids = set(passed)
        unknown = sorted(ids - {model.id for model in self.models})
        if unknown:
            raise KeyError(f"not models of fleet {self.name!r}: {', '.join(unknown)}")
        winners = [model for model in self.models if model.id in ids]
        count = 100.0 * len(winners) / len(self.models)
        total = self.total_share_percent
        share = 100.0 * math.fsum(m.market_share for m in winners) / total if total else 0.0
        return PassRates(by_count_percent=count, by_share_percent=share)


def load_fleet(path: Path | str, *, catalogue: Catalogue | None = None) -> Fleet:
    """Read and check a fleet file against ``catalogue`` (default: the built-in one).

    Raises :class:`FleetLoadError` listing every problem: YAML syntax, unknown or missing
    fields, an unknown archetype (with the valid names), a bad parameter override, shares
    not summing to 100 (± 0.5), duplicate model ids.
    """
    located, problems = read_yaml(Path(path))
    if located is None:
        raise FleetLoadError(problems)
    catalogue = load_catalogue() if catalogue is None else catalogue
    fleet = _Reader(located, catalogue, problems).fleet()
    if problems or fleet is None:
        raise FleetLoadError(problems)
    return fleet


class _Reader:
    """Builds a :class:`Fleet` from located YAML, appending every problem found."""

    def __init__(self, located: Located, catalogue: Catalogue, problems: list[Problem]) -> None:
        self.located = located
        self.catalogue = catalogue
        self.problems = problems

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.located.where(path, key=key), path, message))

    def fields(
        self,
        raw: Mapping[Any, Any],
        path: FieldPath,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
    ) -> None:
        for key in raw:
            if key not in allowed:
                expected = ", ".join(allowed)
                self.problem(
                    (*path, str(key)), f"unknown field (expected one of: {expected})", key=True
                )
        for key in required:
            if key not in raw:
                self.problem(path, f"missing field '{key}'")

    def text(self, raw: Mapping[Any, Any], path: FieldPath, name: str) -> str | None:
        value = raw.get(name)
        if name not in raw:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem((*path, name), f"expected a non-empty text, got {value!r}")
            return None
        return value.strip()

    def fleet(self) -> Fleet | None:
        data = self.located.data
        if not isinstance(data, Mapping):
            self.problem((), f"expected a mapping with {', '.join(_REQUIRED_TOP)}, got {data!r}")
            return None
        self.fields(data, (), _TOP_KEYS, _REQUIRED_TOP)
        synthetic = data.get("synthetic")
        if "synthetic" in data and not isinstance(synthetic, bool):
            self.problem(("synthetic",), f"expected true or false, got {synthetic!r}")
        name = self.text(data, (), "name")
        description = self.text(data, (), "description") or ""
        raw_models = data.get("models")
        models: list[FleetModel] = []
        if "models" in data:
            if not isinstance(raw_models, list) or not raw_models:
                self.problem(
                    ("models",), f"expected a non-empty list of models, got {raw_models!r}"
                )
            else:
                models = self.models(raw_models)
        if self.problems or name is None or not isinstance(synthetic, bool):
            return None
        return Fleet(
            name=name,
            synthetic=synthetic,
            description=description,
            models=tuple(models),
            source=self.located.file,
        )

    def models(self, raw_models: list[Any]) -> list[FleetModel]:
        models: list[FleetModel] = []
        first_seen: dict[str, int] = {}
        shares: list[float] = []
        for index, raw in enumerate(raw_models):
            path: FieldPath = ("models", index)
            if not isinstance(raw, Mapping):
                self.problem(path, f"expected a model (a mapping), got {raw!r}")
                continue
            model_id = raw.get("id")
            if isinstance(model_id, str) and model_id in first_seen:
                line = self.located.where(("models", first_seen[model_id], "id")).line
                self.problem(
                    (*path, "id"), f"duplicate model id '{model_id}' (first at line {line})"
                )
            elif isinstance(model_id, str):
                first_seen[model_id] = index
            model = self.model(raw, path)
            if model is not None:
                models.append(model)
            share = _number(raw.get("market_share"))
            if share is not None:
                shares.append(share)
        total = math.fsum(shares)
        if len(shares) == len(raw_models) and abs(total - 100.0) > SHARE_TOLERANCE_PERCENT:
            self.problem(
                ("models",),
                f"expected market shares summing to 100 % (± {SHARE_TOLERANCE_PERCENT:g}), "
                f"got {total:g} %",
            )
        return models

    def model(self, raw: Mapping[Any, Any], path: FieldPath) -> FleetModel | None:
        before = len(self.problems)
        self.fields(raw, path, _MODEL_KEYS, _REQUIRED_MODEL)
        model_id = raw.get("id")
        if "id" in raw and not (isinstance(model_id, str) and _MODEL_ID.match(model_id)):
            self.problem(
                (*path, "id"), f"expected an id of letters, digits, '.', '_', '-', got {model_id!r}"
            )
        label = self.text(raw, path, "label")
        share = _number(raw.get("market_share"))
        if "market_share" in raw and (share is None or not 0 < share <= 100):
            got = raw.get("market_share")
            self.problem(
                (*path, "market_share"), f"expected a percentage > 0 and ≤ 100, got {got!r}"
            )
        params = self.params(raw, path, model_id if isinstance(model_id, str) else None)
        if len(self.problems) > before or params is None or label is None or share is None:
            return None
        archetype, vehicle_params, overrides = params
        return FleetModel(
            id=str(model_id),
            label=label,
            archetype=archetype,
            params=vehicle_params,
            market_share=share,
            overrides=MappingProxyType(dict(overrides)),
            behaviours=self.catalogue.get(archetype).behaviours,
        )

    def params(
        self, raw: Mapping[Any, Any], path: FieldPath, model_id: str | None
    ) -> tuple[str, VehicleParams, Mapping[str, Any]] | None:
        name = raw.get("archetype")
        if "archetype" not in raw:
            return None
        if not isinstance(name, str) or name not in self.catalogue.archetypes:
            known = ", ".join(self.catalogue.names())
            self.problem(
                (*path, "archetype"),
                f"unknown vehicle archetype {name!r}; expected one of: {known}",
            )
            return None
        overrides = raw.get("params", {})
        if overrides is None:
            overrides = {}
        if not isinstance(overrides, Mapping):
            self.problem(
                (*path, "params"), f"expected a mapping of parameter: value, got {overrides!r}"
            )
            return None
        source = f"model {model_id!r}" if model_id is not None else "model"
        try:
            vehicle_params = self.catalogue.get(name).vehicle_params(overrides, source=source)
        except CatalogueError as error:
            field = next((key for key in overrides if f"field {key!r}" in str(error)), None)
            where = (*path, "params", str(field)) if field is not None else (*path, "params")
            self.problem(where, str(error))
            return None
        return name, vehicle_params, overrides


def _number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a number (booleans are not)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _param_schema(kind: str) -> dict[str, Any]:
    optional = kind.startswith("optional ")
    base = kind.removeprefix("optional ")
    shapes: dict[str, dict[str, Any]] = {
        "float": {"type": "number"},
        "int": {"type": "integer"},
        "bool": {"type": "boolean"},
        "kind": {"enum": [k.value for k in VehicleKind]},
    }
    schema = shapes[base]
    if optional:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def fleet_json_schema(catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The JSON Schema of fleet files (archetype names from ``catalogue``, default built-in).

    Editors use it; :func:`load_fleet` is the authority (it also checks value ranges, the
    sum of the shares and duplicate ids).
    """
    catalogue = load_catalogue() if catalogue is None else catalogue
    params = {
        name: {**_param_schema(spec.kind), "description": f"expected {spec.expected}"}
        for name, spec in PARAM_SPECS.items()
    }
    model = {
        "type": "object",
        "additionalProperties": False,
        "required": list(_REQUIRED_MODEL),
        "properties": {
            "id": {"type": "string", "pattern": MODEL_ID_PATTERN},
            "label": {"type": "string", "minLength": 1},
            "archetype": {"enum": catalogue.names()},
            "market_share": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "params": {"type": "object", "additionalProperties": False, "properties": params},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ocpp-harness fleet file",
        "description": "Vehicle models (archetype + parameters) with their market share (%).",
        "type": "object",
        "additionalProperties": False,
        "required": list(_REQUIRED_TOP),
        "properties": {
            "synthetic": {"type": "boolean", "description": "true: invented figures"},
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "models": {"type": "array", "minItems": 1, "items": model},
        },
    }
