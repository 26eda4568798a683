"""The ``ocpp-harness`` command line (also ``python -m harness``).

Each sub-command lives in its own module and is added to the group below explicitly.
:func:`main` returns the process exit code instead of exiting, so tests can call it.
"""

from __future__ import annotations

import contextlib
import errno
import signal
from collections.abc import Sequence

import click

from harness import __version__
from harness.exitcodes import ExitCode
from harness.lab.cli import serve_command
from harness.logs import configure_logging
from harness.proxy.cli import proxy_command
from harness.results import RunStorageError
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


_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT})
"""OSErrors that can only mean a disk that cannot take more (a stray one outside the run
store still exits STORAGE); permission errors are not here: a port < 1024 raises them too."""


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run as Ctrl-C does: what was judged is kept


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    A run folder that cannot be written (full disk, read-only folder) gives one line on
    stderr and :attr:`ExitCode.STORAGE`; Ctrl-C or SIGTERM gives :attr:`ExitCode.INTERRUPTED`
    (the run folder keeps what was judged, with ``finished_at`` null)."""
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: leave SIGTERM alone
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted (a run stopped here is incomplete: finished_at is null).", err=True)
        return ExitCode.INTERRUPTED
    except RunStorageError as exc:
        click.echo(f"error: {exc}", err=True)
        return ExitCode.STORAGE
    except OSError as exc:
        if exc.errno not in _STORAGE_ERRNOS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: cannot write: {where}{exc.strerror}", err=True)
        return ExitCode.STORAGE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return result if isinstance(result, int) else 0
