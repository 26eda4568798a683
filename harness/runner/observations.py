"""What the harness (as CSMS) has seen of the DUT during one case.

The default handlers feed an :class:`ObservationLog`: connector/EVSE status, running
transactions, and meter samples stamped with the clock time they arrived. Steps read it
(``expect_settled`` judges the samples, the mirror store needs the transactions), and at the
end of a case it becomes the case's measurement series (:meth:`ObservationLog.series`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.results import MeasurementSource, Phase, Quantity, Series, Unit

__all__ = [
    "LAB_MEASURANDS",
    "LimitRecord",
    "MeterSample",
    "ObservationLog",
    "ObservationObserver",
    "ObservedTransaction",
    "dut_time",
    "meter_samples",
]

TRUSTED_OFFSET_S = 120.0
"""A DUT timestamp within this many clock seconds of the arrival time is used as the time of
the observation (it is exact, while the arrival lags by the processing time — which an
accelerated clock stretches); further off, the DUT's clock is not trusted and the arrival
time is used."""


def dut_time(text: object, *, arrival: datetime) -> datetime:
    """The DUT's timestamp ``text`` if it is plausible (see :data:`TRUSTED_OFFSET_S`), else
    ``arrival``."""
    if not isinstance(text, str):
        return arrival
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return arrival
    if stamp.tzinfo is None:
        return arrival
    if abs((stamp - arrival).total_seconds()) > TRUSTED_OFFSET_S:
        return arrival
    return stamp


LAB_MEASURANDS = frozenset({"Current.Import", "Power.Active.Import"})
"""What a lab meter measures (see :mod:`harness.runner.labmeter`)."""
_PHASES = {"L1": Phase.L1, "L2": Phase.L2, "L3": Phase.L3}
_PHASE_ALIASES = {"L1-N": "L1", "L2-N": "L2", "L3-N": "L3"}


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value: when it arrived (clock time), where, what, on which phase."""

    t: datetime
    evse: int
    measurand: str
    phase: str | None
    value: float
    frame: int | None = None
    """Index of the trace frame that carried it (evidence)."""
    source: MeasurementSource = MeasurementSource.METER_VALUES
    """Who measured it: the station (MeterValues) or a lab meter (:mod:`.labmeter`)."""


@dataclass(frozen=True, slots=True)
class ObservedTransaction:
    """A transaction the harness saw start (StartTransaction / TransactionEvent Started)."""

    transaction_id: str
    evse: int
    start: datetime


_KILO_UNITS = frozenset({"kW", "kWh", "kvar", "kVA"})
"""Units whose values :func:`meter_samples` converts to W, Wh, var, VA."""


def meter_samples(
    meter_value: Iterable[Mapping[str, Any]],
    *,
    evse: int,
    at: datetime,
    frame: int | None,
    rejected: list[tuple[int | None, str]] | None = None,
) -> list[MeterSample]:
    """The samples of a MeterValues ``meterValue`` list (1.6 and 2.x shapes), stamped with
    their own timestamp (or ``at``, the arrival time, see :func:`dut_time`).

    1.6 values are text (``"16.0"``), 2.x numbers; ``kW`` is converted to W. The measurand
    defaults to ``Energy.Active.Import.Register`` as both versions say. Unreadable values are
    skipped (the schema check of the session reports malformed frames). A value that reads as
    a number but is not finite (1.6 text ``"NaN"``, ``"Infinity"``; 2.x ``1e999``) is the
    DUT's fault: it is skipped and ``(frame, what)`` appended to ``rejected``, if given.
    """
    out: list[MeterSample] = []
    for entry in meter_value:
        when = dut_time(entry.get("timestamp"), arrival=at)
        for sampled in entry.get("sampledValue", ()) or ():
            # ``type(...) is dict`` first: decoded JSON, and much cheaper than the ABC check
            if type(sampled) is not dict and not isinstance(sampled, Mapping):
                continue
            try:
                value = float(sampled.get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if not math.isfinite(value):
                if rejected is not None:
                    what = sampled.get("measurand") or "Energy.Active.Import.Register"
                    rejected.append((frame, f"{what} value {sampled.get('value')!r}"))
                continue
            unit = sampled.get("unit")
            if unit is None:
                of = sampled.get("unitOfMeasure")
                if type(of) is dict or isinstance(of, Mapping):
                    unit = of.get("unit")
            phase = sampled.get("phase")
            phase = _PHASE_ALIASES.get(phase, phase) if isinstance(phase, str) else None
            measurand = str(sampled.get("measurand") or "Energy.Active.Import.Register")
            if unit in _KILO_UNITS:
                value *= 1000.0
            out.append(MeterSample(when, evse, measurand, phase, value, frame))
    return out


ObservationObserver = Callable[["MeterSample | LimitRecord"], None]
"""Told of every meter sample and every change of the limit in force as it is recorded (a
live view such as :mod:`harness.console` plots them); must not raise or block."""


@dataclass(frozen=True, slots=True)
class LimitRecord:
    """The limit in force on ``evse`` from ``t`` (``None``: no limit), as recorded."""

    t: datetime
    evse: int
    limit: float | None
    unit: str


@dataclass
class ObservationLog:
    """Status, transactions and meter samples seen during the current case."""

    status: dict[int, str] = field(default_factory=dict)
    transactions: dict[int, ObservedTransaction] = field(default_factory=dict)
    samples: list[MeterSample] = field(default_factory=list)
    limits: list[tuple[datetime, int, float | None, str]] = field(default_factory=list)
    """``(time, evse, limit, unit)`` each time the mirror's limit was evaluated."""
    setpoints: list[tuple[datetime, int, float | None]] = field(default_factory=list)
    """``(time, evse, setpoint W)`` each time it changed (2.1; ``None``: no setpoint)."""
    invalid_values: list[tuple[int | None, str]] = field(default_factory=list)
    """``(trace frame, what)`` for each sampled value that was not a finite number (the
    DUT's fault, judged FAIL at the end of the case)."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    booted: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the DUT sent BootNotification on this connection."""
    boot: dict[str, Any] | None = None
    """The payload of the DUT's last BootNotification on this connection (vendor, model,
    firmware: a lab shows them), or ``None`` before one came."""
    observers: list[ObservationObserver] = field(default_factory=list)
    """Told of each sample and limit as it is recorded (see :data:`ObservationObserver`)."""
    status_count: dict[int, int] = field(default_factory=dict)
    """How many status reports came per EVSE (tells whether one came since a moment)."""
    pending_starts: dict[int | None, datetime] = field(default_factory=dict)
    """Remote starts the DUT accepted that no transaction has shown yet: EVSE (``None``: the
    station chooses) → when the start was accepted (the reset waits a while for them)."""

    def notify(self) -> None:
        """Wake whoever waits for a new observation."""
        self.changed.set()

    def add_samples(self, samples: Iterable[MeterSample]) -> None:
        """Record meter samples and wake waiters."""
        added = list(samples)
        self.samples.extend(added)
        for observer in self.observers:
            for sample in added:
                observer(sample)
        self.notify()

    def start_transaction(self, transaction: ObservedTransaction) -> None:
        """Record a transaction start (it settles a pending remote start on its EVSE)."""
        self.transactions[transaction.evse] = transaction
        self.pending_starts.pop(transaction.evse, None)
        self.pending_starts.pop(None, None)
        self.notify()

    def start_accepted(self, evse: int | None, at: datetime) -> None:
        """The DUT accepted a remote start on ``evse`` (``None``: an EVSE of its choice) at
        ``at``; unless a transaction already runs there, one is expected to start."""
        if evse in self.transactions or (evse is None and self.transactions):
            return
        self.pending_starts[evse] = at

    def end_transaction(self, transaction_id: str) -> ObservedTransaction | None:
        """Record a transaction end; return it if it was known."""
        for evse, tx in list(self.transactions.items()):
            if tx.transaction_id == transaction_id:
                del self.transactions[evse]
                self.notify()
                return tx
        return None

    def set_status(self, evse: int, status: str) -> None:
        """Record a connector/EVSE status."""
        self.status[evse] = status
        self.status_count[evse] = self.status_count.get(evse, 0) + 1
        self.notify()

    def record_limit(self, t: datetime, evse: int, limit: float | None, unit: str) -> None:
        """Record the limit the oracle says is in force (for the ``limit`` series)."""
        if self.limits and self.limits[-1][1:] == (evse, limit, unit):
            return
        self.limits.append((t, evse, limit, unit))
        for observer in self.observers:
            observer(LimitRecord(t, evse, limit, unit))

    def record_setpoint(self, t: datetime, evse: int, setpoint_w: float | None) -> None:
        """Record the 2.1 setpoint the oracle says is in force (for the ``setpoint`` series)."""
        previous = [s for _, e, s in self.setpoints if e == evse]
        if (previous[-1] if previous else None) == setpoint_w:
            return
        self.setpoints.append((t, evse, setpoint_w))

    def clear_case(self) -> None:
        """Forget samples and limits (a new case starts); status and transactions stay."""
        self.samples.clear()
        self.invalid_values.clear()
        self.limits.clear()
        self.setpoints.clear()

    def series(
        self,
        *,
        evse: int | None = None,
        measured_by: MeasurementSource = MeasurementSource.METER_VALUES,
    ) -> tuple[Series, ...]:
        """The case's measurement series (limit, offered, per-phase current, powers).

        ``measured_by``: whose samples make the measured current and power series when both
        the station and a lab meter reported them (the one that judged the case)."""
        lab = MeasurementSource.LAB_METER

        def kept(sample: MeterSample) -> bool:
            if evse is not None and sample.evse != evse:
                return False
            if measured_by is not lab:
                return sample.source is not lab
            # judged by the lab meter: its current and power; the rest from the DUT
            if sample.measurand in LAB_MEASURANDS:
                return sample.source is lab
            return True

        chosen = [s for s in self.samples if kept(s)]
        out: list[Series] = []
        limits = sorted(
            ((t, v) for t, e, v, u in self.limits if u == "A" and (evse in (None, e))),
            key=lambda p: p[0],
        )
        if limits:
            out.append(Series.of(Quantity.LIMIT, unit=Unit.A, points=limits))
        setpoints = sorted(
            ((t, v) for t, e, v in self.setpoints if evse in (None, e)), key=lambda p: p[0]
        )
        if any(v is not None for _, v in setpoints):
            out.append(Series.of(Quantity.SETPOINT, unit=Unit.W, points=setpoints))

        # One pass over the samples (in order), then each series sorted by time (stable).
        grouped: dict[tuple[str, str | None], list[tuple[datetime, float | None]]] = {}
        for s in chosen:
            key = (s.measurand, s.phase)
            found = grouped.get(key)
            if found is None:
                grouped[key] = found = []
            found.append((s.t, s.value))

        def points(measurand: str, phase: str | None) -> list[tuple[datetime, float | None]]:
            return sorted(grouped.get((measurand, phase), ()), key=lambda p: p[0])

        offered = points("Current.Offered", None)
        if offered:
            out.append(Series.of(Quantity.CURRENT_OFFERED, unit=Unit.A, points=offered))
        for measurand, quantity in (
            ("Current.Import", Quantity.CURRENT_IMPORT),
            ("Current.Export", Quantity.CURRENT_EXPORT),
        ):
            for name, phase in _PHASES.items():
                current = points(measurand, name)
                if current:
                    out.append(Series.of(quantity, unit=Unit.A, points=current, phase=phase))
        for measurand, quantity in (
            ("Power.Active.Import", Quantity.POWER_IMPORT),
            ("Power.Active.Export", Quantity.POWER_EXPORT),
        ):
            total = points(measurand, None)
            if total:
                out.append(Series.of(quantity, unit=Unit.W, points=total))
        return tuple(out)
