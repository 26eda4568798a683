"""What a run prints on the console: bad input, one progress line per finished case, the recap
of cases that did not pass, the summary line, and where the run folder and its reports are.

Shared by ``run --target sim|listen`` (:mod:`harness.runner.cli`) and ``run --target connect``
(:mod:`harness.runner.connect`), so that both print the same lines and exit with the same code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from harness.exitcodes import ExitCode
from harness.results import CaseResult, Summary, Verdict
from harness.results.compact import compact_run
from harness.runner.progress import format_duration
from harness.runner.recap import not_applicable_lines, recap_blocks
from reports import DEFAULT_FORMATS, ReportError, ReportFormat, write_reports

__all__ = [
    "InputProblem",
    "Progress",
    "compact_run_folder",
    "finish_run",
    "print_recap",
    "write_run_reports",
]


class InputProblem(click.ClickException):
    """Bad input: shown as the message, exit status 2 (``ExitCode.BAD_INPUT``)."""

    exit_code = int(ExitCode.BAD_INPUT)

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class Progress:
    """One line per finished case, counted (``[ 12/148]``); on a terminal also the elapsed
    time and an estimate of the time left (from the mean wall time per case so far), which
    a log file or CI output does without."""

    def __init__(self, total: int, *, strict: bool, terminal: bool | None = None) -> None:
        self.total = total
        self.strict = strict
        self.done = 0
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self.started = time.perf_counter()

    def __call__(self, result: CaseResult) -> None:
        self.done += 1
        devices = "+".join(d.id for d in result.info.devices)
        verdict = result.verdict.value
        if result.verdict is Verdict.NON_STRICT:
            verdict += " (counts as FAIL)" if self.strict else " (counts as pass)"
        width = len(str(self.total))
        line = (
            f"[{self.done:>{width}}/{self.total}] {result.info.case_id:<16} {devices:<36} "
            f"{verdict:<14} clock {result.clock_duration_s:8.1f} s  "
            f"wall {result.wall_duration_s:6.2f} s"
        )
        if self.terminal:
            elapsed = time.perf_counter() - self.started
            left = elapsed / self.done * max(0, self.total - self.done)
            line += f"  · {format_duration(elapsed)} elapsed, ETA {format_duration(left)}"
        click.echo(line)


def print_recap(results: Sequence[CaseResult], *, strict: bool) -> None:
    blocks = recap_blocks(results, strict=strict)
    if blocks:
        click.echo("\nRecap of cases that did not pass:")
    for block in blocks:
        click.echo("\n" + block)
    skipped = not_applicable_lines(results)
    if skipped:
        click.echo("\n" + "\n".join(skipped))


def finish_run(results: list[CaseResult], run_dir: Path, *, strict: bool, wall_s: float) -> int:
    print_recap(results, strict=strict)
    summary = Summary.of((r.verdict for r in results), strict=strict)
    click.echo(f"\n{summary.line()}  ({summary.breakdown()}; {wall_s:.1f} s)")
    click.echo(f"Run folder: {run_dir}")
    compact_run_folder(run_dir)
    click.echo(f"Writing the report of {len(results)} case(s) ...")
    write_run_reports(run_dir, strict=strict)
    return int(summary.exit_code)


def compact_run_folder(run_dir: Path) -> None:
    """Gzip the finished run's traces and series (:func:`harness.results.compact.compact_run`); a
    failure costs nothing but space: every file stays readable, plain or compressed."""
    try:
        compact_run(run_dir)
    except OSError as exc:
        click.echo(f"warning: the run folder was not compacted: {exc}", err=True)


def write_run_reports(run_dir: Path, *, strict: bool) -> None:
    """Write the HTML report and JUnit XML into ``RUN_DIR/report`` and name them.

    A report that cannot be written costs no result: the run folder is complete already, and
    ``ocpp-harness report RUN_DIR`` can try again; the verdicts decide the exit code.
    """
    try:
        paths = write_reports(run_dir, run_dir / "report", DEFAULT_FORMATS, strict=strict)
    except (ReportError, OSError) as exc:
        click.echo(f"warning: the report could not be written: {exc}", err=True)
        return
    for fmt, path in paths.items():
        label = {ReportFormat.HTML: "Report", ReportFormat.JUNIT: "JUnit"}.get(fmt, str(fmt.value))
        click.echo(f"{label}: {path}")
