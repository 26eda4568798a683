"""Counters of a fleet, kept small: no per-message records, a fixed latency histogram.

The live summary is **per interval** (:class:`IntervalReporter`): messages/s, answered
calls/s against the load the plan offers, error rate and latency percentiles of the last
interval only, so a CSMS that collapses shows at once instead of being averaged away.
``charging`` counts transactions the CSMS *accepted* (StartTransaction answered with
idTagInfo Accepted and a transactionId); a refused start is an error of kind
``start refused (<status>)`` or ``CALLERROR <code> (StartTransaction)``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

# Upper edges of the latency buckets in milliseconds (log-spaced, 0.1 ms .. 60 s).
_EDGES_MS: tuple[float, ...] = tuple(round(0.1 * 1.25**i, 4) for i in range(60))

_COUNTERS = (
    "stations",
    "connected",
    "charging",
    "booted",
    "sent",
    "received",
    "calls",
    "answered",
    "errors",
    "reconnects",
    "starts",
    "transactions",
    "profiles_set",
)

_SUMMED_IF_PRESENT = ("rss_kb", "base_rss_kb", "peak_rss_kb", "cpu_s", "unfinished")
"""Figures of a worker process (see :mod:`simulators.fleet.processes`), summed when merged."""


@dataclass(slots=True)
class FleetStats:
    """Live counters shared by the stations of one process.

    ``connected`` and ``charging`` are current levels; the rest only grow. ``calls`` are the
    CALLs the stations sent, ``answered`` those that got a CALLRESULT; ``starts`` the
    StartTransactions sent, ``transactions`` those the CSMS accepted. Latencies are the wall
    times between sending a CALL and receiving its answer, in a fixed histogram.
    """

    stations: int = 0
    connected: int = 0
    charging: int = 0
    ever_booted: set[str] = field(default_factory=set)
    sent: int = 0
    received: int = 0
    calls: int = 0
    answered: int = 0
    errors: int = 0
    reconnects: int = 0
    starts: int = 0
    transactions: int = 0
    profiles_set: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    losses_by_kind: dict[str, int] = field(default_factory=dict)
    """Why connections were lost or could not be made (each is one reconnect)."""
    buckets: list[int] = field(default_factory=lambda: [0] * (len(_EDGES_MS) + 1))

    def record_latency(self, latency_s: float) -> None:
        """Count one CALL answered after ``latency_s`` wall seconds."""
        self.buckets[bisect.bisect_left(_EDGES_MS, latency_s * 1000.0)] += 1

    def error(self, kind: str) -> None:
        """Count one error of ``kind`` (e.g. ``timeout (Heartbeat)``)."""
        self.errors += 1
        self.errors_by_kind[kind] = self.errors_by_kind.get(kind, 0) + 1

    def lost(self, kind: str) -> None:
        """Count one connection lost (or not made) because of ``kind``."""
        self.losses_by_kind[kind] = self.losses_by_kind.get(kind, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy (station ids replaced by their count) for aggregation."""
        snap: dict[str, Any] = {k: getattr(self, k) for k in _COUNTERS if k != "booted"}
        snap["booted"] = len(self.ever_booted)
        snap["errors_by_kind"] = dict(self.errors_by_kind)
        snap["losses_by_kind"] = dict(self.losses_by_kind)
        snap["buckets"] = list(self.buckets)
        return snap


def merge(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum snapshots of several processes or actors into one (the counters, the histogram,
    the kinds, and the process figures ``rss_kb``, ``cpu_s``... where the snapshots have
    them)."""
    total: dict[str, Any] = dict.fromkeys(_COUNTERS, 0)
    buckets = [0] * (len(_EDGES_MS) + 1)
    kinds: dict[str, dict[str, int]] = {"errors_by_kind": {}, "losses_by_kind": {}}
    for snap in snapshots:
        for key in total:
            total[key] += int(snap.get(key, 0))
        for i, n in enumerate(snap["buckets"]):
            buckets[i] += int(n)
        for name, merged in kinds.items():
            for kind, n in snap.get(name, {}).items():
                merged[kind] = merged.get(kind, 0) + int(n)
    total["buckets"] = buckets
    total.update(kinds)
    for key in _SUMMED_IF_PRESENT:
        if any(key in snap for snap in snapshots):
            total[key] = sum(snap.get(key, 0) for snap in snapshots)
    return total


def percentile_ms(buckets: list[int], q: float) -> float | None:
    """Upper edge (ms) of the bucket holding quantile ``q`` (0..1); None if no samples."""
    n = sum(buckets)
    if n == 0:
        return None
    rank = q * n
    seen = 0
    for i, count in enumerate(buckets):
        seen += count
        if seen >= rank and count:
            return _EDGES_MS[i] if i < len(_EDGES_MS) else float("inf")
    return _EDGES_MS[-1]


def error_rate(snap: dict[str, Any]) -> float:
    """Errors per CALL sent (0 when none was sent)."""
    return snap["errors"] / snap["calls"] if snap["calls"] else 0.0


def summary_line(snap: dict[str, Any], *, wall_s: float) -> str:
    """One human line of totals over the whole run (``wall_s`` long): levels, transactions
    accepted of starts, messages/s, errors and their rate, latency percentiles."""
    rate = (snap["sent"] + snap["received"]) / wall_s if wall_s > 0 else 0.0
    p50 = percentile_ms(snap["buckets"], 0.5)
    p99 = percentile_ms(snap["buckets"], 0.99)
    return (
        f"stations {snap['stations']} booted {snap['booted']} connected {snap['connected']} "
        f"charging {snap['charging']} transactions {snap['transactions']} of "
        f"{snap['starts']} starts accepted msgs/s {rate:.0f} errors {snap['errors']} "
        f"({error_rate(snap):.1%} of {snap['calls']} calls) reconnects {snap['reconnects']} "
        f"p50 {_ms(p50)} p99 {_ms(p99)}"
    )


def errors_line(snap: dict[str, Any], *, top: int = 8) -> str:
    """The errors by kind, most frequent first (``errors by kind: none`` when none), and the
    lost connections by kind when there were any."""
    line = "errors by kind: " + _kinds(snap.get("errors_by_kind", {}), top)
    losses = snap.get("losses_by_kind", {})
    if losses:
        line += "; connections lost by kind: " + _kinds(losses, top)
    return line


def _kinds(counts: dict[str, int], top: int) -> str:
    kinds = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if not kinds:
        return "none"
    shown = ", ".join(f"{kind} {n}" for kind, n in kinds[:top])
    more = f", {len(kinds) - top} more kinds" if len(kinds) > top else ""
    return shown + more


class IntervalReporter:
    """Turns successive cumulative snapshots into per-interval lines (see the module)."""

    def __init__(self) -> None:
        self._previous: dict[str, Any] | None = None
        self._previous_wall_s = 0.0

    def line(self, snap: dict[str, Any], *, wall_s: float, offered_per_s: float) -> str:
        """Levels now, and what happened since the previous call (``wall_s``: seconds since
        the run started; ``offered_per_s``: calls/s the plan asks of the CSMS now)."""
        before = self._previous or {
            **dict.fromkeys(_COUNTERS, 0),
            "buckets": [0] * len(snap["buckets"]),
        }
        span = max(wall_s - self._previous_wall_s, 1e-9)
        self._previous, self._previous_wall_s = snap, wall_s
        delta = {k: snap[k] - before[k] for k in _COUNTERS}
        buckets = [a - b for a, b in zip(snap["buckets"], before["buckets"], strict=True)]
        msgs = (delta["sent"] + delta["received"]) / span
        rate = delta["errors"] / delta["calls"] if delta["calls"] else 0.0
        p50 = percentile_ms(buckets, 0.5)
        p99 = percentile_ms(buckets, 0.99)
        return (
            f"stations {snap['stations']} booted {snap['booted']} connected "
            f"{snap['connected']} charging {snap['charging']} | last {span:.1f}s: msgs/s "
            f"{msgs:.0f} answered/s {delta['answered'] / span:.0f} (offered "
            f"{offered_per_s:.0f}/s) errors {delta['errors']} ({rate:.1%}) reconnects "
            f"{delta['reconnects']} p50 {_ms(p50)} p99 {_ms(p99)}"
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"
