"""Which wake-up each vehicle needed: a small, self-contained section of the reports.

Labs publish, per vehicle, whether it resumed after a long pause by itself or needed the
station to interrupt the pilot (a toggle B↔C, state F) or an unplug. The ``expect_wake_up``
step (VP-21) records it in its check: the Actual starts ``woken by: <what>`` — ``none``,
``pilot_toggle``, ``state_f``, ``nothing`` (only an unplug would help) or ``unknown`` (an
operator saw a wake-up). This module reads those checks back from a :class:`Report`; it
needs nothing else of the report model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.results import DeviceKind, Verdict
from reports.model import Report

__all__ = ["WAKE_UP_LABELS", "WakeUpRow", "wake_up_markdown", "wake_up_rows"]

_WOKEN_BY = re.compile(r"^woken by: (?P<method>[a-z_]+)\b")

WAKE_UP_LABELS = {
    "none": "none needed",
    "pilot_toggle": "pilot toggle (B↔C)",
    "state_f": "state F",
    "nothing": "not woken: unplug needed",
    "unknown": "a wake-up (operator)",
}
"""How each recorded method reads in a report."""


@dataclass(frozen=True, slots=True)
class WakeUpRow:
    """One case run's record: the vehicle (model id and label), the station, the case, and
    the method (a key of :data:`WAKE_UP_LABELS`, or the recorded word if unknown)."""

    vehicle_id: str
    vehicle_label: str
    station_id: str
    case_id: str
    method: str

    @property
    def label(self) -> str:
        """The method as a report shows it."""
        return WAKE_UP_LABELS.get(self.method, self.method)


def wake_up_rows(report: Report) -> tuple[WakeUpRow, ...]:
    """Every recorded wake-up, ordered by vehicle, station and case (empty: none recorded)."""
    rows = []
    for result in report.results:
        for check in result.checks:
            if check.verdict not in (Verdict.PASS, Verdict.NON_STRICT, Verdict.FAIL):
                continue
            found = _WOKEN_BY.match(check.actual)
            if found is None:
                continue
            devices = result.info.devices
            vehicle = next((d for d in devices if d.kind is DeviceKind.VEHICLE), None)
            station = next((d for d in devices if d.kind is DeviceKind.STATION), None)
            rows.append(
                WakeUpRow(
                    vehicle_id="" if vehicle is None else vehicle.id,
                    vehicle_label="" if vehicle is None else (vehicle.label or vehicle.id),
                    station_id="" if station is None else station.id,
                    case_id=result.info.case_id,
                    method=found.group("method"),
                )
            )
    return tuple(sorted(rows, key=lambda r: (r.vehicle_id, r.station_id, r.case_id)))


def wake_up_markdown(report: Report) -> list[str]:
    """The Markdown section (a heading and a table), or no lines when nothing was recorded."""
    rows = wake_up_rows(report)
    if not rows:
        return []
    out = [
        "### Wake-up needed per vehicle",
        "",
        "| vehicle | station | case | wake-up needed |",
        "|---|---|---|---|",
    ]
    for row in rows:
        cells = (row.vehicle_label, row.station_id, row.case_id, row.label)
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out.append("")
    return out
