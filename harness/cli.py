"""The ``ocpp-harness`` command line (also ``python -m harness``).

Each sub-command lives in its own module, named in :data:`COMMANDS` and imported only when it
is chosen.
:func:`main` returns the process exit code instead of exiting, so tests can call it.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import signal
from collections.abc import Sequence

import click

from harness import __version__
from harness.exitcodes import ExitCode

__all__ = ["COMMANDS", "cli", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    # name: ("module:attribute", the one-line help shown by ``ocpp-harness --help``)
    "certs": (
        "harness.security.cli:certs",
        "Test certificates for security profiles 2 and 3 (labs only: keys are unencrypted).",
    ),
    "discover": (
        "harness.discover.cli:discover_command",
        "Read what a station advertises and draft its capability declaration.",
    ),
    "list": (
        "harness.runner.cli:list_command",
        'List cases: id, OCPP versions, title, source (document and table, or "ours"), '
        "requirement ids.",
    ),
    "proxy": (
        "harness.proxy.cli:proxy_command",
        "Relay stations to a real CSMS, forwarding every frame unchanged and recording it.",
    ),
    "report": (
        "reports.cli:report_command",
        "Write the reports (HTML matrix, JUnit XML, JSON, Markdown, CSV) of the run in RUN_DIR.",
    ),
    "run": (
        "harness.runner.cli:run_command",
        "Run cases against a DUT: SUITES are suites (as `list` shows them), case ids, globs "
        "over case ids ('TC_K_*'), files or folders; none: the whole library.",
    ),
    "scenario": (
        "harness.scenario.cli:scenario",
        "Check scenario files, print their JSON Schema, select cases for a DUT.",
    ),
    "schedule": (
        "harness.smartcharging.cli:schedule_command",
        "Install SetChargingProfile payloads as a station would; print GetCompositeSchedule.",
    ),
    "serve": (
        "harness.lab.cli:serve_command",
        "Be the CSMS for real stations: each one that connects runs SUITES on its connection.",
    ),
    "simulate": (
        "simulators.station.cli:simulate_command",
        "Run simulated charging stations with vehicles against a CSMS.",
    ),
    "smoke": (
        "harness.smoke:run_command",
        "Smoke run: harness as CSMS, one minimal station per OCPP version, on loopback.",
    ),
    "vehicle": (
        "simulators.pilot.command:vehicle_command",
        "Run one simulated vehicle over an MQTT pilot link until SIGINT/SIGTERM.",
    ),
}
"""Every sub-command: where it lives, and its one-line help (a test keeps the two in step)."""


class _LazyGroup(click.Group):
    """A group whose sub-commands are imported only when chosen.

    ``ocpp-harness --help`` lists the commands from :data:`COMMANDS` without importing any of
    them, so asking for help, or running one command, does not pay for loading every other
    (the runner, the simulators, the reports and their libraries).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _, attribute = entry[0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry[0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shorten(COMMANDS[name][1], limit)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)].rstrip() + "..."


@click.group(
    cls=_LazyGroup,
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
    from harness.logs import configure_logging  # structlog: only when a command runs

    configure_logging(json_lines=log_json, level=log_level)


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
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted (a run stopped here is incomplete: finished_at is null).", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except Exception as exc:
        # Imported here, not at the top: ``--help`` must not load the results package.
        from harness.results import RunStorageError

        if isinstance(exc, RunStorageError):
            click.echo(f"error: {exc}", err=True)
            return ExitCode.STORAGE
        if not isinstance(exc, OSError) or exc.errno not in _STORAGE_ERRNOS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: cannot write: {where}{exc.strerror}", err=True)
        return ExitCode.STORAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return result if isinstance(result, int) else 0
