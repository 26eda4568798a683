"""The matrix model: a stored run's case results as devices × cases matrices with figures.

Layout (one :class:`Matrix` per *context*):

* a result of the **vehicle programme** (a suite named ``vehicle-programme*``: the cases
  that judge the vehicle) goes into the matrix of its station(s): rows are vehicles, columns
  are the programme's cases ("Vehicles at station CP-1"), one matrix per station, as a lab
  publishes it;
* any other result goes into the matrix of its device kind: rows are stations (the OCPP
  conformance suites, certification style) or CSMS, columns are cases. A station case that
  ran with a vehicle plugged in (the simulator's reference vehicle) still judges the
  station: the vehicle does not make it a vehicle-programme result.

Columns are grouped by suite, then category, then case id (digits compared as numbers).
Each cell holds the case verdict and a relative link to its evidence (``cases/<key>.html``).

Figures (``strict`` decides whether ``NON_STRICT`` counts as pass or fail):

* **row outcome** -- a device *passes* when it passes every applicable case: every cell
  of its row is PASS (or NON_STRICT unless strict) or NOT_APPLICABLE, at least one is
  judged, and no case of the matrix is missing from its row. Any FAIL makes it *fail*;
  otherwise ERROR, INCONCLUSIVE or a missing case leave it *unresolved*: not judged in
  full, so it counts as not passed (:data:`OUTCOME_WORDS` says this for the legend).
  A row whose cells are all NOT_APPLICABLE is *not applicable* and is left out of rates.
* **pass rate per case** (column) -- passed cells / cells that are present and not
  NOT_APPLICABLE (ERROR and INCONCLUSIVE count as not passed; cases not run are left out).
* **overall pass rate** -- passed rows / rows that are not *not applicable*.
* **weighted by market share** -- each row's weight is its device's
  ``attributes["market_share"]`` normalised over the rows of the matrix (so shares given as
  fractions or as percentages give the same figures); a rate is the weight of passing rows
  over the weight of the rows it counts. When any row lacks a usable share the weighted
  figures are ``None`` and :attr:`Matrix.weighting_note` says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from harness.results import CaseResult, DeviceKind, DeviceRef, Manifest, Summary, Verdict

__all__ = [
    "Cell",
    "Column",
    "ColumnStats",
    "Matrix",
    "Rate",
    "Report",
    "Row",
    "RowOutcome",
    "build_report",
    "case_href",
    "is_programme_result",
    "natural_key",
]

PROGRAMME_SUITE_PREFIX = "vehicle-programme"
"""Suites whose names start with this judge the vehicle (as
:data:`harness.runner.inputs.VEHICLE_SUITE_PREFIX`); their results make the vehicle matrices."""

MARKET_SHARE = "market_share"
"""The device attribute that carries a vehicle model's market share (fleet file figure)."""


def case_href(key: str) -> str:
    """The relative link from the report's index to a case's detail page."""
    return f"cases/{key}.html"


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key comparing runs of digits as numbers (``VP-2`` before ``VP-10``)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in _DIGITS.split(text)
        if part
    )


class RowOutcome(StrEnum):
    """Whether a row's device passed the matrix (see the module docstring)."""

    PASSED = "passed"
    FAILED = "failed"
    UNRESOLVED = "unresolved"
    NOT_APPLICABLE = "not_applicable"


OUTCOME_WORDS: Mapping[RowOutcome, str] = {
    RowOutcome.PASSED: "every applicable case passed",
    RowOutcome.FAILED: "at least one case FAILed",
    RowOutcome.UNRESOLVED: (
        "no FAIL, but a case was INCONCLUSIVE, ERROR or not run: not judged in full, counts "
        "as not passed"
    ),
    RowOutcome.NOT_APPLICABLE: "no case applied: left out of the figures",
}
"""What each row outcome means, for the legends of the renderings."""


@dataclass(frozen=True, slots=True)
class Column:
    """One case of a matrix."""

    case_id: str
    title: str
    suite: str
    category: str


@dataclass(frozen=True, slots=True)
class Cell:
    """One case run against one row device: its verdict and the link to its evidence."""

    case_id: str
    key: str
    verdict: Verdict
    effective: Verdict
    reason: str

    @property
    def href(self) -> str:
        """Relative link to the detail page (``cases/<key>.html``)."""
        return case_href(self.key)

    @property
    def passed(self) -> bool:
        """True when the cell counts as a pass (PASS, or NON_STRICT unless strict)."""
        return self.effective is Verdict.PASS


@dataclass(frozen=True, slots=True)
class Rate:
    """A pass rate by count, and weighted by market share when the weights are known.

    ``passed`` of ``counted``; ``weighted`` is the passing share of the counted weight
    (0..1), ``None`` when no weights are known or the counted weight is zero.
    """

    passed: int
    counted: int
    weighted: float | None

    @property
    def by_count(self) -> float | None:
        """``passed / counted`` (0..1); ``None`` when nothing was counted."""
        return self.passed / self.counted if self.counted else None


@dataclass(frozen=True, slots=True)
class Row:
    """One device of a matrix: a cell per column (``None`` where the case was not run)."""

    device: DeviceRef
    cells: tuple[Cell | None, ...]
    totals: Summary
    outcome: RowOutcome
    share: float | None
    """Normalised weight of the device in its matrix (0..1); ``None`` without weights."""

    @property
    def missing(self) -> int:
        """Number of the matrix's cases not run for this device."""
        return sum(1 for c in self.cells if c is None)


@dataclass(frozen=True, slots=True)
class ColumnStats:
    """Totals and pass rate of one column."""

    column: Column
    totals: Summary
    rate: Rate


@dataclass(frozen=True, slots=True)
class Matrix:
    """Devices × cases for one context (a station's vehicles, or all stations)."""

    id: str
    """Stable, filesystem- and anchor-safe id (``vehicles-at-CP-1``, ``stations``)."""
    title: str
    row_kind: DeviceKind
    context: tuple[DeviceRef, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    column_stats: tuple[ColumnStats, ...]
    totals: Summary
    overall: Rate
    weighting_note: str | None
    """Why weighted figures are missing, or how they were normalised."""

    @property
    def weighted(self) -> bool:
        """True when rows carry market-share weights."""
        return self.overall.weighted is not None or any(r.share is not None for r in self.rows)

    def stats(self, case_id: str) -> ColumnStats | None:
        """The totals and pass rate of case ``case_id`` (``None`` if not in this matrix)."""
        for stats in self.column_stats:
            if stats.column.case_id == case_id:
                return stats
        return None

    def rule(self) -> str:
        """How :meth:`headline` is computed, in one sentence for the reader."""
        noun = {
            DeviceKind.VEHICLE: "vehicle",
            DeviceKind.STATION: "station",
            DeviceKind.CSMS: "CSMS",
        }[self.row_kind]
        counted = (
            f"{noun}s that ran these cases and had at least one apply "
            f"({self.overall.counted} of {len(self.rows)})"
        )
        text = (
            f"A {noun} passes when it passed every case that applied to it (NON_STRICT "
            f"{'counts as FAIL' if self.totals.strict else 'counts as pass'}); any INCONCLUSIVE, "
            f"ERROR or case not run leaves it unresolved, which counts as not passed. "
            f"The rate is over the {counted}"
        )
        if self.overall.weighted is not None:
            text += (
                "; the market-share figure is the summed share of the passing "
                f"{noun}s over the summed share of those counted"
            )
        return text + "."

    def headline(self) -> str:
        """The matrix's headline, e.g. ``"vehicles covering 96.3 % of the tested market share
        passed (17 of 20 models, 85 %)"``."""
        rate = self.overall
        noun = {
            DeviceKind.VEHICLE: "models",
            DeviceKind.STATION: "stations",
            DeviceKind.CSMS: "CSMS",
        }[self.row_kind]
        plural = {
            DeviceKind.VEHICLE: "vehicles",
            DeviceKind.STATION: "stations",
            DeviceKind.CSMS: "CSMS",
        }[self.row_kind]
        if rate.counted == 0:
            return f"no case applied to any of the {len(self.rows)} {plural} (all NOT_APPLICABLE)"
        count = f"{rate.passed} of {rate.counted} {noun}, {percent(rate.by_count)}"
        if rate.weighted is not None:
            return (
                f"{plural} covering {percent(rate.weighted)} of the tested market share "
                f"passed ({count})"
            )
        return f"{rate.passed} of {rate.counted} {plural} passed ({percent(rate.by_count)})"


def percent(value: float | None) -> str:
    """``0.963`` → ``"96.3 %"`` (one decimal at most, a trailing ``.0`` dropped);
    ``None`` → ``"–"``."""
    if value is None:
        return "–"
    text = f"{value * 100:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text} %"


@dataclass(frozen=True, slots=True)
class Report:
    """Everything every rendering needs: the run, its matrices, its results, notes."""

    manifest: Manifest
    strict: bool
    summary: Summary
    matrices: tuple[Matrix, ...]
    results: tuple[CaseResult, ...]
    notes: tuple[str, ...] = ()
    """Remarks on the run that the renderings show (run unfinished, torn line...)."""

    @property
    def vehicle_matrices(self) -> tuple[Matrix, ...]:
        """The vehicles × cases matrices (one per station)."""
        return tuple(m for m in self.matrices if m.row_kind is DeviceKind.VEHICLE)

    def vehicle_case_ids(self) -> list[str]:
        """The case ids of the vehicle matrices, in column order (for the station × case
        summary across stations)."""
        ids: list[str] = []
        for matrix in self.vehicle_matrices:
            ids.extend(c.case_id for c in matrix.columns if c.case_id not in ids)
        return ids


# -- building ------------------------------------------------------------------------------

_ROW_KIND_ORDER = (DeviceKind.STATION, DeviceKind.CSMS)


def _placement(
    result: CaseResult, known: Mapping[tuple[DeviceKind, str], DeviceRef]
) -> tuple[tuple[DeviceRef, ...], DeviceRef, DeviceKind]:
    """(context devices, row device, row kind) of a result."""
    devices = [known.get((d.kind, d.id), d) for d in result.info.devices]
    vehicles = [d for d in devices if d.kind is DeviceKind.VEHICLE]
    judged_kind = next((k for k in _ROW_KIND_ORDER if any(d.kind is k for d in devices)), None)
    if vehicles and judged_kind is not None and not is_programme_result(result):
        # A station case run with a vehicle plugged in judges the station, not the vehicle.
        devices = [d for d in devices if d.kind is not DeviceKind.VEHICLE]
        vehicles = []
    if vehicles:
        row = vehicles[0] if len(vehicles) == 1 else _joined(vehicles)
        context = tuple(d for d in devices if d.kind is not DeviceKind.VEHICLE)
        return tuple(sorted(context, key=lambda d: (d.kind, d.id))), row, DeviceKind.VEHICLE
    kind = next(k for k in _ROW_KIND_ORDER if any(d.kind is k for d in devices))
    rows = [d for d in devices if d.kind is kind]
    row = rows[0] if len(rows) == 1 else _joined(rows)
    others = tuple(sorted((d for d in devices if d.kind is not kind), key=lambda d: (d.kind, d.id)))
    return others, row, kind


def is_programme_result(result: CaseResult) -> bool:
    """Whether ``result`` belongs to the vehicle programme (its suite's name says so)."""
    return result.info.suite.startswith(PROGRAMME_SUITE_PREFIX)


def _joined(devices: Sequence[DeviceRef]) -> DeviceRef:
    ordered = sorted(devices, key=lambda d: d.id)
    return DeviceRef(
        ordered[0].kind,
        "+".join(d.id for d in ordered),
        " + ".join(d.label or d.id for d in ordered),
    )


_SLUG = re.compile(r"[^A-Za-z0-9_-]+")


def _matrix_identity(row_kind: DeviceKind, context: tuple[DeviceRef, ...]) -> tuple[str, str]:
    if row_kind is DeviceKind.VEHICLE:
        if not context:
            return "vehicles", "Vehicles"
        names = " + ".join(f"{d.id} ({d.label})" if d.label else d.id for d in context)
        ids = "+".join(d.id for d in context)
        kind = "station" if all(d.kind is DeviceKind.STATION for d in context) else "devices"
        return f"vehicles-at-{_SLUG.sub('-', ids)}", f"Vehicles at {kind} {names}"
    word = {DeviceKind.STATION: "stations", DeviceKind.CSMS: "csms"}[row_kind]
    title = {DeviceKind.STATION: "Stations", DeviceKind.CSMS: "CSMS"}[row_kind]
    if context:
        ids = "+".join(d.id for d in context)
        return (
            f"{word}-with-{_SLUG.sub('-', ids)}",
            f"{title} with {', '.join(d.id for d in context)}",
        )
    return word, title


def _weights(rows: Sequence[DeviceRef]) -> tuple[dict[str, float] | None, str | None]:
    """Normalised weights per row device id, or ``None`` and the reason."""
    raw: dict[str, float] = {}
    missing: list[str] = []
    bad: list[str] = []
    for device in rows:
        value = device.attributes.get(MARKET_SHARE)
        if value is None:
            missing.append(device.id)
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            bad.append(f"{device.id} ({value!r})")
        else:
            raw[device.id] = float(value)
    if not raw and not bad:
        return None, None
    if bad:
        return None, (
            "weighted figures not computed: market_share must be a number >= 0; got "
            + ", ".join(bad)
        )
    if missing:
        return None, (
            "weighted figures not computed: no market_share for " + ", ".join(sorted(missing))
        )
    total = sum(raw.values())
    if total <= 0:
        return None, "weighted figures not computed: the market shares add up to 0"
    return (
        {k: v / total for k, v in raw.items()},
        f"market shares normalised over the {len(raw)} devices of this matrix "
        f"(they added up to {total:g})",
    )


def _rate(pairs: Iterable[tuple[bool, float | None]], weighted: bool) -> Rate:
    passed = counted = 0
    weight_passed = weight_counted = 0.0
    for ok, weight in pairs:
        counted += 1
        passed += ok
        if weight is not None:
            weight_counted += weight
            weight_passed += weight if ok else 0.0
    share = weight_passed / weight_counted if weighted and weight_counted > 0 else None
    return Rate(passed, counted, share)


def _outcome(cells: Sequence[Cell | None]) -> RowOutcome:
    present = [c for c in cells if c is not None]
    effective = [c.effective for c in present]
    if Verdict.FAIL in effective:
        return RowOutcome.FAILED
    judged = [v for v in effective if v is not Verdict.NOT_APPLICABLE]
    if not judged and len(present) == len(cells):
        return RowOutcome.NOT_APPLICABLE
    if judged and all(v is Verdict.PASS for v in judged) and len(present) == len(cells):
        return RowOutcome.PASSED
    return RowOutcome.UNRESOLVED


def _build_matrix(
    matrix_id: str,
    title: str,
    row_kind: DeviceKind,
    context: tuple[DeviceRef, ...],
    placed: Sequence[tuple[DeviceRef, CaseResult]],
    strict: bool,
) -> Matrix:
    columns_by_id: dict[str, Column] = {}
    for _, result in placed:
        info = result.info
        columns_by_id.setdefault(
            info.case_id, Column(info.case_id, info.title, info.suite, info.category)
        )
    columns = tuple(
        sorted(
            columns_by_id.values(),
            key=lambda c: (natural_key(c.suite), natural_key(c.category), natural_key(c.case_id)),
        )
    )
    index = {c.case_id: i for i, c in enumerate(columns)}
    devices: dict[str, DeviceRef] = {}
    grid: dict[str, list[Cell | None]] = {}
    for device, result in placed:
        devices.setdefault(device.id, device)
        cells = grid.setdefault(device.id, [None] * len(columns))
        earlier = cells[index[result.info.case_id]]
        if earlier is not None and earlier.verdict.severity >= result.verdict.severity:
            continue  # the same case twice for one device (several vehicles): worst shown
        cells[index[result.info.case_id]] = Cell(
            result.info.case_id,
            result.key,
            result.verdict,
            result.effective_verdict(strict=strict),
            result.reason,
        )
    ordered = sorted(devices.values(), key=lambda d: natural_key(d.label or d.id))
    weights, note = _weights(ordered)
    rows = tuple(
        Row(
            device=d,
            cells=tuple(grid[d.id]),
            totals=Summary.of((c.verdict for c in grid[d.id] if c is not None), strict=strict),
            outcome=_outcome(grid[d.id]),
            share=None if weights is None else weights[d.id],
        )
        for d in ordered
    )
    stats = []
    for i, column in enumerate(columns):
        cells_of = [(r, r.cells[i]) for r in rows]
        present = [(r, c) for r, c in cells_of if c is not None]
        totals = Summary.of((c.verdict for _, c in present), strict=strict)
        judged = [
            (c.passed, r.share) for r, c in present if c.effective is not Verdict.NOT_APPLICABLE
        ]
        stats.append(ColumnStats(column, totals, _rate(judged, weights is not None)))
    counted = [
        (r.outcome is RowOutcome.PASSED, r.share)
        for r in rows
        if r.outcome is not RowOutcome.NOT_APPLICABLE
    ]
    return Matrix(
        id=matrix_id,
        title=title,
        row_kind=row_kind,
        context=context,
        columns=columns,
        rows=rows,
        column_stats=tuple(stats),
        totals=Summary.of((r.verdict for _, r in placed), strict=strict),
        overall=_rate(counted, weights is not None),
        weighting_note=note,
    )


def build_report(
    manifest: Manifest,
    results: Iterable[CaseResult],
    *,
    strict: bool = False,
    notes: Sequence[str] = (),
) -> Report:
    """Build the report model from a run's manifest and case results (pure function).

    Device attributes (such as ``market_share``) are taken from the manifest's device list
    when it lists the device, else from the result. With ``strict``, NON_STRICT counts as
    FAIL everywhere (cells' ``effective`` verdicts, rates, outcomes, summary).
    """
    all_results = tuple(results)
    known = {(d.kind, d.id): d for d in manifest.devices}
    groups: dict[
        tuple[DeviceKind, tuple[tuple[DeviceKind, str], ...]], list[tuple[DeviceRef, CaseResult]]
    ] = {}
    contexts: dict[
        tuple[DeviceKind, tuple[tuple[DeviceKind, str], ...]], tuple[DeviceRef, ...]
    ] = {}
    for result in all_results:
        context, row, kind = _placement(result, known)
        group = (kind, tuple((d.kind, d.id) for d in context))
        groups.setdefault(group, []).append((row, result))
        contexts.setdefault(group, context)
    kind_order = {DeviceKind.VEHICLE: 0, DeviceKind.STATION: 1, DeviceKind.CSMS: 2}
    matrices = []
    used_ids: set[str] = set()
    for group in sorted(
        groups, key=lambda g: (kind_order[g[0]], [natural_key(i) for _, i in g[1]])
    ):
        kind = group[0]
        matrix_id, title = _matrix_identity(kind, contexts[group])
        base, n = matrix_id, 2
        while matrix_id in used_ids:  # two contexts whose ids slug alike
            matrix_id, n = f"{base}-{n}", n + 1
        used_ids.add(matrix_id)
        matrices.append(
            _build_matrix(matrix_id, title, kind, contexts[group], groups[group], strict)
        )
    return Report(
        manifest=manifest,
        strict=strict,
        summary=Summary.of((r.verdict for r in all_results), strict=strict),
        matrices=tuple(matrices),
        results=all_results,
        notes=tuple(notes),
    )
