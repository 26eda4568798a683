"""The HTML report: an index with the headline figures and the matrices, and one detail page
per case (``cases/<case-key>.html``) with the requirement, Expected/Actual, the step log, the
OCPP frames and, for measurement cases, an SVG plot.

Nothing is fetched from the network: the stylesheet is written once to ``assets/style.css``
and linked by every page, the small sorting/filtering script is inline in the index.
Templates are jinja2 with autoescaping, compiled once per render.

A case page lists every frame of its trace up to :data:`FRAME_ROWS_MAX`; a longer trace
(hours of MeterValues) is shown abridged -- the first and last frames, every frame a check
cites with its neighbours, and the first and last few of each kind of message -- and the
page links the whole trace file in the run folder. That keeps a run of
the whole library to tens of megabytes instead of hundreds.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.queues
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from harness.results import CaseResult, RunReader, Verdict
from harness.results.reader import stored_path
from reports.compare import Comparison
from reports.load import ReportError, read_plot_series, read_trace
from reports.model import OUTCOME_WORDS, Column, Report, case_href, percent
from reports.plot import render_plot
from reports.wakeup import wake_up_rows

__all__ = ["render_html"]

SHORT = {
    "PASS": "pass",
    "FAIL": "FAIL",
    "NON_STRICT": "ns",
    "NOT_APPLICABLE": "n/a",
    "INCONCLUSIVE": "inc",
    "ERROR": "ERR",
}
"""The word in a matrix cell for each verdict: short, so that a fleet's vehicles × cases
matrix fits 1 400 px; every one is explained in the index's legend."""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        pct=percent,
        href=case_href,
        time=_time,
        short=SHORT,
        outcome_words=OUTCOME_WORDS,
        verdicts=[v.value for v in Verdict],
        groups=_groups,
    )
    return env


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") + "Z"


def _groups(columns: Sequence[Column], by: str) -> list[tuple[Any, int]]:
    """Header groups with their column spans: by ``"suite"`` or by ``"category"``
    (then the key is ``(suite, category)``)."""

    def key(c: Column) -> Any:
        return c.suite if by == "suite" else (c.suite, c.category)

    return [(k, len(list(g))) for k, g in groupby(columns, key=key)]


_CITED = ' class="cited"'
_DIRECTIONS = {"out": "→ sent by harness", "in": "← received"}


FRAME_ROWS_MAX = 100
"""A case page lists every frame of a trace up to this many; a longer one is abridged to
about this many (see :func:`shown_frames`)."""
RAW_CHARS_MAX = 4000
"""A frame's raw text is listed up to this many characters (a fuzzing case sends frames of
megabytes); the trace file holds all of it."""
_EDGE_FRAMES = 15
_NEIGHBOURS = 3
_PER_ACTION = 5


def shown_frames(frames: Sequence[dict[str, Any]], cited: Iterable[int]) -> list[int]:
    """Indices of the frames a case page lists: all of them up to :data:`FRAME_ROWS_MAX`;
    of a longer trace, the first and last frames, every cited frame with its neighbours, and
    of each action (a CALL and its answer, matched by message id) the first and last few
    occurrences -- so every kind of message shows, while hours of periodic MeterValues or
    TransactionEvent updates do not."""
    count = len(frames)
    if count <= FRAME_ROWS_MAX:
        return list(range(count))
    keep = set(range(min(_EDGE_FRAMES, count))) | set(range(max(0, count - _EDGE_FRAMES), count))
    for i in cited:
        keep.update(range(max(0, i - _NEIGHBOURS), min(count, i + _NEIGHBOURS + 1)))
    action_of_id: dict[Any, str] = {}
    by_action: dict[str, list[int]] = {}
    for i, record in enumerate(frames):
        action = str(record.get("action") or action_of_id.get(record.get("id"), ""))
        if record.get("action"):
            action_of_id[record.get("id")] = action
        by_action.setdefault(action, []).append(i)
    for indices in by_action.values():
        keep.update(indices[:_PER_ACTION])
        keep.update(indices[-_PER_ACTION:])
    return sorted(keep)


def _frame_rows(
    frames: Sequence[dict[str, Any]],
    cited: dict[int, list[str]],
    *,
    trace_href: str,
    shown: Sequence[int] | None = None,
) -> Markup:
    """The rows of the frames table: index, time, direction, station, message, raw text
    (escaped), and the requirements citing the frame (those rows get class ``cited``); a
    row saying how many frames were left out where :func:`shown_frames` skips some.

    Built here rather than in the template: a case page holds dozens of frames and a run
    thousands of pages, and one ``html.escape`` per field is several times faster."""
    rows = []
    previous = -1
    if shown is None:
        shown = shown_frames(frames, cited)
    for i in shown:
        if i > previous + 1:
            rows.append(_omitted_row(i - previous - 1, trace_href))
        previous = i
        record = frames[i]
        direction = str(record.get("dir", ""))
        raw = record.get("raw")
        if not isinstance(raw, str):
            raw = json.dumps(record, ensure_ascii=False)
        if len(raw) > RAW_CHARS_MAX:
            raw = (
                f"{raw[:RAW_CHARS_MAX]} … ({len(raw) - RAW_CHARS_MAX} more characters in the trace)"
            )
        message = " ".join(
            str(record[k]) for k in ("type", "action", "id") if record.get(k) not in (None, "")
        )
        by = cited.get(i)
        rows.append(
            f'<tr id="frame-{i}"{_CITED if by else ""}><td>{i}</td>'
            f"<td>{escape(str(record.get('t', '')))}</td>"
            f'<td class="dir-{escape(direction)}">'
            f"{escape(_DIRECTIONS.get(direction, direction or '?'))}</td>"
            f"<td>{escape(str(record.get('station', '') or ''))}</td>"
            f"<td>{escape(message)}</td><td><pre>{escape(raw)}</pre></td>"
            f"<td>{escape(', '.join(by)) if by else ''}</td></tr>"
        )
    if shown and shown[-1] < len(frames) - 1:
        rows.append(_omitted_row(len(frames) - 1 - shown[-1], trace_href))
    return Markup("\n".join(rows))


def _omitted_row(count: int, trace_href: str) -> str:
    return (
        f'<tr class="omitted"><td colspan="7">… {count} repeated frame(s) not listed; the '
        f'whole trace: <a href="{escape(trace_href)}">'
        f"{escape(trace_href.rsplit('/', 1)[-1])}</a></td></tr>"
    )


def _citations(result: CaseResult) -> dict[int, list[str]]:
    cited: dict[int, list[str]] = {}
    for check in result.checks:
        for i in check.frames:
            names = cited.setdefault(i, [])
            if check.requirement.id not in names:
                names.append(check.requirement.id)
    return cited


def _case_page(
    template: Template,
    report: Report,
    reader: RunReader,
    result: CaseResult,
    key: str,
    matrix_of: dict[str, str],
    cases_dir: Path,
) -> str:
    frames = read_trace(reader, key)
    trace = stored_path(reader.run_dir / "traces" / f"{key}.jsonl")
    trace_href = Path(os.path.relpath(trace, cases_dir)).as_posix()
    series = read_plot_series(reader, key, origin=result.started_at)
    devices = " + ".join(d.id for d in result.info.devices)
    plot = render_plot(series, title=f"{result.info.case_id} {devices}: limit, offered, measured")
    zoomed = _zoomed_plots(result, frames, series, devices)
    cited = _citations(result)
    shown = shown_frames(frames, cited)  # once: it walks every frame of the trace
    return template.render(
        r=result,
        devices=devices,
        effective=result.effective_verdict(strict=report.strict),
        strict=report.strict,
        key=key,
        back=f"../index.html#{matrix_of[key]}" if key in matrix_of else "../index.html",
        frame_count=len(frames),
        frame_rows=_frame_rows(frames, cited, trace_href=trace_href, shown=shown),
        frames_shown=min(len(frames), len(shown)),
        css_href="../" + STYLESHEET,
        plot=plot,
        zoomed=zoomed,
        has_power=any(s.quantity in ("power_import", "power_export") for s in series),
    )


ZOOM_MARGIN_S = 60.0
"""Seconds shown before and after the frames a failing check cites, in its zoomed plot."""
_NOT_PASSED = frozenset({Verdict.FAIL, Verdict.NON_STRICT, Verdict.INCONCLUSIVE})


def _zoomed_plots(
    result: CaseResult,
    frames: Sequence[dict[str, Any]],
    series: Sequence[Any],
    devices: str,
) -> dict[int, Markup]:
    """Per check that did not pass (by index) and cites frames: a plot of the measurements
    around those frames (:data:`ZOOM_MARGIN_S` either side), when the case has series and
    the zoom is narrower than the whole case."""
    if not series:
        return {}
    out: dict[int, Markup] = {}
    span_s = (result.finished_at - result.started_at).total_seconds()
    for index, check in enumerate(result.checks):
        if check.verdict not in _NOT_PASSED:
            continue
        stamps = []
        for i in check.frames:
            if 0 <= i < len(frames):
                try:
                    at = datetime.fromisoformat(str(frames[i].get("t")))
                except ValueError:
                    continue
                stamps.append((at - result.started_at).total_seconds())
        if not stamps:
            continue
        window = (min(stamps) - ZOOM_MARGIN_S, max(stamps) + ZOOM_MARGIN_S)
        if window[1] - window[0] >= 0.8 * span_s:
            continue  # the whole-case plot shows it as well
        title = f"{result.info.case_id} {devices}: around check {index + 1} ({check.verdict})"
        plot = render_plot(series, title=title, window_s=window)
        if plot:
            out[index] = plot
    return out


STYLESHEET = "assets/style.css"
"""Where the report's one stylesheet goes, relative to the index."""

PARALLEL_FROM = 200
"""Runs with at least this many cases render their detail pages in several processes."""


def _render_pages(
    template: Template,
    report: Report,
    reader: RunReader,
    cases_dir: Path,
    results: Sequence[CaseResult],
) -> None:
    matrix_of = {
        cell.key: m.id for m in report.matrices for row in m.rows for cell in row.cells if cell
    }
    for result in results:
        key = result.key
        page = _case_page(template, report, reader, result, key, matrix_of, cases_dir)
        (cases_dir / f"{key}.html").write_text(page, encoding="utf-8")


def _child(
    template: Template,
    report: Report,
    reader: RunReader,
    cases_dir: Path,
    results: Sequence[CaseResult],
    errors: multiprocessing.queues.SimpleQueue[str],
) -> None:
    """Body of a forked worker: render its share; report a failure through ``errors``."""
    try:
        _render_pages(template, report, reader, cases_dir, results)
    except BaseException as exc:  # the parent re-raises it as a ReportError
        errors.put(str(exc) if isinstance(exc, ReportError) else f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from None


def _default_workers(cases: int) -> int:
    if cases < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def render_html(
    report: Report,
    reader: RunReader,
    out_dir: Path,
    *,
    comparison: Comparison | None = None,
    workers: int | None = None,
) -> Path:
    """Write ``index.html`` and ``cases/<case-key>.html`` for every case into ``out_dir``
    (created if needed); return the index's path. ``reader`` is the run the report was built
    from (for traces and series).

    ``workers``: processes that render the detail pages (default: up to 4, one per CPU, for
    runs of :data:`PARALLEL_FROM` cases or more where ``fork`` exists; else 1). The workers
    are forked, so they share the compiled templates and the report without pickling; the
    pages are the same whatever the number. A worker's failure raises :class:`ReportError`.
    """
    env = _environment()
    stylesheet = out_dir / STYLESHEET
    stylesheet.parent.mkdir(parents=True, exist_ok=True)
    stylesheet.write_bytes(resources.files("reports").joinpath("templates/style.css").read_bytes())
    index = env.get_template("index.html.j2")
    case = env.get_template("case.html.j2")
    cases_dir = out_dir / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    count = _default_workers(len(report.results)) if workers is None else max(1, workers)
    if count == 1:
        _render_pages(case, report, reader, cases_dir, report.results)
    else:
        context = multiprocessing.get_context("fork")
        errors: multiprocessing.queues.SimpleQueue[str] = context.SimpleQueue()
        children = [
            context.Process(
                target=_child,
                args=(case, report, reader, cases_dir, report.results[i::count], errors),
                daemon=True,
            )
            for i in range(1, count)
        ]
        for child in children:
            child.start()
        try:
            _render_pages(case, report, reader, cases_dir, report.results[0::count])
        finally:
            for child in children:
                child.join()
        failed = [c.exitcode for c in children if c.exitcode != 0]
        if failed:
            detail = errors.get() if not errors.empty() else f"exit codes {failed}"
            raise ReportError(f"rendering the detail pages failed: {detail}")
    suites = sorted({c.suite for m in report.matrices for c in m.columns})
    path = out_dir / "index.html"
    path.write_text(
        index.render(
            report=report,
            comparison=comparison,
            suites=suites,
            css_href=STYLESHEET,
            wake_ups=wake_up_rows(report),
        ),
        encoding="utf-8",
    )
    return path
