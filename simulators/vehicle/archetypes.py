"""The behaviour catalogue: named vehicle archetypes loaded from YAML, validated, overridable.

The built-in catalogue lives in ``simulators/vehicle/catalogue/*.yaml``. Each file holds::

    archetypes:
      <name>:                      # lower_snake_case, unique across the catalogue
        models: <one sentence: what this archetype models>
        evidence: [<where the behaviour was reported publicly>, ...]
        behaviours: [<Behaviour>, ...]   # what tests must demonstrate for it
        params: {<VehicleParams field>: <value>, ...}   # unspecified fields keep defaults

Bad input raises :class:`CatalogueError` whose message names the file, the archetype and the
field with what was expected — never a bare traceback. A fleet file later gives
model-specific values on top of an archetype through :meth:`Archetype.vehicle_params`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from simulators.vehicle.params import PARAM_SPECS, ParamError, VehicleKind, VehicleParams

__all__ = [
    "BUILTIN_CATALOGUE_DIR",
    "Archetype",
    "Behaviour",
    "Catalogue",
    "CatalogueError",
    "load_catalogue",
    "parse_params",
]

BUILTIN_CATALOGUE_DIR = Path(__file__).parent / "catalogue"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ARCHETYPE_KEYS = {"models", "evidence", "behaviours", "params"}


class Behaviour(StrEnum):
    """A behaviour an archetype claims; each has a demonstrating test in the test suite."""

    WELL_BEHAVED = "well_behaved"
    SLEEPS_AFTER_PAUSE = "sleeps_after_pause"
    DELAYED_START_FAILS = "delayed_start_fails"
    NEEDS_START_CURRENT = "needs_start_current"
    STAYS_ON_ONE_PHASE = "stays_on_one_phase"
    SLOW_RAMP = "slow_ramp"
    ONE_PHASE_HYBRID = "one_phase_hybrid"
    GIVES_UP_AFTER_CHANGES = "gives_up_after_changes"
    BIDIRECTIONAL = "bidirectional"
    UNRELIABLE_RESUME = "unreliable_resume"


class CatalogueError(ValueError):
    """Invalid catalogue or override input; the message says where and what was expected."""


def _where(source: str, archetype: str | None, field: str | None = None) -> str:
    parts = [source]
    if archetype is not None:
        parts.append(f"archetype {archetype!r}")
    if field is not None:
        parts.append(f"field {field!r}")
    return ": ".join(parts)


def _typed(name: str, value: Any, where: str) -> Any:
    """Convert a YAML value to the parameter's type, or raise :class:`CatalogueError`."""
    spec = PARAM_SPECS[name]
    kind = spec.kind
    if kind.startswith("optional "):
        if value is None:
            return None
        kind = kind.removeprefix("optional ")
    ok: bool
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        converted: Any = float(value) if ok else None
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        converted = value
    elif kind == "bool":
        ok = isinstance(value, bool)
        converted = value
    else:  # "kind"
        ok = isinstance(value, str) and value in {k.value for k in VehicleKind}
        converted = VehicleKind(value) if ok else None
    if not ok:
        raise CatalogueError(f"{where}: expected {spec.expected}, got {value!r}")
    return converted


def parse_params(
    raw: object, *, base: VehicleParams, source: str, archetype: str | None = None
) -> VehicleParams:
    """Apply a YAML mapping of parameter values on top of ``base``, validating every field.

    ``source`` (a file name, or e.g. ``"fleet.yaml: model 'X'"``) and ``archetype`` only
    serve the error message.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        where = _where(source, archetype, "params")
        raise CatalogueError(f"{where}: expected a mapping of parameter: value, got {raw!r}")
    typed: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in PARAM_SPECS:
            known = ", ".join(PARAM_SPECS)
            where = _where(source, archetype, str(key))
            raise CatalogueError(f"{where}: expected a known vehicle parameter ({known})")
        typed[key] = _typed(key, value, _where(source, archetype, key))
    try:
        return base.with_overrides(typed)
    except ParamError as error:
        where = _where(source, archetype, error.field)
        raise CatalogueError(f"{where}: expected {error.expected}, got {error.got!r}") from None


@dataclass(frozen=True, slots=True)
class Archetype:
    """One named vehicle archetype from the catalogue."""

    name: str
    models: str
    evidence: tuple[str, ...]
    behaviours: tuple[Behaviour, ...]
    params: VehicleParams
    source: str

    def vehicle_params(
        self, overrides: Mapping[str, object] | None = None, *, source: str = "overrides"
    ) -> VehicleParams:
        """The archetype's parameters with model-specific ``overrides`` (YAML-typed) on top."""
        if not overrides:
            return self.params
        return parse_params(overrides, base=self.params, source=source, archetype=self.name)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All archetypes by name."""

    archetypes: Mapping[str, Archetype]

    def names(self) -> list[str]:
        """Archetype names, sorted."""
        return sorted(self.archetypes)

    def get(self, name: str) -> Archetype:
        """The archetype called ``name``; :class:`CatalogueError` lists the known ones."""
        try:
            return self.archetypes[name]
        except KeyError:
            known = ", ".join(self.names())
            raise CatalogueError(
                f"unknown vehicle archetype {name!r}; expected one of: {known}"
            ) from None


def _text(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: expected {what}, got {value!r}")
    return " ".join(value.split())


def _parse_archetype(name: object, body: object, source: str) -> Archetype:
    if not isinstance(name, str) or not _NAME.match(name):
        raise CatalogueError(
            f"{source}: archetype name {name!r}: expected lower_snake_case (a-z, 0-9, _)"
        )
    if not isinstance(body, Mapping):
        raise CatalogueError(f"{_where(source, name)}: expected a mapping, got {body!r}")
    missing = sorted(_ARCHETYPE_KEYS - set(body))
    if missing:
        raise CatalogueError(f"{_where(source, name, missing[0])}: expected this field, missing")
    extra = sorted(str(k) for k in set(body) - _ARCHETYPE_KEYS)
    if extra:
        expected = ", ".join(sorted(_ARCHETYPE_KEYS))
        raise CatalogueError(f"{_where(source, name, extra[0])}: expected one of {expected}")
    models = _text(body["models"], _where(source, name, "models"), "a sentence")
    evidence_raw = body["evidence"]
    where = _where(source, name, "evidence")
    if not isinstance(evidence_raw, list) or not evidence_raw:
        raise CatalogueError(f"{where}: expected a non-empty list of sources, got {evidence_raw!r}")
    evidence = tuple(_text(item, where, "a source (text)") for item in evidence_raw)
    behaviours_raw = body["behaviours"]
    where = _where(source, name, "behaviours")
    allowed = ", ".join(b.value for b in Behaviour)
    if not isinstance(behaviours_raw, list) or not behaviours_raw:
        raise CatalogueError(f"{where}: expected a non-empty list of: {allowed}")
    behaviours: list[Behaviour] = []
    for item in behaviours_raw:
        if item not in {b.value for b in Behaviour}:
            raise CatalogueError(f"{where}: expected one of: {allowed}, got {item!r}")
        behaviours.append(Behaviour(item))
    params = parse_params(body["params"], base=VehicleParams(), source=source, archetype=name)
    return Archetype(
        name=name,
        models=models,
        evidence=evidence,
        behaviours=tuple(behaviours),
        params=params,
        source=source,
    )


def _load_file(path: Path) -> list[Archetype]:
    source = str(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogueError(f"{source}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise CatalogueError(f"{source}{line}: expected valid YAML ({problem})") from None
    if not isinstance(document, Mapping) or set(document) != {"archetypes"}:
        raise CatalogueError(f"{source}: expected a mapping with the single key 'archetypes'")
    entries = document["archetypes"]
    if not isinstance(entries, Mapping) or not entries:
        raise CatalogueError(f"{source}: 'archetypes': expected a non-empty mapping of name: body")
    return [_parse_archetype(name, body, source) for name, body in entries.items()]


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load every ``*.yaml`` in ``directory`` (default: the built-in catalogue)."""
    folder = BUILTIN_CATALOGUE_DIR if directory is None else directory
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise CatalogueError(f"{folder}: expected at least one *.yaml catalogue file")
    found: dict[str, Archetype] = {}
    for path in files:
        for archetype in _load_file(path):
            if archetype.name in found:
                first = found[archetype.name].source
                raise CatalogueError(
                    f"{path}: archetype {archetype.name!r}: expected a unique name "
                    f"(already defined in {first})"
                )
            found[archetype.name] = archetype
    return Catalogue(MappingProxyType(found))
