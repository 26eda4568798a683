"""The console's command-line options and start-up, shared by ``serve`` and
``run --target listen``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from harness.console.hub import ConsoleHub
from harness.console.web import ConsoleServer, is_loopback, new_token

__all__ = ["ConsoleSettings", "console_options", "report_url", "start_console"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """Where the console listens (``port`` 0: any free port)."""

    host: str = "127.0.0.1"
    port: int = 0


def console_options(*, default: bool, only: str = "") -> Callable[[F], F]:
    """``--console/--no-console`` (on by ``default`` or not), ``--console-host``,
    ``--console-port``; ``only`` prefixes the help (e.g. ``"listen: "``)."""

    def decorate(command: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--console/--no-console",
                    default=default,
                    show_default=True,
                    help=f"{only}serve the live lab console in a browser (address printed "
                    "at start).",
                ),
                click.option(
                    "--console-host",
                    default="127.0.0.1",
                    show_default=True,
                    help=f"{only}console address; any but loopback needs the token printed "
                    "at start.",
                ),
                click.option(
                    "--console-port",
                    type=click.IntRange(0, 65535),
                    default=0,
                    show_default=True,
                    help=f"{only}console port (0: any free one).",
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def report_url(run_dir: Callable[[str], Path | None], station_id: str) -> str | None:
    """The console's link to a station's HTML report, once written (else ``None``)."""
    folder = run_dir(station_id)
    if folder is None or not (folder / "report" / "index.html").is_file():
        return None
    return f"/runs/{station_id}/report/index.html"


async def start_console(
    hub: ConsoleHub,
    settings: ConsoleSettings,
    *,
    run_dir: Callable[[str], Path | None],
    echo: Callable[[str], None] = click.echo,
) -> ConsoleServer:
    """Start the console and print its address (with the token when one is needed)."""
    token = None if is_loopback(settings.host) else new_token()
    server = ConsoleServer(
        hub, host=settings.host, port=settings.port, token=token, run_dir=run_dir
    )
    try:
        await server.start()
    except OSError as exc:
        raise click.UsageError(
            f"--console-port: cannot listen on {settings.host}:{settings.port}: {exc}"
        ) from None
    if token is None:
        echo(f"Console: {server.url}")
    else:
        echo(
            f"Console: {server.access_url} (bound to {settings.host}: every request needs "
            f"token {token})"
        )
    return server
