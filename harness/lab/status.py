"""The lab's live view: which stations are connected, what they are, how far their runs are.

:class:`StatusBoard` holds one :class:`StationStatus` per station id and renders them as a
fixed-width table (:meth:`StatusBoard.table`); the ``serve`` command prints it whenever a
station connects, boots, finishes a case or disconnects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.results import Verdict

__all__ = ["BootInfo", "StationState", "StationStatus", "StatusBoard", "boot_info"]


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a station said about itself in BootNotification (empty: not said)."""

    vendor: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def boot_info(payload: Mapping[str, Any] | None) -> BootInfo:
    """Vendor, model, firmware and serial from a BootNotification payload of any version.

    OCPP 1.6: ``chargePointVendor``, ``chargePointModel``, ``firmwareVersion``,
    ``chargePointSerialNumber``; 2.0.1/2.1: ``chargingStation.vendorName``, ``.model``,
    ``.firmwareVersion``, ``.serialNumber``.
    """
    if not payload:
        return BootInfo()
    station = payload.get("chargingStation")
    if isinstance(station, Mapping):
        return BootInfo(
            vendor=_text(station.get("vendorName")),
            model=_text(station.get("model")),
            firmware=_text(station.get("firmwareVersion")),
            serial=_text(station.get("serialNumber")),
        )
    return BootInfo(
        vendor=_text(payload.get("chargePointVendor")),
        model=_text(payload.get("chargePointModel")),
        firmware=_text(payload.get("firmwareVersion")),
        serial=_text(payload.get("chargePointSerialNumber")),
    )


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
