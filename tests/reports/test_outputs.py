"""JSON (against the shipped schema), Markdown and CSV outputs."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.results import Manifest, Verdict
from harness.transport.base import OcppSubprotocol
from reports import (
    ReportFormat,
    build_report,
    markdown_summary,
    report_dict,
    report_schema,
    write_reports,
)

from .builders import CP1, T0, ev, result, store_run


def validator() -> jsonschema.Draft202012Validator:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_json_validates_against_the_documented_schema(rendered: dict[ReportFormat, Path]) -> None:
    document = json.loads(rendered[ReportFormat.JSON].read_text(encoding="utf-8"))
    validator().validate(document)
    line = "5 passed, 2 failed, 1 inconclusive, 2 skipped, 1 errors"
    assert document["summary"]["line"] == line
    keys = {case["key"] for case in document["cases"]}
    assert len(keys) == 11
    cells = [c for m in document["matrices"] for r in m["rows"] for c in r["cells"] if c]
    assert {c["key"] for c in cells} == keys  # every case is in exactly one matrix
    assert all(c["href"] == f"cases/{c['key']}.html" for c in cells)
    cp1 = document["matrices"][0]
    assert cp1["overall"] == {
        "passed": 1,
        "counted": 3,
        "by_count": pytest.approx(1 / 3),
        "weighted": pytest.approx(0.1),
    }
    assert [r["share"] for r in cp1["rows"]] == pytest.approx([0.6, 0.3, 0.1])


def test_schema_is_not_vacuous(rendered: dict[ReportFormat, Path]) -> None:
    document = json.loads(rendered[ReportFormat.JSON].read_text(encoding="utf-8"))
    for mutate in (
        lambda d: d["cases"][0].__setitem__("verdict", "OK"),
        lambda d: d["matrices"][0]["rows"][0].__setitem__("outcome", "great"),
        lambda d: d["matrices"][0]["overall"].__setitem__("weighted", 1.5),
        lambda d: d.pop("summary"),
        lambda d: d["cases"][0].__setitem__("surprise", 1),
    ):
        broken = copy.deepcopy(document)
        mutate(broken)
        assert not validator().is_valid(broken)


def test_markdown_summary(rendered: dict[ReportFormat, Path]) -> None:
    text = rendered[ReportFormat.MARKDOWN].read_text(encoding="utf-8")
    assert "**5 passed, 2 failed, 1 inconclusive, 2 skipped, 1 errors**" in text
    assert "### Vehicles at station CP-1 (Acme Wallbox)" in text
    assert (
        "**vehicles covering 10 % of the tested market share passed (1 of 3 models, 33.3 %)**"
    ) in text
    # VP-01 at CP-1: ev-a PASS, ev-b FAIL, ev-c NON_STRICT (a pass): 2 of 3; share 0.6 + 0.1
    assert "| VP-01 | case VP-01 | 2/3 | 66.7 % | 70 % | 1 | 1 | 0 | 0 | 0 |" in text
    assert (
        "- **VP-01** CP-1 + ev-b — FAIL: K01.FR.31 (MUST): expected \\<= 6 A within 15 s; "
        "actual 16 A after 15 s"
    ) in text
    assert "INCONCLUSIVE" in text


def test_markdown_escapes_table_breaking_text() -> None:
    manifest = Manifest(
        run_id="r", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,)
    )
    case = result("VP|01", (CP1, ev("ev-a")), Verdict.PASS, title="a | b\nc")
    text = markdown_summary(build_report(manifest, [case]))
    assert "| VP\\|01 | a \\| b c |" in text


def test_csv_matrix(rendered: dict[ReportFormat, Path]) -> None:
    with rendered[ReportFormat.CSV].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 + 2 + 2
    first = rows[0]
    assert (first["matrix"], first["device_id"], first["outcome"]) == (
        "vehicles-at-CP-1",
        "ev-a",
        "failed",
    )
    assert (first["VP-01"], first["VP-14"], first["TC_066_CS"]) == ("PASS", "FAIL", "")
    assert float(first["market_share"]) == pytest.approx(0.6)
    ev_c = rows[2]
    assert (ev_c["device_label"], ev_c["VP-01"], ev_c["passed"]) == (
        "Model ev-c <C> & co",
        "NON_STRICT",
        "2",
    )
    station = rows[5]
    assert (station["device_kind"], station["TC_066_CS"], station["TC_070_CS"]) == (
        "station",
        "PASS",
        "NOT_APPLICABLE",
    )
    assert station["market_share"] == ""


VERDICT = st.sampled_from(list(Verdict))
SHARE = st.one_of(st.none(), st.floats(min_value=0, max_value=1e9))


@settings(max_examples=25, deadline=None)
@given(
    grid=st.lists(st.tuples(SHARE, VERDICT, VERDICT), min_size=1, max_size=6), strict=st.booleans()
)
def test_any_report_validates_against_the_schema(
    grid: list[tuple[float | None, Verdict, Verdict]], strict: bool
) -> None:
    results = []
    for i, (share, *verdicts) in enumerate(grid):
        vehicle = ev(f"ev-{i}", share)
        for case_id, verdict in zip(("VP-01", "VP-02"), verdicts, strict=True):
            results.append(result(case_id, (CP1, vehicle), verdict))
        if i == 0:
            results.append(result("TC_066_CS", (CP1,), verdicts[0], suite="oca-2.0.1"))
    manifest = Manifest(
        run_id="r", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,)
    )
    report = build_report(manifest, results, strict=strict)
    document = json.loads(json.dumps(report_dict(report)))
    validator().validate(document)
    assert len(document["cases"]) == len(results)


def test_a_run_without_results_still_reports(tmp_path: Path) -> None:
    run = store_run(tmp_path / "runs", [], finished=False)
    paths = write_reports(run, tmp_path / "out", list(ReportFormat))
    validator().validate(json.loads(paths[ReportFormat.JSON].read_text(encoding="utf-8")))
    index = paths[ReportFormat.HTML].read_text(encoding="utf-8")
    assert "0 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors" in index
    assert "the run did not finish" in index
    junit = paths[ReportFormat.JUNIT].read_text(encoding="utf-8")
    assert 'tests="1"' in junit  # only the marker of the unfinished run
    assert 'type="INCOMPLETE_RUN"' in junit
    header = "matrix,device_kind,device_id,device_label,market_share,outcome,passed,failed,"
    assert paths[ReportFormat.CSV].read_text(encoding="utf-8").splitlines() == [
        header + "inconclusive,skipped,errors"
    ]
