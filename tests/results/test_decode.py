"""The fast result decoder agrees with ``CaseResult.from_dict`` on every input: the same
result for a good line, the same error for a bad one. The lazy index of a run."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.results import (
    CaseResult,
    CheckResult,
    Interruption,
    Level,
    Manifest,
    Requirement,
    RunStore,
    RunStoreError,
    StepRecord,
    Verdict,
)
from harness.results._json import ResultFormatError
from harness.results.decode import ResultDecoder, _fields_of
from harness.results.devices import _UNSAFE, DeviceRef, _slug, case_key
from harness.transport.base import OcppSubprotocol

from .strategies import T0, case_results, devices, ids, info, json_values, result_for


def outcome(decode: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", decode(value)
    except ResultFormatError as exc:
        return "error", str(exc)
    except (TypeError, ValueError, AttributeError) as exc:  # as from_dict lets them through
        return type(exc).__name__, str(exc)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += paths(item, (*prefix, i))
    return out


def thawed(value: Any) -> Any:
    """A JSON value as ``json.loads`` gives it (tuples become lists)."""
    return json.loads(json.dumps(value))


@given(result=case_results())
def test_a_good_line_decodes_to_the_same_result(result: CaseResult) -> None:
    value = json.loads(result.to_json())
    decoded = ResultDecoder().decode(copy.deepcopy(value))
    assert decoded == CaseResult.from_dict(value) == result


@given(
    result=case_results(),
    choice=st.integers(min_value=0),
    replacement=json_values | st.sampled_from(["PASS", "MUST", "station", "ocpp1.6", -1, True]),
    delete=st.booleans(),
)
def test_a_changed_line_gives_what_from_dict_gives(
    result: CaseResult, choice: int, replacement: Any, delete: bool
) -> None:
    value = json.loads(result.to_json())
    where = paths(value)
    path = where[choice % len(where)]
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = thawed(replacement)
    fast = outcome(lambda v: ResultDecoder().decode(v), copy.deepcopy(value))
    slow = outcome(CaseResult.from_dict, copy.deepcopy(value))
    assert fast == slow


def test_one_decoder_for_many_lines_shares_requirements_and_devices() -> None:
    decoder = ResultDecoder()
    first, second = (decoder.decode(json.loads(result_for(i).to_json())) for i in (1, 2))
    assert first == result_for(1)
    assert second == result_for(2)
    assert first.checks[0].requirement is second.checks[0].requirement
    assert first.info.devices[0] is second.info.devices[0]


@given(case_id=ids | st.text(max_size=5), refs=st.lists(devices, max_size=3))
def test_the_key_hash_is_that_of_the_case_and_devices_as_json(
    case_id: str, refs: list[DeviceRef]
) -> None:
    pairs = sorted({(d.kind.value, d.id) for d in refs})
    text = json.dumps([case_id, pairs], ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    assert case_key(case_id, refs).endswith(f"__{digest}")


def _run(tmp_path: Path) -> Path:
    versions = (OcppSubprotocol.V16,)
    writer = RunStore.create(tmp_path, Manifest("r", T0, "sim", versions))
    writer.write_result(result_for(1))
    writer.write_result(result_for(2, Verdict.FAIL))
    writer.finish(finished_at=T0)
    return tmp_path / "r"


def test_the_index_gives_keys_and_verdicts_and_results_on_demand(tmp_path: Path) -> None:
    rows = list(RunStore.open(_run(tmp_path)).index())
    assert [(r.key, r.verdict) for r in rows] == [
        (result_for(1).key, Verdict.PASS),
        (result_for(2).key, Verdict.FAIL),
    ]
    assert [r.result() for r in rows] == [result_for(1), result_for(2, Verdict.FAIL)]


def test_the_index_checks_the_whole_result_when_asked(tmp_path: Path) -> None:
    run = _run(tmp_path)
    path = run / "results.jsonl"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace('"verdict": "PASS", "reason"', '"verdict": "FAIL", "reason"')
    path.write_text("\n".join(lines) + "\n")
    first = next(iter(RunStore.open(run).index()))
    assert first.verdict is Verdict.FAIL  # as stored
    with pytest.raises(RunStoreError, match=r"results\.jsonl:1: verdict: stored 'FAIL'"):
        first.result()


def test_an_index_line_without_key_or_verdict_names_its_line(tmp_path: Path) -> None:
    run = _run(tmp_path)
    with (run / "results.jsonl").open("a") as handle:
        handle.write('{"key": "x", "verdict": "MAYBE"}\n')
    with pytest.raises(RunStoreError, match=r"results\.jsonl:3: "):
        list(RunStore.open(run).index())


def _with_attributes(value: Any, attributes: Any) -> bool:
    """Set every device's ``attributes`` inside ``value`` to ``attributes``; any found?"""
    found = False
    if isinstance(value, dict):
        if "attributes" in value and "kind" in value:
            value["attributes"], found = attributes, True
        for item in value.values():
            found = _with_attributes(item, attributes) or found
    elif isinstance(value, list):
        for item in value:
            found = _with_attributes(item, attributes) or found
    return found


@pytest.mark.parametrize("attributes", [[1, 2], "fw 3.1", 7, [["a", "b"]]])
def test_device_attributes_that_are_not_an_object_are_a_format_error(attributes: Any) -> None:
    # Both decoders once let a TypeError (a traceback for the user) through here.
    value = json.loads(result_for(1).to_json())
    assert _with_attributes(value, attributes)
    for decode in (ResultDecoder().decode, CaseResult.from_dict):
        with pytest.raises(ResultFormatError, match="attributes: expected an object"):
            decode(copy.deepcopy(value))


# -- the fast path's objects, and the lines it reads ------------------------------------------


def _pickled(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))


def _outcome_of(round_trip: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", round_trip(value)
    except TypeError as exc:
        return "refused", str(exc)


def test_decoded_objects_are_the_models_own() -> None:
    """The fast path fills the slots itself: what comes out must still be the frozen model
    classes, equal to and hashing like constructed ones, and refusing assignment."""
    original = result_for(1, Verdict.PASS, Verdict.INCONCLUSIVE)
    steps = (StepRecord(T0, 0, "plugged in"),)
    stop = Interruption.inconclusive("the lab meter went silent")
    original = dataclasses.replace(original, steps=steps, interruption=stop)
    decoded = ResultDecoder().decode(json.loads(original.to_json()))
    assert decoded == original
    pairs: list[tuple[Any, Any]] = [
        (decoded, original),
        (decoded.info, original.info),
        (decoded.interruption, original.interruption),
        *zip(decoded.checks, original.checks, strict=True),
        *zip(decoded.steps, original.steps, strict=True),
        *zip(decoded.info.devices, original.info.devices, strict=True),
    ]
    for got, want in pairs:
        assert type(got) is type(want)
        assert got == want
        assert hash(got) == hash(want)
        for round_trip in (copy.deepcopy, _pickled):
            # (a mappingproxy inside, as in CaseInfo, takes neither: then both are refused)
            assert _outcome_of(round_trip, got) == _outcome_of(round_trip, want)
        first_field = dataclasses.fields(got)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(got, first_field, None)
    assert decoded.info.key == original.info.key
    assert decoded.verdict is original.verdict is Verdict.INCONCLUSIVE
    assert decoded.reason == original.reason


def test_a_model_field_the_fast_path_does_not_fill_is_refused_at_import() -> None:
    with pytest.raises(AssertionError, match="StepRecord has"):
        _fields_of(StepRecord, "t", "index")


@given(text=st.text(max_size=12) | st.sampled_from(["ev-1", "CP.1_a", "..x--", "", "é"]))
def test_a_slug_is_the_substitution(text: str) -> None:
    assert _slug.__wrapped__(text, 40) == (_UNSAFE.sub("-", text).strip("-.")[:40] or "x")


def _run_with_lines(tmp_path: Path, *lines: str) -> Path:
    run = _run(tmp_path)
    with (run / "results.jsonl").open("a", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    return run


@pytest.mark.parametrize("spaced", [lambda x: " " + x, lambda x: x + "  ", lambda x: x + "\r"])
def test_a_line_the_scanner_does_not_take_whole_is_read_as_json_loads_reads_it(
    tmp_path: Path, spaced: Any
) -> None:
    run = _run_with_lines(tmp_path, spaced(result_for(3).to_json()) + "\n")
    assert list(RunStore.open(run).results())[2] == result_for(3)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"a": 1} {"b": 2}\n', r"results\.jsonl:3: not a valid JSON line: Extra data"),
        ('{"a": \n', r"results\.jsonl:3: not a valid JSON line: Expecting value"),
        ("\n", r"results\.jsonl:3: not a valid JSON line: Expecting value"),
        ("[1, 2]\n", r"results\.jsonl:3: document: expected an object"),
    ],
)
def test_a_bad_line_is_named_as_before(tmp_path: Path, line: str, message: str) -> None:
    run = _run_with_lines(tmp_path, line)
    with pytest.raises(RunStoreError, match=message):
        list(RunStore.open(run).results())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda v: v["checks"][0].update(verdict="OK"), r"checks\[0\]\.verdict: expected one of"),
        (lambda v: v["checks"][0].update(frames=[1, "2"]), r"checks\[0\]\.frames\[1\]: expected"),
        (lambda v: v["checks"][0].update(frames=[-1]), r"frame references must be indices"),
        (lambda v: v["checks"][0].update(expected=" "), r"must say what was expected and seen"),
        (lambda v: v["checks"][0]["requirement"].update(level="MAY"), r"requirement\.level"),
        (lambda v: v["case"]["devices"][1].update(id=""), r"needs a non-empty id"),
        (lambda v: v["case"]["devices"][1].update(kind="station", id="CP-1"), r"listed twice"),
        (lambda v: v["case"].update(parameters={"x": float("nan")}), r"parameters\.x: numbers"),
        (lambda v: v.update(wall_duration_s=-1), r"wall_duration_s must be finite and >= 0"),
        (lambda v: v.update(wall_duration_s=True), r"wall_duration_s: expected a number"),
        (lambda v: v.update(started_at="2027-01-01T00:00:00Z"), r"is before started_at"),
        (lambda v: v.update(finished_at="yesterday"), r"finished_at: not an ISO 8601"),
        (lambda v: v.update(key="VP-01__x__0123456789ab"), r"key: stored 'VP-01__x__"),
        (lambda v: v.update(verdict="FAIL"), r"verdict: stored 'FAIL'"),
        (lambda v: v.update(steps=[{"t": T0.isoformat(), "index": -1, "text": ""}]), r"step index"),
        (lambda v: v.update(interruption={"verdict": "FAIL", "reason": "x"}), r"an interruption"),
        (lambda v: v.update(interruption={"verdict": "ERROR", "reason": " "}), r"needs a reason"),
    ],
)
def test_a_wrong_field_is_named_with_its_file_and_line(
    tmp_path: Path, edit: Any, message: str
) -> None:
    value = json.loads(result_for(3).to_json())
    edit(value)
    run = _run_with_lines(tmp_path, json.dumps(value, ensure_ascii=False) + "\n")
    with pytest.raises(RunStoreError, match=r"results\.jsonl:3: .*" + message):
        list(RunStore.open(run).results())
    assert [r.key for r in RunStore.open(run).index()][:2] == [
        result_for(1).key,
        result_for(2).key,
    ]


def test_requirements_of_one_id_with_other_texts_or_levels_are_kept_apart() -> None:
    must = Requirement("VP-01", Level.MUST, "settles")
    should = Requirement("VP-01", Level.SHOULD, "settles")
    other = Requirement("VP-01", Level.MUST, "settles quickly")
    decoder = ResultDecoder()
    for requirement in (must, should, other, must, other, should):
        check = CheckResult.failed(requirement, expected="≤ 6 A", actual="16 A")
        result = CaseResult(info(), T0, T0, 0.1, checks=(check,))
        decoded = decoder.decode(json.loads(result.to_json()))
        assert decoded == result
        assert decoded.checks[0].requirement == requirement
        assert decoded.checks[0].verdict is check.verdict
