"""Matchers: YAML syntax, judgements with path/expected/actual, and their algebra."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.scenario.matchers import (
    MATCHER_KEYWORDS,
    Absent,
    AllOf,
    Approx,
    Equals,
    MatcherSyntaxError,
    Not,
    OneOf,
    Present,
    Regex,
    Subset,
    match,
    parse_matcher,
)
from harness.scenario.values import ParamRef, SubstitutionError

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8).filter(lambda s: "${" not in s)
)
# Payload field names; matcher keywords (snake_case) are reserved and cannot be field names.
FIELD_NAMES = st.from_regex(r"[a-z][A-Za-z]{0,6}", fullmatch=True).filter(
    lambda name: name not in MATCHER_KEYWORDS
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(FIELD_NAMES, inner, max_size=4),
    max_leaves=12,
)


def test_yaml_forms_parse_to_matchers() -> None:
    assert parse_matcher("Accepted") == Equals("Accepted")
    assert parse_matcher({"one_of": ["A", "B"]}) == OneOf(("A", "B"))
    assert parse_matcher({"approx": 16, "tol": 0.5}) == Approx(16.0, abs_tol=0.5)
    assert parse_matcher({"regex": "^x$"}) == Regex("^x$")
    assert parse_matcher({"present": True}) == Present()
    assert parse_matcher({"absent": True}) == Absent()
    assert parse_matcher({"status": "Accepted"}) == Subset((("status", Equals("Accepted")),))
    assert parse_matcher({"limit": "${limit_a}"}) == Subset(
        (("limit", Equals(ParamRef("limit_a"))),)
    )
    assert parse_matcher({"all_of": [{"present": True}, 1]}) == AllOf((Present(), Equals(1)))


@pytest.mark.parametrize(
    ("raw", "message", "path"),
    [
        ({"one_of": []}, "one_of expects a non-empty list of values, got []", ("one_of",)),
        ({"approx": 1}, "approx needs 'tol' (absolute) or 'rel_tol' (relative)", ()),
        ({"approx": "x", "tol": 1}, "approx expects a number, got 'x'", ("approx",)),
        ({"approx": 1, "tol": -1}, "tol expects a number of zero or more, got -1", ("tol",)),
        ({"regex": "("}, "regex '(' does not compile", ("regex",)),
        ({"present": False}, "present expects 'true', got False", ("present",)),
        (
            {"a": {"all_of": 3}},
            "all_of expects a non-empty list of matchers, got 3",
            ("a", "all_of"),
        ),
        ({"regex": "x", "one_of": [1]}, "expected one matcher keyword", ()),
        ({"tol": 1}, "'tol'/'rel_tol' need 'approx' beside them", ()),
        ({"regex": "x", "tol": 1}, "'tol' belongs with 'approx', not 'regex'", ()),
        ({"x": "${now}"}, "a matcher cannot compare with ${now}", ("x",)),
    ],
)
def test_bad_matchers_say_what_and_where(raw: Any, message: str, path: tuple[Any, ...]) -> None:
    with pytest.raises(MatcherSyntaxError) as caught:
        parse_matcher(raw)
    assert message in caught.value.message
    assert caught.value.path == path


def test_subset_reports_the_path_of_the_first_difference() -> None:
    matcher = parse_matcher(
        {"status": "Accepted", "schedule": {"periods": [{"limit": {"approx": 16, "tol": 0.5}}]}}
    )
    actual = {"status": "Accepted", "schedule": {"periods": [{"limit": 17.0, "startPeriod": 0}]}}
    result = match(matcher, actual)
    assert not result.matched
    assert result.path == "$.schedule.periods[0].limit"
    assert result.expected == "16 ± 0.5"
    assert result.actual == "17.0"


def test_one_of_lists_every_acceptable_outcome() -> None:
    result = match(
        parse_matcher({"status": {"one_of": ["Accepted", "Rejected"]}}), {"status": "Faulted"}
    )
    assert (result.matched, result.path) == (False, "$.status")
    assert result.expected == 'one of "Accepted", "Rejected"'
    assert result.actual == '"Faulted"'


def test_missing_field_is_absent_in_actual() -> None:
    result = match(parse_matcher({"transactionId": {"present": True}}), {})
    assert (result.matched, result.path, result.actual) == (False, "$.transactionId", "absent")
    assert match(parse_matcher({"x": {"absent": True}}), {}).matched
    assert not match(parse_matcher({"x": {"absent": True}}), {"x": None}).matched


def test_list_is_item_by_item_and_contains_is_unordered() -> None:
    assert match(parse_matcher([1, 2]), [1, 2]).matched
    assert not match(parse_matcher([1, 2]), [1, 2, 3]).matched
    assert not match(parse_matcher([1, 2]), [2, 1]).matched
    contains = parse_matcher({"contains": [{"a": 1}, {"a": 1}]})
    assert match(contains, [{"a": 1, "b": 0}, {"c": 2}, {"a": 1}]).matched
    assert not match(contains, [{"a": 1}, {"c": 2}]).matched  # each needs its own element


def test_regex_is_a_full_match_on_text_only() -> None:
    matcher = parse_matcher({"regex": "[0-9]+"})
    assert match(matcher, "123").matched
    assert not match(matcher, "123a").matched
    assert not match(matcher, 123).matched


def test_booleans_are_not_numbers() -> None:
    assert not match(Equals(1), True).matched
    assert not match(Approx(1.0, abs_tol=0.5), True).matched
    assert match(Equals(16), 16.0).matched


def test_a_received_decimal_equals_the_cases_float() -> None:
    # A station's fractional numbers parse to Decimal; a case writes 10.0 in YAML.
    assert match(Equals(10.0), Decimal("10.0")).matched
    assert match(parse_matcher({"limit": 10.0}), {"limit": Decimal("10.0")}).matched
    assert not match(Equals(10.0), Decimal("10.5")).matched
    assert not match(Equals(10.0), "10.0").matched
    assert match(Equals(10.0), Decimal("6.0")).actual == "6.0"  # a number, not a text


def test_references_resolve_from_variables() -> None:
    matcher = parse_matcher(
        {"transactionId": "${tx}", "limit": {"approx": "${limit_a}", "tol": 0.1}}
    )
    assert match(
        matcher, {"transactionId": 7, "limit": 16.05}, variables={"tx": 7, "limit_a": 16}
    ).matched
    assert not match(
        matcher, {"transactionId": 8, "limit": 16}, variables={"tx": 7, "limit_a": 16}
    ).matched


def test_any_of_and_all_of() -> None:
    either = parse_matcher({"any_of": [{"status": "Rejected"}, {"status": "NotSupported"}]})
    assert match(either, {"status": "NotSupported"}).matched
    result = match(either, {"status": "Accepted"})
    assert not result.matched
    assert result.expected == '{status: "Rejected"} or {status: "NotSupported"}'
    both = parse_matcher({"all_of": [{"present": True}, {"regex": "A.*"}]})
    assert match(both, "Accepted").matched
    assert not match(both, "Rejected").matched


def test_relative_tolerance() -> None:
    matcher = parse_matcher({"approx": 7400, "rel_tol": 0.05})
    assert match(matcher, 7030).matched
    assert not match(matcher, 7029).matched


@settings(max_examples=50, deadline=None)
@given(json_values)
def test_a_value_equals_itself(value: Any) -> None:
    assert match(Equals(value), value).matched


@settings(max_examples=50, deadline=None)
@given(json_values)
def test_a_value_matches_its_own_yaml_form(value: Any) -> None:
    assert match(parse_matcher(value), value).matched


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), json_scalars, max_size=5),
    st.dictionaries(st.from_regex(r"[A-Z]{1,5}", fullmatch=True), json_scalars, max_size=5),
)
def test_subset_ignores_extra_fields(expected: dict[str, Any], extra: dict[str, Any]) -> None:
    assert match(parse_matcher(expected), {**expected, **extra}).matched


@given(
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.floats(0, 1e3),
)
def test_approx_is_symmetric(a: float, b: float, tol: float) -> None:
    assert match(Approx(a, abs_tol=tol), b).matched == match(Approx(b, abs_tol=tol), a).matched
    assert match(Approx(a, abs_tol=tol), b).matched == (abs(a - b) <= tol)


@settings(max_examples=50, deadline=None)
@given(json_values, json_values)
def test_one_of_is_equals_to_any_option(a: Any, b: Any) -> None:
    value = b
    assert match(OneOf((a, b)), value).matched
    assert match(OneOf((a,)), value).matched == match(Equals(a), value).matched


def test_references_inside_texts_and_nested_values_resolve() -> None:
    matcher = parse_matcher(
        {"idTag": "EV-${n}", "all": {"equals": {"a": ["${n}"]}}, "s": {"one_of": ["${tag}", "x"]}}
    )
    actual = {"idTag": "EV-7", "all": {"a": [7]}, "s": "T1"}
    assert match(matcher, actual, variables={"n": 7, "tag": "T1"}).matched
    assert not match(matcher, {**actual, "idTag": "EV-8"}, variables={"n": 7, "tag": "T1"})


def test_now_is_rejected_anywhere_in_a_matcher() -> None:
    with pytest.raises(MatcherSyntaxError, match=r"cannot compare with \$\{now\}") as caught:
        parse_matcher({"equals": {"a": {"b": "${now}"}}})
    assert caught.value.path == ("equals", "a", "b")


def test_unknown_variable_at_match_time_is_a_harness_error() -> None:
    with pytest.raises(SubstitutionError, match="unknown variable"):
        match(parse_matcher({"a": "${missing}"}), {"a": 1})


def test_not_matches_a_present_value_the_inner_matcher_rejects() -> None:
    matcher = parse_matcher({"id": {"not": "${first}"}})
    assert matcher == Subset((("id", Not(Equals(ParamRef("first")))),))
    assert match(matcher, {"id": 101}, variables={"first": 100}).matched
    same = match(matcher, {"id": 100}, variables={"first": 100})
    assert not same.matched
    assert (same.path, same.expected, same.actual) == ("$.id", "not 100", "100")
    assert not match(matcher, {}, variables={"first": 100}).matched  # absent never matches
    assert match(parse_matcher({"not": {"one_of": [1, 2]}}), 3).matched
    with pytest.raises(MatcherSyntaxError):
        parse_matcher({"not": {"regex": 5}})


def test_every_item_and_at_most_judge_a_schedule_within_a_limit() -> None:
    within = parse_matcher({"chargingSchedulePeriod": {"every": {"limit": {"at_most": 6}}}})
    periods = [{"limit": Decimal("6.0")}, {"limit": 5}]
    assert match(within, {"chargingSchedulePeriod": periods}).matched
    assert match(within, {"chargingSchedulePeriod": []}).matched  # no item breaks it
    over = match(within, {"chargingSchedulePeriod": [{"limit": 6}, {"limit": 6.5}]})
    assert not over.matched
    assert over.path == "$.chargingSchedulePeriod[1].limit"
    assert (over.expected, over.actual) == ("≤ 6", "6.5")
    assert not match(within, {"chargingSchedulePeriod": {"limit": 1}}).matched  # not a list
    assert not match(parse_matcher({"at_most": 6}), True).matched  # booleans are not numbers


def test_at_most_takes_a_parameter_and_rejects_what_is_not_a_number() -> None:
    bound = parse_matcher({"at_most": "${limit_a}"})
    assert match(bound, 8, variables={"limit_a": 10}).matched
    assert not match(bound, 12, variables={"limit_a": 10}).matched
    with pytest.raises(MatcherSyntaxError, match="at_most expects a number"):
        parse_matcher({"at_most": "six"})
