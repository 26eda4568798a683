"""Hook commands: how a case tells the CSMS under test to act without an operator.

A ``trigger`` step's ``hook`` is a command line (split like a POSIX shell would, but run
without a shell). :func:`run_hook` runs it with extra environment variables, waits at most
``timeout_s`` (clock seconds) for it to exit, and returns its exit code and output; a command
still running at the deadline is killed (only that process).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.clock import Clock

__all__ = ["HookResult", "parse_hook", "run_hook"]

OUTPUT_LIMIT = 2000
"""Characters of a hook's output kept for the step log."""


@dataclass(frozen=True, slots=True)
class HookResult:
    """How a hook command ended."""

    command: tuple[str, ...]
    exit_code: int | None
    """``None`` when it did not start or was killed at the deadline."""
    output: str
    timed_out: bool = False
    error: str | None = None
    """Why it could not start (no such program...)."""

    @property
    def ok(self) -> bool:
        """True when it exited with 0 in time."""
        return self.exit_code == 0 and not self.timed_out

    def describe(self) -> str:
        """One line for the step log: how it ended and the end of its output."""
        shown = shlex.join(self.command)
        if self.error is not None:
            how = f"could not start: {self.error}"
        elif self.timed_out:
            how = "did not exit in time (killed)"
        else:
            how = f"exit {self.exit_code}"
        output = self.output.strip()
        return f"hook {shown}: {how}" + (f" — output: {output}" if output else "")


def parse_hook(text: str) -> tuple[str, ...]:
    """Split a hook command line; :class:`ValueError` for unbalanced quotes."""
    return tuple(shlex.split(text))


async def run_hook(
    command: Sequence[str],
    *,
    clock: Clock,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
) -> HookResult:
    """Run ``command`` with ``env`` added to this process's environment."""
    argv = tuple(command)
    if not argv:
        return HookResult(argv, None, "", error="empty command")
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    except OSError as exc:
        return HookResult(argv, None, "", error=str(exc))
    try:
        out, _ = await clock.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        out, _ = await process.communicate()
        return HookResult(argv, None, _text(out), timed_out=True)
    return HookResult(argv, process.returncode, _text(out))


def _text(data: bytes | None) -> str:
    text = (data or b"").decode("utf-8", errors="replace")
    return text if len(text) <= OUTPUT_LIMIT else "…" + text[-OUTPUT_LIMIT:]
