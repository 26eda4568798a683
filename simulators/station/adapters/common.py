"""What the OCPP adapters of every version share: the host interface, measurands, settings.

An adapter never touches sockets or the clock itself: it answers the CSMS's CALLs from the
:class:`~simulators.station.StationCore` its host owns, and queues station → CSMS messages
through :meth:`StationHost.enqueue` (one outstanding CALL at a time, in order). Payloads are
built when they are sent (``build`` callables), so a 1.6 MeterValues queued before the
CSMS's StartTransaction answer still carries the transactionId the CSMS assigned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from harness.connection import Handler
from harness.session import ResultReceived
from harness.versions import OcppVersion
from simulators.station.core import StationCore
from simulators.station.events import StartRefusal, StartRefused, StationEvent
from simulators.station.faults import StationFault
from simulators.station.link import VehicleLink
from simulators.station.memory import StationMemory
from simulators.station.metering import MeterSample

__all__ = [
    "ALL_MEASURANDS",
    "Builder",
    "Measurand",
    "OcppAdapter",
    "ResultHook",
    "StationHost",
    "StationSettings",
    "availability",
    "busy_accepted",
    "fixed",
    "iso",
    "parse_measurands",
    "sampled_values",
]

Builder = Callable[[], Mapping[str, Any] | None]
"""Builds a payload when it is about to be sent; ``None`` drops the message."""
ResultHook = Callable[[ResultReceived], Awaitable[None] | None]


class Measurand(StrEnum):
    """The measurands the simulated meter reports (same spelling in 1.6 and 2.x)."""

    CURRENT_IMPORT = "Current.Import"
    CURRENT_EXPORT = "Current.Export"
    CURRENT_OFFERED = "Current.Offered"
    POWER_IMPORT = "Power.Active.Import"
    POWER_EXPORT = "Power.Active.Export"
    ENERGY_IMPORT = "Energy.Active.Import.Register"
    ENERGY_EXPORT = "Energy.Active.Export.Register"
    SOC = "SoC"
    VOLTAGE = "Voltage"


ALL_MEASURANDS: tuple[Measurand, ...] = (
    Measurand.CURRENT_IMPORT,
    Measurand.CURRENT_OFFERED,
    Measurand.POWER_IMPORT,
    Measurand.POWER_EXPORT,
    Measurand.ENERGY_IMPORT,
    Measurand.ENERGY_EXPORT,
    Measurand.SOC,
    Measurand.VOLTAGE,
)
"""The default sampled data (1.6 MeterValuesSampledData, 2.x TxUpdatedMeasurands)."""


def parse_measurands(text: str) -> tuple[Measurand, ...] | None:
    """A comma-separated measurand list, or ``None`` when one of them is not supported."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return tuple(Measurand(n) for n in names)
    except ValueError:
        return None


@dataclass(slots=True)
class StationSettings:
    """The run-time settings a CSMS may change (configuration keys / variables).

    Intervals in clock seconds; ``heartbeat_interval_s`` is first set by the BootNotification
    answer. The meter interval itself lives in the core's configuration.
    """

    heartbeat_interval_s: int = 300
    measurands: tuple[Measurand, ...] = ALL_MEASURANDS
    aligned_measurands: tuple[Measurand, ...] = (Measurand.ENERGY_IMPORT,)
    """The clock-aligned data (1.6 MeterValuesAlignedData)."""
    smart_charging_enabled: bool = True
    limit_change_significance: float = 0.1
    external_control_signals_enabled: bool = False
    notify_with_schedules: bool = False


class StationHost(Protocol):
    """What an adapter may use of the station that runs it."""

    @property
    def core(self) -> StationCore: ...

    @property
    def settings(self) -> StationSettings: ...

    def now(self) -> datetime:
        """The station's clock now."""

    def enqueue(self, action: str, build: Builder, *, on_result: ResultHook | None = None) -> None:
        """Send ``action`` after the messages queued before it."""

    async def call(self, action: str, payload: dict[str, Any]) -> ResultReceived | None:
        """Send ``action`` after the queued messages and wait for the answer (``None``: the
        CSMS answered with a CALLERROR, did not answer, or the connection closed)."""

    def vehicle(self, evse_id: int) -> VehicleLink | None:
        """The vehicle plugged into ``evse_id``, if any."""

    @property
    def offline(self) -> bool:
        """True while the CSMS is unreachable (what is sent meanwhile waits in the queue)."""

    def set_meter_interval(self, interval_s: int) -> None:
        """Change the sampled meter interval of transactions (clock seconds, 0: off)."""

    def poke(self) -> None:
        """Something changed: let the simulation loop run a step now."""

    @property
    def memory(self) -> StationMemory:
        """What the station keeps over a reboot (its flash)."""

    def reboot(self) -> None:
        """Reboot soon (a Reset): the transactions end, the connection closes; the next
        start of the station reads :attr:`memory`."""


class OcppAdapter(Protocol):
    """One OCPP version's view of a station (see the version modules)."""

    version: OcppVersion

    @property
    def handlers(self) -> Mapping[str, Handler]:
        """CSMS → station actions this version answers (others get NotImplemented)."""

    def boot_request(self) -> dict[str, Any]:
        """The BootNotification payload."""

    def after_boot(self) -> None:
        """Queue what a station sends once accepted (StatusNotification of every connector)."""

    def on_event(self, event: StationEvent) -> None:
        """Queue the messages a core event becomes."""

    async def authorize(self, id_token: str) -> bool:
        """Ask the CSMS about ``id_token`` (Authorize); True when Accepted."""

    def discharge_allowed(self, evse_id: int) -> bool:
        """True when the vehicle on ``evse_id`` may export (2.1 only)."""

    def external_limit_changed(self, evse_id: int, schedule: dict[str, Any] | None) -> None:
        """Queue what reports an external system's limit (``schedule``, the 2.x
        ChargingScheduleType of the ChargingStationExternalConstraints profile) or its end
        (``None``)."""


def availability(results: set[str]) -> str:
    """One ChangeAvailability status for several EVSEs: Rejected if any refused, Scheduled if
    any waits for its transaction to end, else Accepted."""
    for status in ("Rejected", "Scheduled"):
        if status in results:
            return status
    return "Accepted"


def fixed(payload: Mapping[str, Any]) -> Builder:
    """A builder that always gives ``payload``."""
    return lambda: payload


def iso(instant: datetime) -> str:
    """``2024-01-01T12:00:00.000Z`` (milliseconds, UTC)."""
    global _iso_last
    last = _iso_last
    if last[0] is instant:  # a sample's time is written twice (event and meter value)
        return last[1]
    if instant.year < 1000:  # isoformat pads the year to four digits, strftime does not
        text = instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
    else:  # isoformat truncates to milliseconds, as microsecond // 1000 does
        text = instant.isoformat(timespec="milliseconds")[:23] + "Z"
    _iso_last = (instant, text)
    return text


_iso_last: tuple[datetime | None, str] = (None, "")


_UNITS = {
    Measurand.CURRENT_IMPORT: "A",
    Measurand.CURRENT_EXPORT: "A",
    Measurand.CURRENT_OFFERED: "A",
    Measurand.POWER_IMPORT: "W",
    Measurand.POWER_EXPORT: "W",
    Measurand.ENERGY_IMPORT: "Wh",
    Measurand.ENERGY_EXPORT: "Wh",
    Measurand.SOC: "Percent",
    Measurand.VOLTAGE: "V",
}


def sampled_values(
    sample: MeterSample, measurands: tuple[Measurand, ...]
) -> list[tuple[Measurand, str | None, float, str]]:
    """``(measurand, phase, value, unit)`` rows of ``sample`` for the chosen measurands.

    Currents are reported per phase (L1–L3), voltage per phase to neutral (L1-N …) on the
    phases in use; SoC only when the sample has one. Values are rounded to 0.1 A, 1 W, 1 Wh.
    """
    rows: list[tuple[Measurand, str | None, float, str]] = []
    for m in measurands:
        unit = _UNITS[m]
        if m is Measurand.CURRENT_IMPORT or m is Measurand.CURRENT_EXPORT:
            importing = m is Measurand.CURRENT_IMPORT
            values = sample.current_import_a if importing else sample.current_export_a
            for phase, value in zip(("L1", "L2", "L3"), values, strict=True):
                rows.append((m, phase, round(value, 1), unit))
        elif m is Measurand.CURRENT_OFFERED:
            rows.append((m, None, round(sample.current_offered_a, 1), unit))
        elif m is Measurand.POWER_IMPORT:
            rows.append((m, None, round(sample.power_import_w), unit))
        elif m is Measurand.POWER_EXPORT:
            rows.append((m, None, round(sample.power_export_w), unit))
        elif m is Measurand.ENERGY_IMPORT:
            rows.append((m, None, round(sample.energy_import_wh), unit))
        elif m is Measurand.ENERGY_EXPORT:
            rows.append((m, None, round(sample.energy_export_wh), unit))
        elif m is Measurand.SOC:
            if sample.soc_percent is not None:
                rows.append((m, None, round(sample.soc_percent, 1), unit))
        else:  # Voltage
            for phase in ("L1-N", "L2-N", "L3-N")[: max(1, sample.phases_in_use)]:
                rows.append((m, phase, round(sample.voltage_v, 1), unit))
    return rows


def busy_accepted(host: StationHost, refused: StartRefused) -> bool:
    """Under ``accepts_start_when_busy``: a remote start refused because the EVSE is busy is
    answered Accepted (and nothing happens)."""
    return refused.reason is StartRefusal.BUSY and host.core.config.has(
        StationFault.ACCEPTS_START_WHEN_BUSY
    )
