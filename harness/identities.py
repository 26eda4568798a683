"""Identities a simulated station presents to a CSMS: idTokens and transaction ids.

A real CSMS checks them: an ISO14443 idToken must be a card UID (8 or 14 hex digits), one
token may have only one open transaction, a transaction id must be new. So tokens and ids
come from **patterns**, expanded per station, EVSE and case with :func:`expand`: Python
format fields, e.g. ``04{station:06X}{case:04X}{evse:02X}``.

========== ======= =====================================================================
field      type    meaning
========== ======= =====================================================================
station    int     the station's index (``simulate``, ``--fleet``: 0, 1, 2...; the
                   station role: 0)
station_id text    the station's id (the last segment of its URL)
evse       int     the EVSE (1, 2...)
case       int     the case's position in the run (1, 2...; ``simulate``: 0)
run        text    the run's start, ``YYMMDDhhmmss`` UTC (makes ids new in every run)
========== ======= =====================================================================

A fixed text (no braces) is a valid pattern: every station and case then uses that token.
:func:`token_problem` says why a token does not fit its type (OCPP 2.0.1 IdTokenEnumType).
"""

from __future__ import annotations

import re
import string
from datetime import datetime

__all__ = [
    "DEFAULT_TOKEN_PATTERN",
    "DEFAULT_TRANSACTION_PATTERN",
    "PATTERN_FIELDS",
    "expand",
    "run_tag",
    "token_problem",
]

DEFAULT_TOKEN_PATTERN = "04{station:06X}{case:04X}{evse:02X}"
"""A 7-byte ISO14443 UID (14 hex digits) unique per station, case and EVSE."""

DEFAULT_TRANSACTION_PATTERN = "{station_id:.12}-{run}-{case}-{evse}"
"""A 2.x transaction id unique per station, run, case and EVSE (at most 36 characters)."""

PATTERN_FIELDS = ("station", "station_id", "evse", "case", "run")

_HEX = re.compile(r"[0-9A-Fa-f]+")
_MAX_LENGTH = {"1.6": 20, "2.x": 36}


def run_tag(started_at: datetime) -> str:
    """The ``run`` field of a run that started at ``started_at``."""
    return started_at.strftime("%y%m%d%H%M%S")


def expand(
    pattern: str,
    *,
    station: int = 0,
    station_id: str = "",
    evse: int = 1,
    case: int = 0,
    run: str = "",
) -> str:
    """``pattern`` with its fields filled in; :class:`ValueError` naming a field the pattern
    uses that does not exist, or a format that does not fit the field."""
    values: dict[str, int | str] = {
        "station": station,
        "station_id": station_id,
        "evse": evse,
        "case": case,
        "run": run,
    }
    for _text, name, _spec, _conv in string.Formatter().parse(pattern):
        if name is not None and name not in values:
            raise ValueError(
                f"unknown field {{{name}}} in pattern {pattern!r} "
                f"(known: {', '.join(PATTERN_FIELDS)})"
            )
    try:
        return pattern.format_map(values)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"pattern {pattern!r}: {exc}") from None


def token_problem(token: str, token_type: str = "ISO14443", *, version: str = "2.x") -> str | None:
    """Why ``token`` is not a valid idToken of ``token_type`` (``None`` when it is): an
    ISO14443 UID has 8 or 14 hex digits (4 or 7 bytes), ISO15693 16; any token is at most 20
    characters in OCPP 1.6 and 36 in 2.x."""
    limit = _MAX_LENGTH["1.6" if version == "1.6" else "2.x"]
    if not token:
        return "an empty idToken"
    if len(token) > limit:
        return f"{token!r} is longer than {limit} characters"
    if token_type == "ISO14443" and not (_HEX.fullmatch(token) and len(token) in (8, 14)):
        return f"{token!r} is not an ISO14443 UID (expected 8 or 14 hex digits)"
    if token_type == "ISO15693" and not (_HEX.fullmatch(token) and len(token) == 16):
        return f"{token!r} is not an ISO15693 UID (expected 16 hex digits)"
    return None
