"""``ocpp-harness report RUN_DIR``: write the reports of a stored run.

Exit status (:mod:`harness.exitcodes`): 0 when the reports were written; 1 with ``--compare``
when the run has new failures against the baseline (a CI gate for firmware regressions);
2 for a missing or corrupt run folder or a bad option; 3 when the run did not finish
(``run.json`` has no ``finished_at``: it crashed, was killed or is still going) unless
``--allow-incomplete`` -- the reports are written all the same, and say so; 5 when the
reports cannot be written.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.exitcodes import ExitCode, worst
from harness.results import Verdict
from reports.compare import compare_reports
from reports.load import ReportError, load_report
from reports.model import Report
from reports.write import ReportFormat, parse_formats, write_report_files

__all__ = ["report_command"]

_EXAMPLE = """Example:

\b
  ocpp-harness report runs/20261128T024000Z-3f9a2c --format html,junit,md
  ocpp-harness report runs/NEW --compare runs/OLD --format md,json   # exit 1: new failures
"""


class _ReportProblem(click.ClickException):
    """A report that cannot be made: shown as ``Error: ...`` with the given exit code."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = int(code)


@click.command(
    "report",
    epilog=_EXAMPLE,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--format",
    "formats",
    default="html,junit",
    show_default=True,
    help="Comma-separated: " + ", ".join(f.value for f in ReportFormat) + ".",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder [default: RUN_DIR/report].",
)
@click.option(
    "--compare",
    "other_run",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="A baseline run folder: report new failures, fixed cases and changed figures.",
)
@click.option("--strict", is_flag=True, help="Count NON_STRICT (a broken SHOULD) as FAIL.")
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Exit 0 for a run that did not finish (default: exit 3; the reports say so anyway).",
)
def report_command(
    run_dir: Path,
    formats: str,
    out_dir: Path | None,
    other_run: Path | None,
    strict: bool,
    allow_incomplete: bool,
) -> int:
    """Write the reports (HTML matrix, JUnit XML, JSON, Markdown, CSV) of the run in RUN_DIR."""
    try:
        chosen = parse_formats(formats)
        target = out_dir if out_dir is not None else run_dir / "report"
        report = load_report(run_dir, strict=strict)
        comparison = None
        if other_run is not None:
            comparison = compare_reports(load_report(other_run, strict=strict), report)
        written = write_report_files(report, run_dir, target, chosen, comparison=comparison)
    except ReportError as exc:
        raise _ReportProblem(str(exc), ExitCode.BAD_INPUT) from None
    except OSError as exc:
        raise _ReportProblem(f"cannot write the reports: {exc}", ExitCode.STORAGE) from None
    for matrix in report.matrices:
        click.echo(f"{matrix.title}: {matrix.headline()}")
    for fmt, path in written.items():
        click.echo(f"{fmt.value}: {path}")
    if comparison is not None:
        click.echo(
            f"compared with {comparison.old_run_id}: {len(comparison.new_failures)} new "
            f"failures, {len(comparison.fixed)} fixed, {len(comparison.figures)} changed figures"
        )
    _recap(report)
    codes = [ExitCode.OK]
    if comparison is not None and comparison.new_failures:
        codes.append(ExitCode.FAILED)
    if report.manifest.finished_at is None:
        click.echo(
            "warning: the run did not finish (run.json has no finished_at): cases may be "
            "missing" + ("" if allow_incomplete else "; --allow-incomplete to exit 0"),
            err=True,
        )
        if not allow_incomplete:
            codes.append(ExitCode.INCONCLUSIVE)
    click.echo(report.summary.line())
    return int(worst(*codes))


RECAP_LIMIT = 10


def _recap(report: Report) -> None:
    """Failures and errors with Requirement / Expected / Actual (the first few)."""
    bad = [
        r
        for r in report.results
        if r.effective_verdict(strict=report.strict)
        in (Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE)
    ]
    for result in bad[:RECAP_LIMIT]:
        devices = " + ".join(d.id for d in result.info.devices)
        click.echo(f"{result.verdict.value} {result.info.case_id} [{devices}]: {result.reason}")
        for check in result.checks:
            if check.verdict.effective(strict=report.strict) is not Verdict.PASS and (
                check.verdict is not Verdict.NOT_APPLICABLE
            ):
                click.echo("    " + check.explain().replace("\n", "\n    "))
    if len(bad) > RECAP_LIMIT:
        click.echo(f"... and {len(bad) - RECAP_LIMIT} more (see the reports)")
