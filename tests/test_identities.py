"""Identity patterns: tokens and transaction ids per station, EVSE, case and run."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from harness.identities import (
    DEFAULT_TOKEN_PATTERN,
    DEFAULT_TRANSACTION_PATTERN,
    expand,
    run_tag,
    token_problem,
)


def test_the_default_token_is_a_valid_uid_unique_per_station_evse_and_case() -> None:
    seen = set()
    for station in (0, 1, 4095):
        for evse in (1, 2):
            for case in (0, 1, 12):
                token = expand(DEFAULT_TOKEN_PATTERN, station=station, evse=evse, case=case)
                assert token_problem(token, "ISO14443") is None
                assert token_problem(token, version="1.6") is None  # at most 20 characters
                seen.add(token)
    assert len(seen) == 3 * 2 * 3


def test_the_default_transaction_id_fits_and_changes_with_the_run() -> None:
    a = expand(
        DEFAULT_TRANSACTION_PATTERN,
        station_id="A-VERY-LONG-STATION-ID-123",
        case=7,
        evse=1,
        run=run_tag(datetime(2026, 12, 7, 20, 0, 0, tzinfo=UTC)),
    )
    b = expand(
        DEFAULT_TRANSACTION_PATTERN,
        station_id="A-VERY-LONG-STATION-ID-123",
        case=7,
        evse=1,
        run=run_tag(datetime(2026, 12, 7, 20, 0, 1, tzinfo=UTC)),
    )
    assert a == "A-VERY-LONG--261207200000-7-1"
    assert a != b
    assert len(a) <= 36


@pytest.mark.parametrize(
    ("token", "kind", "problem"),
    [
        ("SIM-TOKEN", "ISO14443", "not an ISO14443 UID"),
        ("04A1B2C", "ISO14443", "not an ISO14443 UID"),
        ("04A1B2C3D4E5F6", "ISO14443", None),
        ("04a1b2c3", "ISO14443", None),
        ("0011223344556677", "ISO15693", None),
        ("SIM-TOKEN", "Central", None),
        ("", "Central", "empty"),
        ("X" * 37, "Central", "longer than 36"),
    ],
)
def test_tokens_are_checked_for_their_type(token: str, kind: str, problem: str | None) -> None:
    found = token_problem(token, kind)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_a_bad_pattern_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"unknown field \{stationid\}"):
        expand("{stationid}")
    with pytest.raises(ValueError, match=re.escape("pattern '{station_id:X}'")):
        expand("{station_id:X}", station_id="CP-1")
