"""JSON text <-> Python values, keeping every decimal number exactly as it was written.

Numbers with a fraction or exponent parse to :class:`decimal.Decimal` (never ``float``), so
``7.246376811594203`` and ``16.0`` survive a round trip digit for digit. Serialisation is
compact (no spaces) and keeps non-ASCII characters as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "encode_string", "loads"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]
_FAST = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_encode_string = json.encoder.encode_basestring
encode_string: Callable[[str], str] = _encode_string
"""The JSON string literal of a ``str``, as :func:`dumps` writes it (non-ASCII kept)."""


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# The C encoder that json.dumps builds anew on every call, built once (no circular-reference
# check: payloads come from JSON or from dataclasses, neither can be circular).
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODE = (
    _C_ENCODER(None, _no_default, _encode_string, None, ":", ",", False, False, False)
    if _C_ENCODER is not None
    else None
)
_WHITESPACE = " \t\n\r"


def loads(text: str) -> Any:
    """Parse JSON text; fractional numbers become :class:`Decimal`.

    Raises :class:`ValueError` (``json.JSONDecodeError``) for text that is not JSON.
    """
    # Leading whitespace skipped without copying the text when there is none (a frame).
    start = len(text) - len(text.lstrip(_WHITESPACE)) if text[:1] in _WHITESPACE else 0
    try:
        value, end = _SCAN(text, start)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text) and text[end:].strip(_WHITESPACE):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def dumps(value: Any) -> str:
    """Serialise ``value`` compactly; a :class:`Decimal` is written exactly as ``str()`` shows.

    Raises :class:`ValueError` for NaN or infinite numbers and :class:`TypeError` for values
    that JSON cannot express.
    """
    try:  # C encoder: the common case has no Decimal in it
        return "".join(_ENCODE(value, 0)) if _ENCODE is not None else _FAST.encode(value)
    except TypeError:
        parts: list[str] = []
        _write(value, parts)
        return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"JSON cannot express the number {value}")
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append(_FAST.encode(value))
