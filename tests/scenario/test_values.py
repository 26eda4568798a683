"""Durations, ``${...}`` references, substitution and payload paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.scenario.values import (
    NowRef,
    ParamRef,
    PathError,
    SubstitutionError,
    extract,
    parse_duration_s,
    parse_whole_ref,
    references_in,
    substitute,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(5, 5.0), (2.5, 2.5), ("90s", 90.0), ("20min", 1200.0), ("6h", 21600.0), ("1h30min", 5400.0),
     ("500ms", 0.5), ("2d", 172800.0), ("15 m", 900.0), ("42", 42.0)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "1h x", "", "-3", True, None, "h", float("inf")])
def test_bad_durations_say_what_was_expected(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration_s(bad)


@given(st.integers(0, 10**5), st.integers(0, 59), st.integers(0, 59))
def test_duration_units_add_up(hours: int, minutes: int, seconds: int) -> None:
    text = f"{hours}h{minutes}min{seconds}s"
    assert parse_duration_s(text) == hours * 3600 + minutes * 60 + seconds


def test_whole_references() -> None:
    assert parse_whole_ref("${limit_a}") == ParamRef("limit_a")
    assert parse_whole_ref("${now}") == NowRef(0.0)
    assert parse_whole_ref("${now-4s}") == NowRef(-4.0)
    assert parse_whole_ref("${now+5min}") == NowRef(300.0)
    assert parse_whole_ref("tag-${x}") is None
    with pytest.raises(SubstitutionError, match="is not a reference"):
        parse_whole_ref("${1abc}")
    with pytest.raises(SubstitutionError, match="bad offset"):
        parse_whole_ref("${now+4x}")
    # a shift may name a duration parameter (the OCA memory states' "now − deviation")
    assert parse_whole_ref("${now-max_time_deviation}") == NowRef(
        0.0, ((-1, "max_time_deviation"),)
    )
    ref = parse_whole_ref("${now-dev+401s}")
    assert ref == NowRef(401.0, ((-1, "dev"),))
    assert isinstance(ref, NowRef)
    assert ref.shift_s({"dev": 1.5}) == 399.5


def test_substitution_keeps_types_and_interpolates_text() -> None:
    template = {
        "limit": "${limit_a}",
        "id": "${tx}",
        "tag": "EV-${tx}-${limit_a}",
        "start": "${now-4s}",
        "periods": [{"limit": "${limit_a}"}],
        "literal": "$${not_a_ref}",
        "plain": 3,
    }
    result = substitute(template, variables={"limit_a": 16.0, "tx": 7}, now=NOW)
    assert result == {
        "limit": 16.0,
        "id": 7,
        "tag": "EV-7-16",
        "start": "2025-03-01T11:59:56.000Z",
        "periods": [{"limit": 16.0}],
        "literal": "${not_a_ref}",
        "plain": 3,
    }


def test_unknown_variable_is_an_error() -> None:
    with pytest.raises(SubstitutionError, match=r"unknown variable '\$\{nope\}' \(known: a\)"):
        substitute({"x": "${nope}"}, variables={"a": 1}, now=NOW)


def test_references_are_found_with_their_paths() -> None:
    found = references_in({"a": ["x", "${p}"], "b": {"c": "t ${now+1s} ${q}"}})
    assert found == [
        (("a", 1), ParamRef("p")),
        (("b", "c"), NowRef(1.0)),
        (("b", "c"), ParamRef("q")),
    ]


def test_extract_follows_paths() -> None:
    payload = {"transactionInfo": {"transactionId": "abc"}, "periods": [{"limit": 6}, {"limit": 8}]}
    assert extract(payload, "transactionInfo.transactionId") == "abc"
    assert extract(payload, "periods[1].limit") == 8
    with pytest.raises(PathError, match=r"\$.periods has no item \[2\]"):
        extract(payload, "periods[2].limit")
    with pytest.raises(PathError, match="has no field 'idTag'"):
        extract(payload, "idTag")
