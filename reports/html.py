"""The HTML report: an index with the headline figures and the matrices, and one detail page
per case (``cases/<case-key>.html``) with the requirement, Expected/Actual, the step log, the
OCPP frames and, for measurement cases, an SVG plot.

Self-contained: CSS and the small sorting/filtering script are inline; nothing is fetched.
Templates are jinja2 with autoescaping, compiled once per render.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.queues
import os
from collections.abc import Sequence
from datetime import datetime
from html import escape
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from harness.results import CaseResult, RunReader, Verdict
from reports.compare import Comparison
from reports.load import ReportError, read_plot_series, read_trace
from reports.model import Column, Report, case_href, percent
from reports.plot import render_plot
from reports.wakeup import wake_up_rows

__all__ = ["render_html"]

SHORT = {
    "PASS": "pass",
    "FAIL": "FAIL",
    "NON_STRICT": "non-strict",
    "NOT_APPLICABLE": "n/a",
    "INCONCLUSIVE": "inconcl.",
    "ERROR": "ERROR",
}


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


def _frame_rows(frames: Sequence[dict[str, Any]], cited: dict[int, list[str]]) -> Markup:
    """The rows of the frames table: index, time, direction, station, message, raw text
    (escaped), and the requirements citing the frame (those rows get class ``cited``).

    Built here rather than in the template: a case page holds dozens of frames and a run
    thousands of pages, and one ``html.escape`` per field is several times faster."""
    rows = []
    for i, record in enumerate(frames):
        direction = str(record.get("dir", ""))
        raw = record.get("raw")
        if not isinstance(raw, str):
            raw = json.dumps(record, ensure_ascii=False)
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
    return Markup("\n".join(rows))


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
) -> str:
    frames = read_trace(reader, key)
    series = read_plot_series(reader, key, origin=result.started_at)
    devices = " + ".join(d.id for d in result.info.devices)
    plot = render_plot(series, title=f"{result.info.case_id} {devices}: limit, offered, measured")
    return template.render(
        r=result,
        devices=devices,
        effective=result.effective_verdict(strict=report.strict),
        strict=report.strict,
        key=key,
        back=f"../index.html#{matrix_of[key]}" if key in matrix_of else "../index.html",
        frame_count=len(frames),
        frame_rows=_frame_rows(frames, _citations(result)),
        plot=plot,
        has_power=any(s.quantity in ("power_import", "power_export") for s in series),
    )


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
        page = _case_page(template, report, reader, result, key, matrix_of)
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
            report=report, comparison=comparison, suites=suites, wake_ups=wake_up_rows(report)
        ),
        encoding="utf-8",
    )
    return path
