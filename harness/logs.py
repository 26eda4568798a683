"""Structured logging: readable lines on a terminal, JSON lines when asked.

Call :func:`configure_logging` once at program start (the CLI does); library code only
calls :func:`get_logger` and logs key/value events.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "get_logger"]


class _CurrentStderr:
    """A file-like object that writes to whatever ``sys.stderr`` is at the moment of writing.

    Binding the logger to the stream object found at configuration time would keep writing to
    a stream that was since replaced and closed (pytest's capture, a redirected CLI call).
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(
    *,
    json_lines: bool = False,
    level: str = "INFO",
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Set up structlog for the process.

    ``json_lines=True`` writes one JSON object per event (for log collectors and CI);
    otherwise events are rendered for humans, in colour when ``stream`` is a terminal.
    Events go to ``stream`` (by default whatever ``sys.stderr`` is when an event is written) so
    that standard output stays free for results.

    Every event is redacted (:class:`harness.security.redaction.RedactProcessor`): Authorization
    headers, password fields, OCPP AuthorizationKey / BasicAuthPassword values, PEM private
    keys and the literal ``secrets`` given (configured passwords) never reach the output.
    """
    # Imported here: harness.security imports the transport, which imports this module.
    from harness.security.redaction import RedactProcessor, redacting_exception_formatter

    secrets = tuple(secrets)
    out: Any = stream if stream is not None else _CurrentStderr()
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r} (expected DEBUG, INFO, WARNING, ERROR)")
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        RedactProcessor(secrets=secrets),
    ]
    renderer: Any
    if json_lines:
        renderer = structlog.processors.JSONRenderer()
        # Tracebacks are rendered before redaction, so they are redacted too.
        shared.insert(-1, structlog.processors.format_exc_info)
    else:
        colors = out.isatty()
        plain = structlog.dev.default_monochrome_exception_formatter
        formatter = structlog.dev.default_exception_formatter if colors else plain
        renderer = structlog.dev.ConsoleRenderer(
            colors=colors,
            exception_formatter=redacting_exception_formatter(formatter, secrets=secrets),
        )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str, **context: Any) -> Any:
    """A structlog logger bound to ``component=name`` and any extra context."""
    return structlog.get_logger().bind(component=name, **context)
