"""Turning recorded payloads into scenario values: placeholders, ``${now±Ns}``, matchers.

Used by :mod:`harness.scenario.from_trace`. One :class:`ValueMapper` per generated case keeps
the parameters it invented (personal data, ids the harness assigns) and the variables it
stores (ids the DUT assigns), so that the same recorded value maps to the same name
everywhere, and no recorded personal value is ever written out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["Tolerance", "ValueMapper", "is_personal_field", "is_timestamp"]

_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})$"
)
_ID_TAG_FIELDS: Final = frozenset({"idtag", "parentidtag", "idtoken", "groupidtoken"})
_SECRET_PARTS: Final = ("password", "token", "secret", "passphrase", "authorizationkey")
_SECRET_SETTINGS: Final = frozenset({"authorizationkey", "basicauthpassword"})
_SERIAL_FIELDS: Final = frozenset(
    {
        "chargepointserialnumber",
        "chargeboxserialnumber",
        "serialnumber",
        "meterserialnumber",
        "iccid",
        "imsi",
    }
)
_DECIMAL: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_TRANSACTION_FIELDS: Final = frozenset({"transactionid"})
_EXACT_NUMBER_FIELDS: Final = re.compile(r"(?i).*(id|level|number|count|interval)$")


def is_timestamp(value: object) -> bool:
    """True for an RFC 3339 date-time text."""
    return isinstance(value, str) and _RFC3339.fullmatch(value) is not None


def _kind(name: str, *, serials: bool) -> str | None:
    """The placeholder kind of a field name holding personal data, or ``None``."""
    key = name.lower().replace("_", "")
    if key in _ID_TAG_FIELDS:
        return "id_tag"
    if "password" in key:
        return "password"
    if any(part in key for part in _SECRET_PARTS) or (key.endswith("key") and key != "key"):
        return "secret"
    if serials and key in _SERIAL_FIELDS:
        return "serial"
    return None


def is_personal_field(name: str, *, serials: bool = False) -> bool:
    """Whether a field of this name holds personal data (idTag, token, password, key...)."""
    return _kind(name, serials=serials) is not None


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("z", "Z").replace(" ", "T"))


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 text (:func:`is_timestamp`) as an aware date-time (no offset: UTC)."""
    value = _parse_time(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How recorded numbers are matched: within ``abs`` or ``rel`` × |value| (either)."""

    abs: float = 0.5
    rel: float = 0.05


@dataclass
class ValueMapper:
    """Recorded value → scenario value, remembering parameters and stored variables.

    ``parameters`` (name → spec dict) and the maps are filled as payloads are converted.
    """

    serials: bool = False
    tolerance: Tolerance = field(default_factory=Tolerance)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    _personal: dict[str, str] = field(default_factory=dict)
    _ids: dict[object, str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    # -- names ---------------------------------------------------------------------------
    def _new_name(self, kind: str) -> str:
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        return kind if n == 1 else f"{kind}_{n}"

    def personal(self, kind: str, value: str) -> str:
        """The parameter standing for a personal ``value``; created with a placeholder."""
        if value not in self._personal:
            name = self._new_name(kind)
            placeholder = f"{kind.upper().replace('_', '-')}-{self._counts[kind]}"
            self.parameters[name] = {
                "type": "string",
                "default": placeholder,
                "description": f"replaces a recorded {kind.replace('_', ' ')} (not kept)",
            }
            self._personal[value] = name
        return self._personal[value]

    def known_id(self, value: object) -> str | None:
        """The variable or parameter a recorded transaction id maps to, if any."""
        return self._ids.get(_id_key(value))

    def id_parameter(self, value: object) -> str:
        """A parameter with the recorded id as default (the harness assigns this id)."""
        name = self._new_name("transaction_id")
        kind = "integer" if isinstance(value, int) else "string"
        self.parameters[name] = {
            "type": kind,
            "default": value,
            "description": "transaction id the harness assigns (the recorded one)",
        }
        self._ids[_id_key(value)] = name
        return name

    def id_variable(self, value: object) -> str:
        """A variable name for an id the DUT assigns (to be stored by the step)."""
        name = self._new_name("tx")
        self._ids[_id_key(value)] = name
        return name

    def scrub_text(self, text: str) -> str:
        """``text`` with every recorded personal value in it replaced by its ``${param}``."""
        for value, name in self._personal.items():
            if value and value in text:
                text = text.replace(value, f"${{{name}}}")
        return text

    # -- payloads the harness sends --------------------------------------------------------
    def payload(self, value: Any, *, sent_at: datetime, name: str = "") -> Any:
        """A recorded payload as the harness should send it."""
        personal = _kind(name, serials=self.serials)
        if isinstance(value, Mapping):
            secret_setting = _secret_setting(value)
            out = {}
            for key, sub in value.items():
                if secret_setting and key in ("value", "attributeValue") and isinstance(sub, str):
                    out[key] = f"${{{self.personal('secret', sub)}}}"
                else:
                    out[key] = self.payload(sub, sent_at=sent_at, name=str(key))
            return out
        if isinstance(value, list):
            return [self.payload(sub, sent_at=sent_at, name=name) for sub in value]
        if isinstance(value, str) and personal is not None:
            return f"${{{self.personal(personal, value)}}}"
        if name.lower() in _TRANSACTION_FIELDS and not isinstance(value, bool | float):
            known = self.known_id(value)
            return f"${{{known or self.id_parameter(value)}}}"
        if is_timestamp(value):
            offset = round((parse_timestamp(value) - sent_at).total_seconds())
            return "${now}" if offset == 0 else f"${{now{offset:+d}s}}"
        if isinstance(value, str):
            return self.scrub_text(_literal(value))
        return value

    # -- matchers on what the DUT sends ------------------------------------------------------
    def matcher(self, value: Any, *, name: str = "", fresh: frozenset[str] = frozenset()) -> Any:
        """A matcher for a recorded DUT payload: statuses and enums exact, numbers within
        the tolerance, timestamps and personal data only required present, known ids by
        reference. ``fresh`` are variables stored by this very step (not usable yet)."""
        personal = _kind(name, serials=self.serials)
        if isinstance(value, Mapping):
            if not value:
                return {"equals": {}}
            secret_setting = _secret_setting(value)
            out: dict[str, Any] = {}
            for key, sub in value.items():
                if secret_setting and key in ("value", "attributeValue") and isinstance(sub, str):
                    out[key] = f"${{{self.personal('secret', sub)}}}"
                else:
                    out[key] = self.matcher(sub, name=str(key), fresh=fresh)
            return out
        if isinstance(value, list):
            return [self.matcher(sub, name=name, fresh=fresh) for sub in value]
        if isinstance(value, str) and personal is not None:
            # The lab sets the parameter to the value its DUT is configured with.
            return f"${{{self.personal(personal, value)}}}"
        if name.lower() in _TRANSACTION_FIELDS:
            known = self.known_id(value)
            if known is None or known in fresh:
                return {"present": True}
            return f"${{{known}}}"
        if is_timestamp(value):
            return {"present": True}
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            if isinstance(value, int) and _EXACT_NUMBER_FIELDS.fullmatch(name):
                return value
            tol = self.tolerance
            return {"approx": value, "tol": tol.abs, "rel_tol": tol.rel}
        if isinstance(value, str) and name == "value" and _DECIMAL.fullmatch(value):
            # OCPP 1.6 SampledValue.value is a decimal in a text: no tolerance can apply to a
            # text, so any decimal is accepted (the reading differs from run to run).
            return {"regex": _DECIMAL.pattern}
        if isinstance(value, str):
            scrubbed = self.scrub_text(value)
            if scrubbed != value:
                return {"present": True}
            return _literal(value)
        return value


def _literal(text: str) -> Any:
    """A text matcher that cannot be mistaken for a ``${...}`` reference."""
    return text.replace("${", "$${")


def _secret_setting(value: Mapping[str, Any]) -> bool:
    """A configuration entry whose value is a secret (1.6 ChangeConfiguration /
    GetConfiguration ``{key: AuthorizationKey, value}``, 2.x ``variable.name``)."""
    key = value.get("key")
    if isinstance(key, str) and key.lower() in _SECRET_SETTINGS:
        return True
    variable = value.get("variable")
    if isinstance(variable, Mapping):
        name = variable.get("name")
        return isinstance(name, str) and (
            name.lower() in _SECRET_SETTINGS or "password" in name.lower()
        )
    return False


def _id_key(value: object) -> object:
    return ("int", value) if isinstance(value, int) else ("str", str(value))
