"""Progress of long waits: a countdown instead of silence while a ``wait`` step runs.

A lab case may pause for hours of real time (``wait: 6h``). :func:`countdown_sleep` sleeps
the same total on the given clock, but in slices, and calls a :data:`WaitProgress` callback
at the start, after each slice and at the end, so a front end can print
``CP1  TC_X  wait 5h 50m 00s left of 6h``. The slice is :func:`progress_interval_s`: about
a 36th of the wait, at least 10 s and at most 10 min (clock seconds), so a six-hour pause
shows a line every ten minutes and a one-minute pause one every ten seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from harness.clock import Clock

__all__ = [
    "MIN_REPORTED_WAIT_S",
    "WaitProgress",
    "countdown_sleep",
    "format_duration",
    "progress_interval_s",
]

WaitProgress = Callable[[float, float], None]
"""``(remaining_s, total_s)`` in clock seconds; called at the start (remaining = total),
every :func:`progress_interval_s` and at the end (remaining = 0)."""

MIN_REPORTED_WAIT_S: Final = 10.0
"""Waits shorter than this (clock seconds) are slept in one piece without progress calls."""


def progress_interval_s(total_s: float) -> float:
    """Clock seconds between two progress calls for a wait of ``total_s``."""
    return min(600.0, max(10.0, total_s / 36.0))


def format_duration(seconds: float) -> str:
    """``21600`` → ``"6h 00m 00s"``, ``75`` → ``"1m 15s"``, ``4.2`` → ``"4s"``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


async def countdown_sleep(clock: Clock, seconds: float, *, report: WaitProgress | None) -> None:
    """Sleep ``seconds`` on ``clock``, reporting the time left to ``report`` (if given).

    The slices end at deadlines computed from the start, so the total is exactly
    ``seconds`` of clock time however many slices there are.
    """
    if report is None or seconds < MIN_REPORTED_WAIT_S:
        await clock.sleep(seconds)
        return
    start = clock.monotonic()
    end = start + seconds
    step = progress_interval_s(seconds)
    report(seconds, seconds)
    # The number of reports is computed from an integer count, not by adding a float step
    # until it passes the end: the sum of repeated float steps lands just before or just after
    # the end depending on the clock's starting value, which changed the count of lines.
    slices = math.ceil(round(seconds / step, 9))
    for index in range(1, slices):
        await clock.sleep_until(start + index * step)
        report(max(0.0, end - clock.monotonic()), seconds)
    await clock.sleep_until(end)
    report(0.0, seconds)
