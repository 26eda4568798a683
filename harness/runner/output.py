"""What a run prints on the console: bad input, one progress line per finished case, the recap
of cases that did not pass, the summary line, where the run folder and its reports are, and
the exit status.

Shared by ``run --target sim|listen`` (:mod:`harness.runner.cli`), ``run --target connect``
(:mod:`harness.runner.connect`) and ``serve`` (:mod:`harness.lab.server`, one run per station,
each line prefixed with the station: an ``echo`` that prefixes), so that all print the same
lines and exit with the same codes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from harness.exitcodes import ExitCode, worst
from harness.results import CaseResult, Summary, Verdict
from harness.results.compact import compact_run
from harness.runner.progress import format_duration
from harness.runner.recap import not_applicable_lines, recap_blocks
from reports import DEFAULT_FORMATS, ReportError, ReportFormat, write_reports

__all__ = [
    "Echo",
    "InputProblem",
    "Progress",
    "compact_run_folder",
    "finish_run",
    "finish_stations",
    "print_recap",
    "write_run_reports",
]

Echo = Callable[[str], None]
"""Prints one line (without its newline)."""


def _out(line: str) -> None:
    click.echo(line)


def _err(line: str) -> None:
    click.echo(line, err=True)


def _lines(echo: Echo, text: str) -> None:
    for line in text.split("\n"):
        echo(line)


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


def print_recap(results: Sequence[CaseResult], *, strict: bool, echo: Echo = _out) -> None:
    """The cases that did not pass, with Expected and Actual, and the skipped ones' reasons."""
    blocks = recap_blocks(results, strict=strict)
    if blocks:
        _lines(echo, "\nRecap of cases that did not pass:")
    for block in blocks:
        _lines(echo, "\n" + block)
    skipped = not_applicable_lines(results)
    if skipped:
        _lines(echo, "\n" + "\n".join(skipped))


def finish_run(
    results: list[CaseResult],
    run_dir: Path | None,
    *,
    strict: bool,
    wall_s: float,
    echo: Echo = _out,
    warn: Echo = _err,
    compact: bool = True,
) -> int:
    """Print the recap and the summary line, compact the run folder (unless ``compact`` is
    false), write and name its reports; return the exit status of the verdicts.

    ``run_dir`` is ``None`` when no run folder could be made (the verdicts, if any, are still
    summed up). ``echo`` prints the lines, ``warn`` the warnings (stdout and stderr).
    """
    print_recap(results, strict=strict, echo=echo)
    summary = Summary.of((r.verdict for r in results), strict=strict)
    _lines(echo, f"\n{summary.line()}  ({summary.breakdown()}; {wall_s:.1f} s)")
    if run_dir is not None:
        echo(f"Run folder: {run_dir}")
        if compact:
            compact_run_folder(run_dir, warn=warn)
        echo(f"Writing the report of {len(results)} case(s) ...")
        write_run_reports(run_dir, strict=strict, echo=echo, warn=warn)
    return int(summary.exit_code)


def finish_stations(
    summaries: Mapping[str, Summary],
    storage_errors: Mapping[str, str],
    *,
    echo: Echo = _out,
    warn: Echo = _err,
) -> int:
    """One summary line per station (``serve``), the run folders that could not be written;
    return the most serious exit status: the verdicts', :attr:`ExitCode.STORAGE` for a lost
    run folder, :attr:`ExitCode.INCONCLUSIVE` when no station came (nothing was judged)."""
    for station_id, summary in summaries.items():
        echo(f"{station_id}: {summary.line()}")
    for station_id, reason in storage_errors.items():
        warn(f"error: [{station_id}] {reason}")
    if not summaries:
        return int(ExitCode.INCONCLUSIVE)
    codes = [s.exit_code for s in summaries.values()]
    return int(worst(*codes, *(ExitCode.STORAGE for _ in storage_errors)))


def compact_run_folder(run_dir: Path, *, warn: Echo = _err) -> None:
    """Gzip the finished run's traces and series (:func:`harness.results.compact.compact_run`); a
    failure costs nothing but space: every file stays readable, plain or compressed."""
    try:
        compact_run(run_dir)
    except OSError as exc:
        warn(f"warning: the run folder was not compacted: {exc}")


def write_run_reports(run_dir: Path, *, strict: bool, echo: Echo = _out, warn: Echo = _err) -> None:
    """Write the HTML report and JUnit XML into ``RUN_DIR/report`` and name them.

    A report that cannot be written costs no result: the run folder is complete already, and
    ``ocpp-harness report RUN_DIR`` can try again; the verdicts decide the exit code.
    """
    try:
        paths = write_reports(run_dir, run_dir / "report", DEFAULT_FORMATS, strict=strict)
    except (ReportError, OSError) as exc:
        warn(f"warning: the report could not be written: {exc}")
        return
    for fmt, path in paths.items():
        label = {ReportFormat.HTML: "Report", ReportFormat.JUNIT: "JUnit"}.get(fmt, str(fmt.value))
        echo(f"{label}: {path}")
