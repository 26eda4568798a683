"""The matrix model: layout, totals, outcomes, and pass rates by count and by market share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.results import DeviceKind, Manifest, Verdict
from harness.transport.base import OcppSubprotocol
from reports import Report, RowOutcome, build_report

from .builders import CP1, CP2, T0, ev, interrupted, result

P, F, N, NA = Verdict.PASS, Verdict.FAIL, Verdict.NON_STRICT, Verdict.NOT_APPLICABLE


def manifest(*devices: object) -> Manifest:
    return Manifest(
        run_id="run-1",
        started_at=T0,
        target="sim",
        ocpp_versions=(OcppSubprotocol.V201,),
        devices=tuple(devices),
    )  # type: ignore[arg-type]


# The hand-checked fleet: four vehicle models at one station, two cases.
# Shares 8, 6, 4, 2 add up to 20 and normalise to 0.4, 0.3, 0.2, 0.1.
#
#            share  VP-01  VP-02
#   ev-a      0.4   PASS   PASS
#   ev-b      0.3   FAIL   PASS
#   ev-c      0.2   PASS   NOT_APPLICABLE
#   ev-d      0.1   PASS   NON_STRICT
FLEET = {"ev-a": 8.0, "ev-b": 6.0, "ev-c": 4.0, "ev-d": 2.0}
GRID = {"ev-a": (P, P), "ev-b": (F, P), "ev-c": (P, NA), "ev-d": (P, N)}


def fleet_report(*, strict: bool) -> Report:
    vehicles = {i: ev(i, share) for i, share in FLEET.items()}
    results = [
        result(case_id, (CP1, vehicles[i]), verdict)
        for i, verdicts in GRID.items()
        for case_id, verdict in zip(("VP-01", "VP-02"), verdicts, strict=True)
    ]
    return build_report(manifest(CP1, *vehicles.values()), results, strict=strict)


def test_weighted_and_count_rates_differ_as_computed_by_hand() -> None:
    report = fleet_report(strict=False)
    (matrix,) = report.matrices
    assert matrix.id == "vehicles-at-CP-1"
    assert [r.share for r in matrix.rows] == pytest.approx([0.4, 0.3, 0.2, 0.1])
    outcomes = {r.device.id: r.outcome for r in matrix.rows}
    # ev-b fails VP-01; ev-c's NOT_APPLICABLE does not count against it; ev-d's NON_STRICT
    # counts as a pass (not strict).
    assert outcomes == {
        "ev-a": RowOutcome.PASSED,
        "ev-b": RowOutcome.FAILED,
        "ev-c": RowOutcome.PASSED,
        "ev-d": RowOutcome.PASSED,
    }
    # overall: 3 of 4 by count = 0.75; by share (0.4 + 0.2 + 0.1) / 1.0 = 0.70
    assert (matrix.overall.passed, matrix.overall.counted) == (3, 4)
    assert matrix.overall.by_count == pytest.approx(0.75)
    assert matrix.overall.weighted == pytest.approx(0.70)
    vp01, vp02 = matrix.column_stats
    # VP-01: a, c, d pass of 4 -> 0.75; by share (0.4 + 0.2 + 0.1) / 1.0 = 0.70
    assert (vp01.rate.passed, vp01.rate.counted) == (3, 4)
    assert vp01.rate.weighted == pytest.approx(0.70)
    # VP-02: ev-c not applicable, left out: a, b, d pass of 3 -> 1.0; by share 0.8 / 0.8 = 1.0
    assert (vp02.rate.passed, vp02.rate.counted) == (3, 3)
    assert vp02.rate.weighted == pytest.approx(1.0)
    assert matrix.headline() == (
        "vehicles covering 70 % of the tested market share passed (3 of 4 models, 75 %)"
    )
    assert "normalised over the 4 devices" in (matrix.weighting_note or "")


def test_strict_counts_non_strict_as_fail_everywhere() -> None:
    report = fleet_report(strict=True)
    (matrix,) = report.matrices
    outcomes = {r.device.id: r.outcome for r in matrix.rows}
    assert outcomes["ev-d"] is RowOutcome.FAILED
    # overall: a and c pass, 2 of 4 = 0.5; by share (0.4 + 0.2) / 1.0 = 0.6
    assert matrix.overall.by_count == pytest.approx(0.5)
    assert matrix.overall.weighted == pytest.approx(0.6)
    # VP-02: a and b pass of a, b, d -> 2/3; by share (0.4 + 0.3) / (0.4 + 0.3 + 0.1) = 0.875
    vp02 = matrix.column_stats[1]
    assert (vp02.rate.passed, vp02.rate.counted) == (2, 3)
    assert vp02.rate.weighted == pytest.approx(0.875)
    assert report.summary.failed == 2  # ev-b VP-01 and ev-d VP-02
    cell = matrix.rows[3].cells[1]
    assert cell is not None
    assert (cell.verdict, cell.effective) == (N, F)


def test_totals_per_row_column_and_matrix() -> None:
    (matrix,) = fleet_report(strict=False).matrices
    rows = {r.device.id: r for r in matrix.rows}
    assert rows["ev-b"].totals.counts[F] == 1
    assert rows["ev-b"].totals.counts[P] == 1
    assert rows["ev-c"].totals.skipped == 1
    assert rows["ev-d"].totals.passed == 2  # PASS + NON_STRICT, not strict
    vp01, vp02 = matrix.column_stats
    assert (vp01.totals.counts[P], vp01.totals.counts[F]) == (3, 1)
    assert (vp02.totals.counts[P], vp02.totals.counts[NA], vp02.totals.counts[N]) == (2, 1, 1)
    assert matrix.totals.total == 8
    assert dict(matrix.totals.counts) == {
        P: 5,
        F: 1,
        N: 1,
        NA: 1,
        Verdict.INCONCLUSIVE: 0,
        Verdict.ERROR: 0,
    }


def test_one_vehicle_matrix_per_station_and_a_station_matrix_for_ocpp_suites() -> None:
    a, b = ev("ev-a", 1), ev("ev-b", 3)
    results = [
        result("VP-01", (CP1, a), P),
        result("VP-01", (CP1, b), F),
        result("VP-01", (CP2, a), P),
        result("VP-01", (CP2, b), P),
        result("TC_066_CS", (CP1,), P, suite="oca-2.0.1", category="smart-charging"),
        result("TC_066_CS", (CP2,), F, suite="oca-2.0.1", category="smart-charging"),
        result("TC_001_CS", (CP2,), P, suite="oca-2.0.1", category="provisioning"),
    ]
    report = build_report(manifest(CP1, CP2, a, b), results)
    assert [m.id for m in report.matrices] == ["vehicles-at-CP-1", "vehicles-at-CP-2", "stations"]
    cp1, cp2, stations = report.matrices
    assert cp1.title == "Vehicles at station CP-1 (Acme Wallbox)"
    assert [r.device.id for r in cp1.rows] == ["ev-a", "ev-b"]
    assert cp1.overall.weighted == pytest.approx(0.25)  # only ev-a (1 of 1 + 3) passes
    assert cp2.overall.weighted == pytest.approx(1.0)
    assert stations.row_kind is DeviceKind.STATION
    assert [r.device.id for r in stations.rows] == ["CP-1", "CP-2"]
    # grouped by suite, then category: provisioning before smart-charging
    assert [c.case_id for c in stations.columns] == ["TC_001_CS", "TC_066_CS"]
    cp1_row = stations.rows[0]
    assert cp1_row.cells[0] is None  # TC_001_CS not run on CP-1
    assert cp1_row.outcome is RowOutcome.UNRESOLVED
    assert stations.rows[1].outcome is RowOutcome.FAILED
    assert stations.overall.weighted is None  # stations carry no market share
    assert stations.headline() == "0 of 2 stations passed (0 %)"


def test_missing_cells_errors_and_all_not_applicable_rows() -> None:
    a, b, c, d = ev("ev-a", 1), ev("ev-b", 1), ev("ev-c", 1), ev("ev-d", 1)
    results = [
        result("VP-01", (CP1, a), P),
        result("VP-02", (CP1, a), P),
        result("VP-01", (CP1, b), P),  # VP-02 missing: not passed
        result("VP-01", (CP1, c), NA),
        result("VP-02", (CP1, c), NA),  # nothing applies
        interrupted("VP-01", (CP1, d)),
        result("VP-02", (CP1, d), P),
    ]
    (matrix,) = build_report(manifest(), results).matrices
    outcomes = [r.outcome for r in matrix.rows]
    assert outcomes == [
        RowOutcome.PASSED,
        RowOutcome.UNRESOLVED,
        RowOutcome.NOT_APPLICABLE,
        RowOutcome.UNRESOLVED,
    ]
    assert matrix.rows[1].missing == 1
    # ev-c is left out of the overall rate: 1 of 3 (ev-a of a, b, d)
    assert (matrix.overall.passed, matrix.overall.counted) == (1, 3)
    # VP-01: a, b pass; c not applicable (out); d inconclusive counts as not passed -> 2/3
    assert (matrix.column_stats[0].rate.passed, matrix.column_stats[0].rate.counted) == (2, 3)
    # VP-02: b missing (out), c n/a (out): a, d pass -> 2/2
    assert (matrix.column_stats[1].rate.passed, matrix.column_stats[1].rate.counted) == (2, 2)
    assert (matrix.rows[3].totals.inconclusive, matrix.rows[3].totals.errors) == (1, 0)


@pytest.mark.parametrize(
    ("shares", "needle"),
    [
        ({"ev-a": 1.0, "ev-b": None}, "no market_share for ev-b"),
        ({"ev-a": 1.0, "ev-b": "lots"}, "ev-b ('lots')"),
        ({"ev-a": 1.0, "ev-b": -2.0}, "ev-b (-2.0)"),
        ({"ev-a": 0.0, "ev-b": 0.0}, "add up to 0"),
    ],
)
def test_unusable_market_shares_leave_weighted_figures_out_and_say_why(
    shares: dict[str, object], needle: str
) -> None:
    vehicles = [ev(i, s) for i, s in shares.items()]  # type: ignore[arg-type]
    results = [result("VP-01", (CP1, v), P) for v in vehicles]
    (matrix,) = build_report(manifest(), results).matrices
    assert matrix.overall.weighted is None
    assert all(r.share is None for r in matrix.rows)
    assert needle in (matrix.weighting_note or "")
    assert matrix.headline() == "2 of 2 vehicles passed (100 %)"


def test_manifest_attributes_take_precedence_and_columns_sort_naturally() -> None:
    in_result, in_manifest = ev("ev-a"), ev("ev-a", 0.5)
    results = [result(cid, (CP1, in_result), P) for cid in ("VP-10", "VP-2", "VP-1")]
    (matrix,) = build_report(manifest(in_manifest), results).matrices
    assert [c.case_id for c in matrix.columns] == ["VP-1", "VP-2", "VP-10"]
    assert matrix.rows[0].share == pytest.approx(1.0)
    assert matrix.rows[0].cells[2] is not None
    assert matrix.rows[0].cells[2].href.startswith("cases/VP-10__CP-1+ev-a__")


VERDICTS = st.sampled_from([P, F, N, NA, Verdict.ERROR, Verdict.INCONCLUSIVE])


@given(
    grid=st.lists(st.tuples(VERDICTS, VERDICTS), min_size=1, max_size=8),
    share=st.floats(min_value=0.01, max_value=1e6),
    strict=st.booleans(),
)
def test_equal_shares_make_weighted_rates_equal_count_rates(
    grid: list[tuple[Verdict, Verdict]], share: float, strict: bool
) -> None:
    results = []
    for i, verdicts in enumerate(grid):
        vehicle = ev(f"ev-{i}", share)
        for case_id, verdict in zip(("VP-01", "VP-02"), verdicts, strict=True):
            if verdict is Verdict.ERROR:
                results.append(interrupted(case_id, (CP1, vehicle)))
            else:
                results.append(result(case_id, (CP1, vehicle), verdict))
    (matrix,) = build_report(manifest(), results, strict=strict).matrices
    for rate in (matrix.overall, *(s.rate for s in matrix.column_stats)):
        if rate.counted:
            assert rate.weighted == pytest.approx(rate.by_count)
        else:
            assert rate.weighted is None
            assert rate.by_count is None
    passed_rows = sum(r.outcome is RowOutcome.PASSED for r in matrix.rows)
    assert matrix.overall.passed == passed_rows
