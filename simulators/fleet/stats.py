"""Counters of a fleet, kept small: no per-message records, a fixed latency histogram."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

# Upper edges of the latency buckets in milliseconds (log-spaced, 0.1 ms .. 60 s).
_EDGES_MS: tuple[float, ...] = tuple(round(0.1 * 1.25**i, 4) for i in range(60))


@dataclass(slots=True)
class FleetStats:
    """Live counters shared by the stations of one process.

    ``connected`` and ``charging`` are current levels; the rest only grow. Latencies are the
    wall times between sending a CALL and receiving its answer, in a fixed histogram.
    """

    stations: int = 0
    connected: int = 0
    charging: int = 0
    ever_booted: set[str] = field(default_factory=set)
    sent: int = 0
    received: int = 0
    errors: int = 0
    reconnects: int = 0
    transactions: int = 0
    profiles_set: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(_EDGES_MS) + 1))

    def record_latency(self, latency_s: float) -> None:
        """Count one CALL answered after ``latency_s`` wall seconds."""
        self.buckets[bisect.bisect_left(_EDGES_MS, latency_s * 1000.0)] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy (station ids replaced by their count) for aggregation."""
        return {
            "stations": self.stations,
            "connected": self.connected,
            "charging": self.charging,
            "booted": len(self.ever_booted),
            "sent": self.sent,
            "received": self.received,
            "errors": self.errors,
            "reconnects": self.reconnects,
            "transactions": self.transactions,
            "profiles_set": self.profiles_set,
            "buckets": list(self.buckets),
        }


def merge(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum snapshots of several processes or actors into one."""
    total: dict[str, Any] = {
        k: 0
        for k in (
            "stations",
            "connected",
            "charging",
            "booted",
            "sent",
            "received",
            "errors",
            "reconnects",
            "transactions",
            "profiles_set",
        )
    }
    buckets = [0] * (len(_EDGES_MS) + 1)
    for snap in snapshots:
        for key in total:
            total[key] += int(snap[key])
        for i, n in enumerate(snap["buckets"]):
            buckets[i] += int(n)
    total["buckets"] = buckets
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


def summary_line(snap: dict[str, Any], *, wall_s: float) -> str:
    """One human line: connected, charging, messages/s, errors, latency percentiles."""
    rate = (snap["sent"] + snap["received"]) / wall_s if wall_s > 0 else 0.0
    p50 = percentile_ms(snap["buckets"], 0.5)
    p99 = percentile_ms(snap["buckets"], 0.99)
    return (
        f"stations {snap['stations']} booted {snap['booted']} connected {snap['connected']} "
        f"charging {snap['charging']} msgs/s {rate:.0f} errors {snap['errors']} "
        f"reconnects {snap['reconnects']} p50 {_ms(p50)} p99 {_ms(p99)}"
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"
