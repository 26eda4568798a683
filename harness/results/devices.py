"""The devices a case ran against, and the filesystem-safe key of a case run."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import string
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.results._json import Obj, ResultFormatError, freeze_json, thaw_json

__all__ = ["DeviceKind", "DeviceRef", "case_key", "case_key_of"]

Scalar = str | int | float | bool | None


class DeviceKind(StrEnum):
    """What a device is."""

    STATION = "station"
    VEHICLE = "vehicle"
    CSMS = "csms"


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """A device a case ran against: a station (by its station id), a vehicle model (by the
    fleet file's model id) or a CSMS.

    ``label`` is for people (``"Acme Wallbox 22 (fw 3.1.4)"``); ``attributes`` holds plain
    JSON scalars such as ``market_share`` (the fleet file's figure) or ``firmware``.
    Equality covers every field; the hash leaves ``attributes`` out so a ref can key a dict.
    """

    kind: DeviceKind
    id: str
    label: str = ""
    attributes: Mapping[str, Scalar] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, DeviceKind):
            raise ValueError(f"device kind must be a DeviceKind, got {self.kind!r}")
        if not self.id:
            raise ValueError(f"a {self.kind.value} needs a non-empty id")
        if not isinstance(self.attributes, Mapping):
            raise ValueError(
                f"device {self.id} attributes: expected an object, got {self.attributes!r}"
            )
        attributes = freeze_json(dict(self.attributes), f"device {self.id} attributes")
        for name, value in attributes.items():
            if not isinstance(value, Scalar):
                raise ValueError(
                    f"device {self.id} attribute {name!r}: expected a string, number, "
                    f"boolean or null, got {value!r}"
                )
        object.__setattr__(self, "attributes", attributes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind.value,
            "id": self.id,
            "label": self.label,
            "attributes": thaw_json(self.attributes),
        }

    @classmethod
    def from_obj(cls, obj: Obj) -> DeviceRef:
        """Decode :meth:`to_dict`'s form (raises :class:`ResultFormatError`)."""
        kind, id_, label = obj.enum("kind", DeviceKind), obj.text("id"), obj.text("label")
        attributes = obj.json_value("attributes")
        try:
            return cls(kind, id_, label, attributes)
        except ValueError as exc:
            raise ResultFormatError(f"{obj.path}: {exc}") from None


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_string: Callable[[str], str] = (
    json.encoder.encode_basestring
)  # a JSON string, as ensure_ascii=False


_SAFE = string.ascii_letters + string.digits + "._-"


@functools.lru_cache(maxsize=4096)  # a pure function of its arguments; ids repeat in a run
def _slug(text: str, limit: int) -> str:
    if text.strip(_SAFE):  # some character to replace (else the substitution is a no-op)
        text = _UNSAFE.sub("-", text)
    return text.strip("-.")[:limit] or "x"


def case_key(case_id: str, devices: Iterable[DeviceRef]) -> str:
    """A filesystem-safe key, unique per (case id, set of devices), naming the case's trace
    and series files: ``<case>__<device>+<device>__<hash>``.

    The readable part keeps ``[A-Za-z0-9._-]`` and is shortened; the 12-hex-digit hash of the
    exact case id and device kinds/ids makes keys that slug alike differ (also on
    case-insensitive filesystems). Device order does not matter.
    """
    return case_key_of(case_id, [(d.kind.value, d.id) for d in devices])


def case_key_of(case_id: str, devices: Collection[tuple[str, str]]) -> str:
    """:func:`case_key` of devices given as (kind, id) strings (``DeviceKind`` values)."""
    # sorted(set(devices)), without building a set for the usual one or two devices (this
    # runs for every result read back, to check its stored key)
    if len(devices) == 2:
        a, b = devices
        refs = [a] if a == b else [a, b] if a < b else [b, a]
    elif len(devices) == 1:
        refs = list(devices)
    else:
        refs = sorted(set(devices))
    string = _string
    # json.dumps([case_id, refs], ensure_ascii=False), written out
    pairs = ", ".join([f"[{string(kind)}, {string(id_)}]" for kind, id_ in refs])
    digest = hashlib.sha256(f"[{string(case_id)}, [{pairs}]]".encode()).hexdigest()[:12]
    readable = "+".join([_slug(device_id, 40) for _, device_id in refs])[:100]
    return f"{_slug(case_id, 60)}__{readable or 'none'}__{digest}"
