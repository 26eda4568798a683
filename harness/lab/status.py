"""The lab's live view: which stations are connected, what they are, how far their runs are.

:class:`StatusBoard` holds one :class:`StationStatus` per station id and renders them as a
fixed-width table (:meth:`StatusBoard.table`); the ``serve`` command prints it whenever a
station connects, boots, finishes a case or disconnects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from harness.results import Verdict
from harness.runner.identity import BootInfo, boot_info

__all__ = ["BootInfo", "StationState", "StationStatus", "StatusBoard", "boot_info"]


class StationState(StrEnum):
    """Where a station's run stands."""

    CONNECTED = "connected"
    RUNNING = "running"
    WAITING = "waiting"  # disconnected during its run; the run waits for it to come back
    DONE = "done"


@dataclass(slots=True)
class StationStatus:
    """One station's line of the table (mutable: the board updates it as things happen)."""

    station_id: str
    ocpp: str = ""
    boot: BootInfo = field(default_factory=BootInfo)
    connected: bool = False
    state: StationState = StationState.CONNECTED
    case: str = ""
    """The case now running (or the last one)."""
    planned: int = 0
    verdicts: dict[Verdict, int] = field(default_factory=dict)
    run_dir: str = ""

    @property
    def finished(self) -> int:
        """How many cases have a verdict."""
        return sum(self.verdicts.values())

    def tally(self) -> str:
        """``3 PASS, 1 FAIL`` in a fixed verdict order (empty before the first verdict)."""
        return ", ".join(f"{self.verdicts[v]} {v.value}" for v in Verdict if v in self.verdicts)


_COLUMNS = ("station", "conn", "ocpp", "vendor", "model", "firmware", "state", "cases", "case")


class StatusBoard:
    """Every station seen since ``serve`` started, in order of first connection."""

    def __init__(self) -> None:
        self.stations: dict[str, StationStatus] = {}

    def station(self, station_id: str) -> StationStatus:
        """The status of ``station_id`` (created on first use)."""
        if station_id not in self.stations:
            self.stations[station_id] = StationStatus(station_id)
        return self.stations[station_id]

    def table(self) -> str:
        """The table as text, one line per station under a header."""
        rows = [list(_COLUMNS)]
        for s in self.stations.values():
            progress = f"{s.finished}/{s.planned}" if s.planned else "-"
            if s.tally():
                progress += f" ({s.tally()})"
            rows.append(
                [
                    s.station_id,
                    "yes" if s.connected else "no",
                    s.ocpp or "-",
                    s.boot.vendor or "-",
                    s.boot.model or "-",
                    s.boot.firmware or "-",
                    s.state.value,
                    progress,
                    s.case or "-",
                ]
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
