"""Typed payloads: JSON objects <-> the ``ocpp`` package's dataclasses, nested types included.

The ``ocpp`` package declares some nested fields loosely (1.6 ``SetChargingProfile`` has
``cs_charging_profiles: Union[ChargingProfile, Dict]``); :func:`build` follows the field type
hints and builds the dataclass member of such a union, lists of dataclasses, and enums
(a value outside the enum stays a string). Keys are matched to fields case- and
underscore-insensitively (``evseId`` ↔ ``evse_id``, ``ocppCsmsUrl`` ↔ ``ocpp_csms_url``).
Numbers stay as parsed: a ``Decimal`` limit stays a ``Decimal``. Fields the dataclass does
not know are collected in :attr:`Typed.extra` by JSON path, never dropped.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.session.schemas import PayloadKind
from harness.versions import OcppVersion

__all__ = ["Typed", "build", "dataclass_for", "to_payload", "typed_payload"]

_PACKAGES = {
    OcppVersion.V16: "ocpp.v16",
    OcppVersion.V201: "ocpp.v201",
    OcppVersion.V21: "ocpp.v21",
}


@dataclass(frozen=True, slots=True)
class Typed:
    """A payload as a dataclass, plus the fields the dataclass had no place for."""

    value: Any
    extra: Mapping[str, Any]
    """Unknown fields by JSON path (``"chargingSchedule.foo"`` → value)."""


def dataclass_for(version: OcppVersion, action: str, kind: PayloadKind) -> type[Any] | None:
    """The ``ocpp`` package's dataclass for an action's request or response, if it has one."""
    module = importlib.import_module(
        f"{_PACKAGES[version]}.{'call' if kind is PayloadKind.REQUEST else 'call_result'}"
    )
    cls = getattr(module, action, None)
    return cls if isinstance(cls, type) and dataclasses.is_dataclass(cls) else None


def typed_payload(
    version: OcppVersion, action: str, kind: PayloadKind, payload: Mapping[str, Any]
) -> Typed:
    """Build the typed form of ``payload``; :class:`LookupError` if the package has no class."""
    cls = dataclass_for(version, action, kind)
    if cls is None:
        raise LookupError(f"the ocpp package has no {kind.value} dataclass for {action} {version}")
    extra: dict[str, Any] = {}
    return Typed(value=build(cls, payload, extra=extra), extra=extra)


def _key(name: str) -> str:
    return name.replace("_", "").lower()


@functools.cache
def _fields(cls: type[Any]) -> tuple[dict[str, tuple[str, Any]], set[str]]:
    """Field lookup by normalised name → (field name, type hint); and the required fields."""
    hints = typing.get_type_hints(cls)
    lookup = {}
    required = set()
    for f in dataclasses.fields(cls):
        lookup[_key(f.name)] = (f.name, hints[f.name])
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.add(f.name)
    return lookup, required


def build(cls: type[Any], data: Mapping[str, Any], *, extra: dict[str, Any], path: str = "") -> Any:
    """Build dataclass ``cls`` from a camelCase JSON object, recursively.

    Unknown keys go into ``extra`` (keyed by JSON path); a missing required field raises
    :class:`ValueError` naming it (a schema-valid payload never lacks one).
    """
    lookup, required = _fields(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        entry = lookup.get(_key(key))
        if entry is None:
            extra[f"{path}{key}"] = value
            continue
        name, hint = entry
        kwargs[name] = _convert(hint, value, extra=extra, path=f"{path}{key}")
    missing = required - kwargs.keys()
    if missing:
        raise ValueError(f"{cls.__name__} at {path or '<root>'} lacks {sorted(missing)}")
    return cls(**kwargs)


def _convert(hint: Any, value: Any, *, extra: dict[str, Any], path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        for member in members:  # a dataclass member wins for an object value
            if isinstance(value, dict) and dataclasses.is_dataclass(member):
                return build(member, value, extra=extra, path=f"{path}.")  # type: ignore[arg-type]
            if isinstance(value, list) and typing.get_origin(member) is list:
                return _convert(member, value, extra=extra, path=path)
        for member in members:
            if isinstance(member, type) and issubclass(member, enum.Enum):
                return _convert(member, value, extra=extra, path=path)
        return value
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint) or (Any,)
        return [
            _convert(item, element, extra=extra, path=f"{path}[{index}]")
            for index, element in enumerate(value)
        ]
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            return build(hint, value, extra=extra, path=f"{path}.")
        if issubclass(hint, enum.Enum):
            try:
                return hint(value)
            except ValueError:
                return value
    return value


def to_payload(value: Any) -> dict[str, Any]:
    """A dataclass (or mapping) as the camelCase JSON object to send; ``None`` fields dropped."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Imported here: ocpp.charge_point loads jsonschema, which most commands never need.
        from ocpp.charge_point import remove_nones, snake_to_camel_case

        data = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        converted: dict[str, Any] = snake_to_camel_case(remove_nones(data))
        return converted
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a payload is a dataclass or a mapping, got {type(value).__name__}")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
