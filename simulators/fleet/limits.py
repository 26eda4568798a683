"""The machine limits a fleet runs into, and how many worker processes it needs because of them.

- **Open files**: every station holds one socket, and a process may hold at most its soft
  ``RLIMIT_NOFILE``. :func:`raise_fd_limit` raises the soft limit to the hard one (what any
  process may do; raising the hard limit needs privileges, as ``ulimit -Hn`` does) and
  reports what it got, so a caller can say so instead of failing later with ``EMFILE``.
- **Loopback ports**: each connection to one CSMS address (host and port) from one source
  address takes one ephemeral port, so one listener takes at most
  :func:`ephemeral_ports` connections (28 232 with Linux's default range). More stations need
  several CSMS listeners (several ``--csms`` URLs) or several loopback addresses.
- **Cores**: one event loop uses one core. :func:`plan_workers` picks one worker process per
  core, and more when the stations of one worker would not fit its open-file limit.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FD_RESERVE",
    "IN_PROCESS_MAX",
    "FdLimit",
    "cores",
    "ephemeral_ports",
    "plan_workers",
    "raise_fd_limit",
]

FD_RESERVE = 256
"""Open files a worker keeps for itself (Python, pipes, logs) besides its stations' sockets."""

IN_PROCESS_MAX = 1_000
"""Fleets up to this size run in the calling process by default (a worker costs ~0.5 s)."""


@dataclass(frozen=True, slots=True)
class FdLimit:
    """The open-file limit of this process before and after :func:`raise_fd_limit`."""

    before: int
    soft: int
    hard: int

    @property
    def raised(self) -> bool:
        """Whether the soft limit went up."""
        return self.soft > self.before

    def describe(self) -> str:
        """One line for a log: ``open files per process: 1024 -> 20000 (hard limit 20000)``."""
        if self.raised:
            return f"open files per process: {self.before} -> {self.soft} (hard limit {self.hard})"
        if self.soft < self.hard:
            return (
                f"open files per process: {self.soft} (could not be raised to the hard limit "
                f"{self.hard})"
            )
        return f"open files per process: {self.soft} (the hard limit)"


def raise_fd_limit() -> FdLimit:
    """Raise this process's soft open-file limit to its hard limit; report before and after.

    A refusal (``ValueError``/``OSError`` from ``setrlimit``) leaves the limit as it was and
    is reported (``soft == before``), never raised.
    """
    before, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = before
    if hard == resource.RLIM_INFINITY or before < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(before, 1_048_576)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return FdLimit(before=before, soft=soft, hard=hard)


def ephemeral_ports(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    """How many source ports one address can use towards one destination (28 232 when the
    range cannot be read: Linux's default 32768-60999)."""
    try:
        low, high = (int(x) for x in path.read_text().split())
    except (OSError, ValueError):
        return 60_999 - 32_768 + 1
    return high - low + 1


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def plan_workers(stations: int, *, cores: int, fd_soft: int) -> int:
    """Worker processes for ``stations``: 1 (in the calling process) up to
    :data:`IN_PROCESS_MAX` stations when one process's open files suffice, otherwise one per
    core, and more when ``stations / cores`` sockets would not fit under ``fd_soft`` (less
    :data:`FD_RESERVE`)."""
    per_worker = max(1, fd_soft - FD_RESERVE)
    needed = math.ceil(stations / per_worker)
    if stations <= IN_PROCESS_MAX:
        return max(1, needed)
    return max(cores, needed)
