"""One call that writes the chosen report formats of a stored run (the runner calls it)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from reports.compare import Comparison, compare_reports
from reports.csvreport import write_csv
from reports.html import render_html
from reports.jsonreport import write_json
from reports.junit import write_junit
from reports.load import ReportError, load_report, open_run
from reports.markdown import write_markdown
from reports.model import Report

__all__ = [
    "DEFAULT_FORMATS",
    "FILE_NAMES",
    "ReportFormat",
    "parse_formats",
    "write_report_files",
    "write_reports",
]


class ReportFormat(StrEnum):
    """The report formats (the CLI's ``--format`` values)."""

    HTML = "html"
    JUNIT = "junit"
    JSON = "json"
    MARKDOWN = "md"
    CSV = "csv"


FILE_NAMES = {
    ReportFormat.HTML: "index.html",
    ReportFormat.JUNIT: "junit.xml",
    ReportFormat.JSON: "report.json",
    ReportFormat.MARKDOWN: "summary.md",
    ReportFormat.CSV: "matrix.csv",
}
"""The file each format writes in the output folder (HTML also writes ``cases/``)."""

DEFAULT_FORMATS = (ReportFormat.HTML, ReportFormat.JUNIT)
"""What ``ocpp-harness run`` writes by default."""


def parse_formats(text: str) -> tuple[ReportFormat, ...]:
    """``"html,junit"`` → the formats; :class:`ReportError` naming an unknown one."""
    formats = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        try:
            formats.append(ReportFormat(name))
        except ValueError:
            allowed = ", ".join(f.value for f in ReportFormat)
            raise ReportError(f"--format: unknown format {name!r}; choose from {allowed}") from None
    if not formats:
        raise ReportError("--format: name at least one format")
    return tuple(dict.fromkeys(formats))


def write_reports(
    run_dir: Path | str,
    out_dir: Path | str,
    formats: Iterable[ReportFormat | str] = DEFAULT_FORMATS,
    *,
    strict: bool = False,
    compare_with: Path | str | None = None,
    workers: int | None = None,
) -> dict[ReportFormat, Path]:
    """Write the reports of the run in ``run_dir`` into ``out_dir`` (created if needed).

    ``formats``: any of :class:`ReportFormat` (or their values); ``strict``: NON_STRICT counts
    as FAIL; ``compare_with``: a baseline run folder whose differences (new failures, fixed
    cases, changed figures) go into the HTML, JSON and Markdown outputs; ``workers``: processes
    for the HTML detail pages (see :func:`~reports.html.render_html`). Returns the main file
    of each format written (see :data:`FILE_NAMES`). Raises :class:`ReportError` for a missing
    or corrupt run folder.
    """
    report = load_report(run_dir, strict=strict)
    comparison: Comparison | None = None
    if compare_with is not None:
        comparison = compare_reports(load_report(compare_with, strict=strict), report)
    return write_report_files(
        report, run_dir, out_dir, formats, comparison=comparison, workers=workers
    )


def write_report_files(
    report: Report,
    run_dir: Path | str,
    out_dir: Path | str,
    formats: Iterable[ReportFormat | str] = DEFAULT_FORMATS,
    *,
    comparison: Comparison | None = None,
    workers: int | None = None,
) -> dict[ReportFormat, Path]:
    """Like :func:`write_reports` for a report already built from ``run_dir`` (the HTML
    pages read that run's traces and series)."""
    chosen = parse_formats(",".join(str(f) for f in formats))
    reader = open_run(run_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[ReportFormat, Path] = {}
    for fmt in chosen:
        path = out / FILE_NAMES[fmt]
        if fmt is ReportFormat.HTML:
            written[fmt] = render_html(report, reader, out, comparison=comparison, workers=workers)
        elif fmt is ReportFormat.JUNIT:
            written[fmt] = write_junit(report, path)
        elif fmt is ReportFormat.JSON:
            written[fmt] = write_json(report, path, comparison=comparison)
        elif fmt is ReportFormat.MARKDOWN:
            written[fmt] = write_markdown(report, path, comparison=comparison)
        else:
            written[fmt] = write_csv(report, path)
    return written
