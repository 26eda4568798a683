"""The station's answer to GetCompositeSchedule: the oracle's composite, or a faulty one.

A well-behaved station answers exactly the oracle's composite (rounded to its OCPP
version's precision; where no profile limits, its hardware maximum). Each composite fault of
:class:`~simulators.station.faults.StationFault` changes one thing:

* ``unit_ignored`` — computed in the other unit (W when A was asked, A when W was asked);
* ``endless_composite`` — computed over ``ENDLESS_DURATION_S`` (or twice the request);
* ``too_many_decimals`` — not rounded (exact values become floats such as 7.246376811594203);
* ``redundant_periods`` — the oracle's periods split again at every profile boundary, so
  adjacent periods may carry equal values;
* ``empty_composite`` — no periods at all while any profile is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from harness.smartcharging import (
    PRECISION,
    CompositeSchedule,
    InstalledProfile,
    Kind,
    RateUnit,
    StationContext,
    composite_schedule,
)
from harness.smartcharging.composite import to_epoch_s
from simulators.station.config import StationConfig
from simulators.station.faults import ENDLESS_DURATION_S, StationFault

__all__ = ["station_composite"]


def _default_limit(config: StationConfig, evse_id: int, unit: RateUnit) -> Decimal:
    """The hardware maximum, reported where no profile limits."""
    amps = config.max_current_per_evse_a
    if evse_id == 0:
        amps *= config.evse_count
        if config.station_max_current_a is not None:
            amps = min(amps, config.station_max_current_a)
    value = Decimal(str(amps))
    if unit is RateUnit.W:
        value *= Decimal(str(config.voltage_v)) * config.phases
    return value


def _boundaries(
    installed: Sequence[InstalledProfile],
    *,
    evse_id: int,
    start: datetime,
    context: StationContext,
) -> set[int]:
    """Instants (epoch s) where some installed profile's period begins or its schedule ends."""
    lo = to_epoch_s(start)
    out: set[int] = set()
    evses = context.evse_ids if evse_id == 0 else (evse_id,)
    for item in installed:
        if item.evse_id not in (0, *evses):
            continue
        schedule = item.profile.schedule
        if item.profile.kind is Kind.RELATIVE or schedule.start_schedule is None:
            tx = context.transaction_on(evse_id) if evse_id else None
            anchor = to_epoch_s(tx.start) if tx is not None else lo
        else:
            anchor = to_epoch_s(schedule.start_schedule)
            if item.profile.kind is Kind.RECURRING and item.profile.recurrency is not None:
                every = item.profile.recurrency.period_s
                anchor += (lo - anchor) // every * every
        out.update(anchor + p.start_period_s for p in schedule.periods)
        if schedule.duration_s is not None:
            out.add(anchor + schedule.duration_s)
    return out


def _split(schedule: CompositeSchedule, cuts: set[int]) -> CompositeSchedule:
    lo = to_epoch_s(schedule.schedule_start)
    offsets = sorted(c - lo for c in cuts if 0 < c - lo < schedule.duration_s)
    periods = list(schedule.periods)
    for offset in offsets:
        if any(p.start_period_s == offset for p in periods):
            continue
        current = max(
            (p for p in periods if p.start_period_s < offset), key=lambda p: p.start_period_s
        )
        periods.append(replace(current, start_period_s=offset))
    periods.sort(key=lambda p: p.start_period_s)
    return replace(schedule, periods=tuple(periods))


def station_composite(
    installed: Sequence[InstalledProfile],
    *,
    config: StationConfig,
    evse_id: int,
    start: datetime,
    duration_s: int,
    unit: RateUnit,
    context: StationContext,
) -> CompositeSchedule:
    """The composite schedule the station answers (see the module docstring).

    Raises :class:`~harness.smartcharging.UnknownEvse` for an EVSE the station lacks.
    """
    faults = config.faults
    if StationFault.UNIT_IGNORED in faults:
        unit = RateUnit.W if unit is RateUnit.A else RateUnit.A
    if StationFault.ENDLESS_COMPOSITE in faults:
        duration_s = max(ENDLESS_DURATION_S, 2 * duration_s)
    precision = None if StationFault.TOO_MANY_DECIMALS in faults else PRECISION[config.ocpp_version]
    schedule = composite_schedule(
        installed,
        evse_id=evse_id,
        start=start,
        duration_s=duration_s,
        unit=unit,
        context=context,
        default_limit=_default_limit(config, evse_id, unit),
        precision=precision,
    )
    if StationFault.REDUNDANT_PERIODS in faults:
        schedule = _split(
            schedule, _boundaries(installed, evse_id=evse_id, start=start, context=context)
        )
    if StationFault.EMPTY_COMPOSITE in faults and installed:
        schedule = replace(schedule, periods=())
    return schedule
