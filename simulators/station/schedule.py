"""The station's answer to GetCompositeSchedule: its engine's composite, or a faulty one.

A well-behaved station answers its own engine's composite
(:mod:`simulators.station.smartcharging`, rounded to its OCPP version's step; where no
profile limits, its hardware maximum). Each composite fault of
:class:`~simulators.station.faults.StationFault` changes one thing:

* ``unit_ignored`` — computed in the other unit (W when A was asked, A when W was asked);
* ``endless_composite`` — computed over ``ENDLESS_DURATION_S`` (or twice the request);
* ``too_many_decimals`` — not rounded (exact values become floats such as 7.246376811594203);
* ``redundant_periods`` — the engine's periods split again at every profile boundary, so
  adjacent periods may carry equal values;
* ``empty_composite`` — no periods at all while any profile is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from simulators.station.config import StationConfig
from simulators.station.faults import ENDLESS_DURATION_S, StationFault
from simulators.station.smartcharging import (
    Composite,
    Kind,
    Placed,
    Profiles,
    RateUnit,
    Station,
    epoch_s,
)

__all__ = ["profile_boundaries", "station_composite"]


def _default_limit(config: StationConfig, evse_id: int, unit: RateUnit) -> Decimal:
    """The hardware maximum, reported where no profile limits."""
    amps = config.max_current_per_evse_a
    if evse_id == 0:
        amps *= config.evse_count
        if config.station_max_current_a is not None:
            amps = min(amps, config.station_max_current_a)
    value = Decimal(str(amps))
    if unit == RateUnit.W:
        value *= Decimal(str(config.voltage_v)) * config.phases
    return value


def _ceil_s(at: datetime) -> int:
    """Seconds since 1970 of ``at`` (to the millisecond), rounded up."""
    return epoch_s(at) + (1 if at.microsecond // 1000 else 0)


def profile_boundaries(
    installed: Sequence[Placed],
    *,
    evse_ids: Sequence[int],
    at: datetime,
    station: Station,
) -> tuple[set[int], bool]:
    """Instants (epoch s) near ``at`` where a profile that applies to ``evse_ids`` (0: the
    station as a whole) starts a period, ends its schedule, or becomes valid or invalid.

    The second value is True when some profile is anchored at ``at`` itself (a Relative
    profile without a transaction, or any Relative profile asked about for the station), so
    its boundaries move with the instant asked about. Recurring profiles give the current
    and the next repetition.
    """
    lo = epoch_s(at)
    # Boundaries are rounded up to the second: a profile's instants may carry milliseconds,
    # and a wake-up before one would find nothing changed yet.
    out: set[int] = set()
    floating = False
    wanted = set(evse_ids) | {0}
    for item in installed:
        if item.evse_id not in wanted:
            continue
        profile = item.profile
        for instant in (profile.valid_from, profile.valid_to):
            if instant is not None:
                out.add(_ceil_s(instant))
        for schedule in profile.schedules:
            anchors: list[int] = []
            start = schedule.start_schedule
            if profile.kind == Kind.RECURRING and profile.recurrency is not None and start:
                every = 86_400 if profile.recurrency == "Daily" else 604_800
                base = _ceil_s(start) + (lo - _ceil_s(start)) // every * every
                anchors = [base, base + every]
                out.update(anchors)
            elif profile.kind == Kind.RELATIVE or start is None:
                for evse in evse_ids:
                    tx_start = next(
                        (t for e, _, t in station.transactions if evse and e == evse), None
                    )
                    if tx_start is None:
                        floating = True
                        anchors.append(lo)
                    else:
                        anchors.append(_ceil_s(tx_start))
            else:
                anchors = [_ceil_s(start)]
            for anchor in anchors:
                out.update(anchor + p.start_period_s for p in schedule.periods)
                if schedule.duration_s is not None:
                    out.add(anchor + schedule.duration_s)
    return out, floating


def _split(schedule: Composite, cuts: set[int]) -> Composite:
    lo = epoch_s(schedule.start)
    offsets = sorted(c - lo for c in cuts if 0 < c - lo < schedule.duration_s)
    steps = list(schedule.steps)
    for offset in offsets:
        # A cut is rounded up to the second, a period start down: within 1 s they are one.
        if any(abs(p.offset_s - offset) <= 1 for p in steps):
            continue
        current = max((p for p in steps if p.offset_s < offset), key=lambda p: p.offset_s)
        steps.append(replace(current, offset_s=offset))
    steps.sort(key=lambda p: p.offset_s)
    return replace(schedule, steps=tuple(steps))


def station_composite(
    profiles: Profiles,
    *,
    config: StationConfig,
    evse_id: int,
    start: datetime,
    duration_s: int,
    unit: RateUnit,
    station: Station,
) -> Composite:
    """The composite schedule the station answers (see the module docstring).

    Raises :class:`~simulators.station.smartcharging.NoSuchEvse` for an EVSE the station
    lacks.
    """
    faults = config.faults
    if StationFault.UNIT_IGNORED in faults:
        unit = RateUnit.W if unit == RateUnit.A else RateUnit.A
    if StationFault.ENDLESS_COMPOSITE in faults:
        duration_s = max(ENDLESS_DURATION_S, 2 * duration_s)
    # The answer's scheduleStart is written in whole seconds: compute from that instant, so
    # that its startPeriods count from the scheduleStart it reports.
    start = start.replace(microsecond=0)
    schedule = profiles.composite(
        station,
        evse_id=evse_id,
        start=start,
        duration_s=duration_s,
        unit=unit,
        default=_default_limit(config, evse_id, unit),
        exact=StationFault.TOO_MANY_DECIMALS in faults,
    )
    if StationFault.REDUNDANT_PERIODS in faults:
        evses = station.evse_ids if evse_id == 0 else (evse_id,)
        cuts, _ = profile_boundaries(profiles.placed, evse_ids=evses, at=start, station=station)
        schedule = _split(schedule, cuts)
    if StationFault.EMPTY_COMPOSITE in faults and profiles.placed:
        schedule = replace(schedule, steps=())
    return schedule
