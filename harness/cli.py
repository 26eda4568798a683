"""The ``ocpp-harness`` command line (also ``python -m harness``).

Each sub-command lives in its own module and is added to the group below explicitly.
:func:`main` returns the process exit code instead of exiting, so tests can call it.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from harness import __version__
from harness.discover.cli import discover_command
from harness.exitcodes import ExitCode
from harness.lab.cli import serve_command
from harness.logs import configure_logging
from harness.proxy.cli import proxy_command
from harness.runner.cli import list_command, run_command
from harness.scenario.cli import scenario
from harness.security.cli import certs
from harness.smartcharging.cli import schedule_command
from harness.smoke import run_command as smoke_command
from reports.cli import report_command
from simulators.pilot.command import vehicle_command
from simulators.station.cli import simulate_command

__all__ = ["cli", "main"]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example:\n\n\b\n  ocpp-harness run            # full suite against the built-in fleet",
)
@click.version_option(__version__, prog_name="ocpp-harness")
@click.option("--log-json", is_flag=True, help="Write log events as JSON lines to stderr.")
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Least severe log events to show.",
)
def cli(log_json: bool, log_level: str) -> None:
    """Conformance test harness for smart and bidirectional EV charging (OCPP-J)."""
    configure_logging(json_lines=log_json, level=log_level)


cli.add_command(schedule_command)
cli.add_command(scenario)
cli.add_command(run_command)
cli.add_command(list_command)
cli.add_command(report_command)
cli.add_command(simulate_command)
cli.add_command(vehicle_command)
cli.add_command(certs)
cli.add_command(smoke_command, name="smoke")
cli.add_command(proxy_command)
cli.add_command(serve_command)
cli.add_command(discover_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return int(result) if isinstance(result, int) else int(ExitCode.OK)
