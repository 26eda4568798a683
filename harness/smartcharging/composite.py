"""The composite schedule: what an EVSE (or the whole station, EVSE 0) may draw, over time.

Rules, in the order they apply at each instant:

1. Each profile is laid out on the time line: Absolute from its startSchedule, Relative from
   the start of the transaction on the EVSE (without a transaction, from the requested start,
   as the station would when asked at that moment), Recurring from the latest daily/weekly
   repetition of its startSchedule (also before it: startSchedule is only the anchor). A
   schedule ends after its ``duration``; a recurring one at the latest at the next
   repetition; and nothing applies outside validFrom/validTo.
2. Within one purpose the profile with the highest stackLevel that is in effect wins; where
   its schedule has ended the next lower one takes over (OCA TC_072). Between a station-wide
   (EVSE 0) and an EVSE-specific profile at the same stack level, the EVSE-specific one wins.
3. Demand: PriorityCharging (2.1, only while priority charging is active on the EVSE) over
   TxProfile (only for the transaction that runs) over TxDefaultProfile. A TxProfile that is
   valid (installed for the running transaction, within validFrom/validTo) overrules every
   TxDefaultProfile for as long as it is valid, also where its own schedule has ended or not
   begun: OCPP 1.6 §3.13.2 (TxProfile "SHALL overrule the default charging profile ... for
   the duration of the current transaction"), 2.0.1 Part 2 §3.6 / use case K08 (OCA TC_066_CS
   table 82 and TC_K_41_CS table 288 expect the station maximum, not the TxDefault, after
   the TxProfile's schedule ends). ``tx_default_resumes=True`` computes the other reading
   (TxDefault resumes after the TxProfile's schedule), only so that a verdict can say an
   answer follows it.
4. Caps: ChargingStationMaxProfile (plus 2.1 LocalGeneration on EVSE 0, which adds to the
   station maximum) and ChargingStationExternalConstraints on EVSE 0 and on the EVSE: the
   limit is the minimum, the discharge limit the maximum (least negative); a setpoint is
   clamped to the limit when charging and to the discharge limit when discharging.
5. EVSE 0 is the sum over the EVSEs of their demand (each capped by its own external
   constraints), capped by the station-wide caps. An EVSE where nothing limits counts with
   ``evse_default_limit`` (its declared maximum; without one the total is unlimited). The
   total's numberPhases is the most phases any EVSE uses (the specification does not say;
   the A total is then the sum of per-phase currents, the load of the most loaded phase
   when one-phase EVSEs share it, as EVerest libocpp reports it too).
6. Where no limit applies, ``default_limit`` (in the requested unit) is reported; ``None``
   leaves the limit empty (meaning "no limit").
7. Phases: every profile counts with its period's numberPhases, 3 when absent. The EVSE
   runs on the fewest phases that the demand and the caps allow (a cap with fewer phases
   lowers the reported numberPhases; it is reported when some profile gave one). An A limit
   binds the current of each phase, a W limit the power over the phases actually used, so
   the A and the W answer describe the same state (a 10 A one-phase cap under a 2070 W
   schedule: 9 A on one phase, or 2070 W). With 2.1 per-phase values (limit_L2/L3...) the
   caps apply phase by phase, each converted with its own phases.
8. Limits are converted with the station voltage, rounded toward zero to ``precision``, and
   adjacent equal periods are merged (periods that differ only in numberPhases stay apart).
   The periods cover exactly the requested duration.

Instants are handled to the millisecond. A period's ``start_period_s`` is its offset from
the schedule start floored to whole seconds (the resolution of startPeriod); a sub-second
sliver between two boundaries in the same second gives way to the later value.
:attr:`CompositeSchedule.start_offsets_ms` keeps the exact offsets for the judge.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness.smartcharging.model import (
    DEFAULT_NUMBER_PHASES,
    ChargingProfile,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    SchedulePeriod,
    StationContext,
)
from harness.smartcharging.units import convert, round_toward_zero

__all__ = [
    "CompositePeriod",
    "CompositeSchedule",
    "InstalledProfile",
    "UnknownEvse",
    "composite_schedule",
    "from_epoch_ms",
    "from_epoch_s",
    "to_epoch_ms",
    "to_epoch_s",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch_s(instant: datetime) -> int:
    """Whole seconds since 1970 (floored) of an aware datetime."""
    return (instant - _EPOCH) // timedelta(seconds=1)


def from_epoch_s(seconds: int) -> datetime:
    """The aware UTC datetime ``seconds`` after 1970."""
    return _EPOCH + timedelta(seconds=seconds)


def to_epoch_ms(instant: datetime) -> int:
    """Whole milliseconds since 1970 (floored) of an aware datetime."""
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(milliseconds: int) -> datetime:
    """The aware UTC datetime ``milliseconds`` after 1970."""
    return _EPOCH + timedelta(milliseconds=milliseconds)


class UnknownEvse(ValueError):
    """The EVSE/connector asked for does not exist."""


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    """A profile as installed on ``evse_id`` (0 = station-wide)."""

    evse_id: int
    profile: ChargingProfile


@dataclass(frozen=True, slots=True)
class CompositePeriod:
    """One period of a composite schedule, values in the schedule's unit.

    ``limit=None`` means no limit applies. The 2.1 fields stay ``None`` unless a profile set
    them. With per-phase values (``limit_l2``/``limit_l3``) ``limit`` is phase L1's.
    """

    start_period_s: int
    limit: Decimal | None
    number_phases: int | None = None
    phase_to_use: int | None = None
    limit_l2: Decimal | None = None
    limit_l3: Decimal | None = None
    discharge_limit: Decimal | None = None
    discharge_limit_l2: Decimal | None = None
    discharge_limit_l3: Decimal | None = None
    setpoint: Decimal | None = None
    setpoint_l2: Decimal | None = None
    setpoint_l3: Decimal | None = None
    operation_mode: OperationMode | None = None


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """The composite schedule of ``evse_id`` from ``schedule_start`` for ``duration_s``."""

    evse_id: int
    schedule_start: datetime
    duration_s: int
    unit: RateUnit
    periods: tuple[CompositePeriod, ...]
    start_offsets_ms: tuple[int, ...] = ()
    """Exact offset (ms from ``schedule_start``) of each period, when known (the oracle's);
    empty for a schedule read from a DUT's answer, whose resolution is the whole second."""

    def offset_ms(self, index: int) -> int:
        """The offset of period ``index`` from the schedule start, in milliseconds."""
        if len(self.start_offsets_ms) == len(self.periods):
            return self.start_offsets_ms[index]
        return self.periods[index].start_period_s * 1000

    def period_at(self, instant: datetime) -> CompositePeriod:
        """The period in effect at ``instant`` (clamped to the schedule's span)."""
        offset = to_epoch_ms(instant) - to_epoch_ms(self.schedule_start)
        starts = [self.offset_ms(i) for i in range(len(self.periods))]
        index = max(0, bisect.bisect_right(starts, offset) - 1)
        return self.periods[index]


# ---------------------------------------------------------------------------------------
# Laying out one profile on the time line


@dataclass(frozen=True, slots=True)
class _Segment:
    start_ms: int
    end_ms: int
    period: SchedulePeriod
    unit: RateUnit
    priority: tuple[int, int, int]


def _validity(profile: ChargingProfile, lo_ms: int, hi_ms: int) -> tuple[int, int]:
    """The part of [lo_ms, hi_ms) within the profile's validFrom/validTo (maybe empty)."""
    if profile.valid_from is not None:
        lo_ms = max(lo_ms, to_epoch_ms(profile.valid_from))
    if profile.valid_to is not None:
        hi_ms = min(hi_ms, to_epoch_ms(profile.valid_to))
    return lo_ms, hi_ms


def _segments(
    item: InstalledProfile, *, lo_ms: int, hi_ms: int, relative_anchor_ms: int, unit: RateUnit
) -> list[_Segment]:
    # All instants here are milliseconds since 1970.
    profile = item.profile
    schedule = profile.schedule_for(unit)
    lo_ms, hi_ms = _validity(profile, lo_ms, hi_ms)
    if lo_ms >= hi_ms or not schedule.periods:
        return []
    anchors: list[tuple[int, int | None]]
    if (
        profile.kind is Kind.RECURRING
        and profile.recurrency is not None
        and (schedule.start_schedule is not None)
    ):
        every = profile.recurrency.period_s * 1000
        base = to_epoch_ms(schedule.start_schedule)
        first, last = (lo_ms - base) // every, (hi_ms - 1 - base) // every
        anchors = [(base + k * every, base + (k + 1) * every) for k in range(first, last + 1)]
    elif profile.kind is Kind.RELATIVE or schedule.start_schedule is None:
        anchors = [(relative_anchor_ms, None)]
    else:
        anchors = [(to_epoch_ms(schedule.start_schedule), None)]
    # A profile on the EVSE itself beats a station-wide one at the same stack level; two
    # profiles the rules do not let coexist (same level, same EVSE, both valid) are settled
    # by the higher id, so the result never depends on installation order.
    priority = (profile.stack_level, 1 if item.evse_id != 0 else 0, profile.profile_id)
    out: list[_Segment] = []
    periods = schedule.periods
    for anchor, instance_end in anchors:
        stop = anchor + schedule.duration_s * 1000 if schedule.duration_s is not None else None
        if instance_end is not None:
            stop = instance_end if stop is None else min(stop, instance_end)
        for index, period in enumerate(periods):
            start = anchor + period.start_period_s * 1000
            end = (
                anchor + periods[index + 1].start_period_s * 1000
                if index + 1 < len(periods)
                else stop
            )
            if stop is not None and end is not None:
                end = min(end, stop)
            a, b = max(start, lo_ms), hi_ms if end is None else min(end, hi_ms)
            if a < b:
                out.append(_Segment(a, b, period, schedule.unit, priority))
    return out


def _winner(segments: Sequence[_Segment], at_ms: int) -> _Segment | None:
    best: _Segment | None = None
    for seg in segments:
        if seg.start_ms <= at_ms < seg.end_ms and (best is None or seg.priority > best.priority):
            best = seg
    return best


# ---------------------------------------------------------------------------------------
# Values in the requested unit, and how they combine


def _v(
    value: Decimal | None, seg: _Segment, unit: RateUnit, phases: int | None, voltage: Decimal
) -> Decimal | None:
    if value is None:
        return None
    return convert(value, from_unit=seg.unit, to_unit=unit, number_phases=phases, voltage_v=voltage)


def _values(
    seg: _Segment, unit: RateUnit, voltage: Decimal, *, phases_in_use: int | None = None
) -> CompositePeriod:
    """``seg``'s values in ``unit``, converted with ``phases_in_use`` when given, else with
    its own numberPhases (one phase for per-phase values)."""
    p = seg.period
    per_phase = any(
        x is not None
        for x in (p.limit_l2, p.limit_l3, p.discharge_limit_l2, p.discharge_limit_l3, p.setpoint_l2)
    )
    # Per-phase values (and an A limit, which is per phase anyway) convert with one phase.
    phases = 1 if per_phase else p.number_phases
    if phases_in_use is not None and not per_phase:
        phases = phases_in_use
    return CompositePeriod(
        start_period_s=0,
        limit=_v(p.limit, seg, unit, phases, voltage),
        number_phases=p.number_phases,
        phase_to_use=p.phase_to_use,
        limit_l2=_v(p.limit_l2, seg, unit, 1, voltage),
        limit_l3=_v(p.limit_l3, seg, unit, 1, voltage),
        discharge_limit=_v(p.discharge_limit, seg, unit, phases, voltage),
        discharge_limit_l2=_v(p.discharge_limit_l2, seg, unit, 1, voltage),
        discharge_limit_l3=_v(p.discharge_limit_l3, seg, unit, 1, voltage),
        setpoint=_v(p.setpoint, seg, unit, phases, voltage),
        setpoint_l2=_v(p.setpoint_l2, seg, unit, 1, voltage),
        setpoint_l3=_v(p.setpoint_l3, seg, unit, 1, voltage),
        operation_mode=p.operation_mode,
    )


def _min(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else max(a, b)


def _per_phase(value: CompositePeriod) -> bool:
    return any(
        getattr(value, name) is not None
        for name in ("limit_l2", "limit_l3", "discharge_limit_l2", "discharge_limit_l3")
    )


def _phase_values(
    value: CompositePeriod, base: str, unit: RateUnit
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """L1, L2, L3 values of ``base`` (``limit`` or ``discharge_limit``) of one contributor.

    With per-phase values, the plain field is L1 and a missing phase is taken as L1's; without,
    an A value holds for each phase and a W value is shared by ``number_phases``.
    """
    total = getattr(value, base)
    if _per_phase(value):
        l2, l3 = getattr(value, f"{base}_l2"), getattr(value, f"{base}_l3")
        return total, total if l2 is None else l2, total if l3 is None else l3
    if total is None or unit is RateUnit.A:
        return total, total, total
    share = total / (value.number_phases or DEFAULT_NUMBER_PHASES)
    return share, share, share


def _cap(
    demand: CompositePeriod | None, cap: CompositePeriod | None, unit: RateUnit
) -> CompositePeriod | None:
    """``demand`` limited by ``cap``: min of limits, max (least negative) of discharge limits."""
    if cap is None:
        return demand
    if demand is None:
        return replace(cap, setpoint=None, setpoint_l2=None, setpoint_l3=None, operation_mode=None)
    phases = demand.number_phases if demand.number_phases is not None else cap.number_phases
    if _per_phase(demand) or _per_phase(cap):
        d1, d2, d3 = _phase_values(demand, "limit", unit)
        c1, c2, c3 = _phase_values(cap, "limit", unit)
        e1, e2, e3 = _phase_values(demand, "discharge_limit", unit)
        f1, f2, f3 = _phase_values(cap, "discharge_limit", unit)
        return replace(
            demand,
            limit=_min(d1, c1),
            limit_l2=_min(d2, c2),
            limit_l3=_min(d3, c3),
            discharge_limit=_max(e1, f1),
            discharge_limit_l2=_max(e2, f2),
            discharge_limit_l3=_max(e3, f3),
            number_phases=phases,
        )
    return replace(
        demand,
        limit=_min(demand.limit, cap.limit),
        discharge_limit=_max(demand.discharge_limit, cap.discharge_limit),
        number_phases=phases,
    )


def _resolve(
    demand: _Segment | None, caps: Sequence[_Segment | None], unit: RateUnit, voltage: Decimal
) -> CompositePeriod | None:
    """``demand`` held within ``caps`` (rule 7), in ``unit``; ``None`` where nothing limits."""
    present = [s for s in (demand, *caps) if s is not None]
    if not present:
        return None
    if any(_per_phase(_values(s, unit, voltage)) or s.period.setpoint_l2 for s in present):
        # 2.1 per-phase values: the caps apply one after the other, phase by phase.
        value = None if demand is None else _values(demand, unit, voltage)
        for cap in caps:
            value = _cap(value, None if cap is None else _values(cap, unit, voltage), unit)
        return value
    given = [s.period.number_phases for s in present if s.period.number_phases is not None]
    phases = min(given, default=DEFAULT_NUMBER_PHASES)
    values = [_values(s, unit, voltage, phases_in_use=phases) for s in present]
    head = values[0]
    if demand is None:
        head = replace(head, setpoint=None, operation_mode=None)
    return replace(
        head,
        limit=_fold(_min, (v.limit for v in values)),
        discharge_limit=_fold(_max, (v.discharge_limit for v in values)),
        number_phases=phases if given else None,
    )


def _fold(pick: Any, items: Iterable[Decimal | None]) -> Decimal | None:
    out: Decimal | None = None
    for item in items:
        out = pick(out, item)
    return out


def _as_segment(value: CompositePeriod, unit: RateUnit, at_ms: int) -> _Segment:
    """A computed value (a station total) as a contributor in ``unit``."""
    period = SchedulePeriod(
        start_period_s=0,
        limit=value.limit,
        number_phases=value.number_phases,
        discharge_limit=value.discharge_limit,
        setpoint=value.setpoint,
        operation_mode=value.operation_mode,
    )
    return _Segment(at_ms, at_ms + 1, period, unit, (0, 0, 0))


def _with_generation(
    station_max: _Segment | None, generation: _Segment | None, voltage: Decimal
) -> _Segment | None:
    """2.1 LocalGeneration adds to the station maximum (converted to the maximum's unit with
    the generation's own numberPhases)."""
    if station_max is None or generation is None or station_max.period.limit is None:
        return station_max
    extra = generation.period.limit
    if extra is None:
        return station_max
    extra = convert(
        extra,
        from_unit=generation.unit,
        to_unit=station_max.unit,
        number_phases=generation.period.number_phases,
        voltage_v=voltage,
    )
    period = replace(station_max.period, limit=station_max.period.limit + extra)
    return replace(station_max, period=period)


def _clamp(
    setpoint: Decimal | None, limit: Decimal | None, discharge: Decimal | None
) -> Decimal | None:
    if setpoint is None:
        return None
    if setpoint > 0 and limit is not None:
        return min(setpoint, limit)
    if setpoint < 0 and discharge is not None:
        return max(setpoint, discharge)
    return setpoint


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a + b


def _sum(items: Sequence[CompositePeriod | None]) -> CompositePeriod | None:
    """Station total: an EVSE without a limit makes the total unlimited."""
    if not items or any(item is None for item in items):
        return None
    total: CompositePeriod | None = None
    for item in items:
        assert item is not None
        if total is None:
            total = replace(item, limit_l2=None, limit_l3=None, phase_to_use=None)
            total = replace(total, discharge_limit_l2=None, discharge_limit_l3=None)
            total = replace(total, setpoint_l2=None, setpoint_l3=None)
            continue
        setpoint = None
        if total.setpoint is not None or item.setpoint is not None:
            setpoint = (total.setpoint or Decimal(0)) + (item.setpoint or Decimal(0))
        total = replace(
            total,
            limit=_add(total.limit, item.limit),
            discharge_limit=_add(total.discharge_limit, item.discharge_limit),
            setpoint=setpoint,
            number_phases=_max_int(total.number_phases, item.number_phases),
            operation_mode=total.operation_mode
            if total.operation_mode == item.operation_mode
            else None,
        )
    return total


def _max_int(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _finish(value: CompositePeriod | None, default_limit: Decimal | None) -> CompositePeriod:
    if value is None:
        return CompositePeriod(start_period_s=0, limit=default_limit)
    if value.limit is None and default_limit is not None:
        value = replace(value, limit=default_limit)
    return replace(
        value,
        setpoint=_clamp(value.setpoint, value.limit, value.discharge_limit),
        setpoint_l2=_clamp(value.setpoint_l2, value.limit_l2, value.discharge_limit_l2),
        setpoint_l3=_clamp(value.setpoint_l3, value.limit_l3, value.discharge_limit_l3),
    )


def _rounded(value: CompositePeriod, precision: Decimal | None) -> CompositePeriod:
    if precision is None:
        return value
    changes: dict[str, Any] = {
        f.name: round_toward_zero(getattr(value, f.name), precision)
        for f in fields(value)
        if isinstance(getattr(value, f.name), Decimal)
    }
    return replace(value, **changes)


# ---------------------------------------------------------------------------------------
# The composite


def _applies(item: InstalledProfile, evse_id: int, context: StationContext) -> bool:
    if item.evse_id not in (0, evse_id):
        return False
    if item.profile.purpose is Purpose.TX:
        tx = context.transaction_on(evse_id)
        return (
            item.evse_id == evse_id
            and tx is not None
            and (item.profile.transaction_id in (None, tx.transaction_id))
        )
    if item.profile.purpose is Purpose.PRIORITY_CHARGING:
        return evse_id in context.priority_charging_evse_ids
    return True


def composite_schedule(
    installed: Iterable[InstalledProfile],
    *,
    evse_id: int,
    start: datetime,
    duration_s: int,
    unit: RateUnit,
    context: StationContext,
    default_limit: Decimal | None = None,
    precision: Decimal | None = Decimal("0.1"),
    evse_default_limit: Decimal | None = None,
    tx_default_resumes: bool = False,
) -> CompositeSchedule:
    """The composite schedule of ``evse_id`` (0 = whole station) from ``start``.

    ``default_limit`` (in ``unit``) is reported where no profile limits;
    ``evse_default_limit`` (in ``unit``) is what an EVSE without a limit counts in a station
    total (``None``: such an EVSE makes the total unlimited); ``precision`` is
    the rounding step (toward zero) or ``None`` for exact values. Raises :class:`UnknownEvse`
    for an EVSE that the context does not have. Installation order does not matter.
    ``tx_default_resumes=True`` gives the reading the specification does not take (rule 3 of
    the module docstring): only a judge naming that reading should ask for it.
    """
    if evse_id != 0 and evse_id not in context.evse_ids:
        raise UnknownEvse(f"EVSE {evse_id} does not exist (EVSEs: {list(context.evse_ids)})")
    if duration_s < 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    items = tuple(installed)
    lo_ms = to_epoch_ms(start)
    hi_ms = lo_ms + max(duration_s, 1) * 1000
    voltage = context.voltage_v
    evses = context.evse_ids if evse_id == 0 else (evse_id,)

    def applying(
        evse: int, purposes: tuple[Purpose, ...], where: tuple[int, ...]
    ) -> list[InstalledProfile]:
        return [
            item
            for item in items
            if item.profile.purpose in purposes
            and item.evse_id in where
            and _applies(item, evse, context)
        ]

    def layer(evse: int, purposes: tuple[Purpose, ...], where: tuple[int, ...]) -> list[_Segment]:
        # Relative profiles start with the EVSE's transaction; station-wide caps, which no
        # transaction owns, and EVSEs without one start at the requested time.
        tx = context.transaction_on(evse) if where != (0,) else None
        anchor = to_epoch_ms(tx.start) if tx is not None else lo_ms
        out: list[_Segment] = []
        for item in applying(evse, purposes, where):
            out += _segments(item, lo_ms=lo_ms, hi_ms=hi_ms, relative_anchor_ms=anchor, unit=unit)
        return out

    def tx_validity(evse: int) -> list[tuple[int, int]]:
        # 1.6 §3.13.2 / 2.0.1 K08: while a TxProfile of the running transaction is valid it
        # overrules the TxDefaultProfiles, whether or not its schedule has a period then.
        spans = [_validity(i.profile, lo_ms, hi_ms) for i in applying(evse, (Purpose.TX,), (evse,))]
        return [(a, b) for a, b in spans if a < b]

    per_evse = {
        e: (
            layer(e, (Purpose.PRIORITY_CHARGING,), (0, e)),
            layer(e, (Purpose.TX,), (e,)),
            layer(e, (Purpose.TX_DEFAULT,), (0, e)),
            layer(e, (Purpose.EXTERNAL_CONSTRAINTS,), (e,)),
            [] if tx_default_resumes else tx_validity(e),
        )
        for e in evses
    }
    first = evses[0] if evses else 0
    station_ext = layer(first, (Purpose.EXTERNAL_CONSTRAINTS,), (0,))
    station_max = layer(first, (Purpose.STATION_MAX,), (0,))
    local_gen = layer(first, (Purpose.LOCAL_GENERATION,), (0,))

    cuts = {lo_ms, hi_ms}
    for segs in [station_ext, station_max, local_gen]:
        cuts.update(c for seg in segs for c in (seg.start_ms, seg.end_ms))
    for *layers, spans in per_evse.values():
        cuts.update(c for segs in layers for seg in segs for c in (seg.start_ms, seg.end_ms))
        cuts.update(c for span in spans for c in span)
    bounds = sorted(c for c in cuts if lo_ms <= c <= hi_ms)

    def demand_at(
        prio: list[_Segment],
        tx: list[_Segment],
        tx_default: list[_Segment],
        tx_valid: list[tuple[int, int]],
        at_ms: int,
    ) -> _Segment | None:
        # Rule 3: a valid TxProfile overrules the TxDefaultProfile even where it has no period.
        demand = _winner(prio, at_ms) or _winner(tx, at_ms)
        if demand is None and not any(a <= at_ms < b for a, b in tx_valid):
            demand = _winner(tx_default, at_ms)
        return demand

    periods: list[CompositePeriod] = []
    offsets: list[int] = []
    for at_ms in bounds[:-1]:
        station_caps = (
            _winner(station_ext, at_ms),
            _with_generation(_winner(station_max, at_ms), _winner(local_gen, at_ms), voltage),
        )
        if evse_id != 0:
            prio, tx, tx_default, ext, tx_valid = per_evse[evse_id]
            demand = demand_at(prio, tx, tx_default, tx_valid, at_ms)
            total = _resolve(demand, (_winner(ext, at_ms), *station_caps), unit, voltage)
        else:
            demands: list[CompositePeriod | None] = []
            for prio, tx, tx_default, ext, tx_valid in per_evse.values():
                demand = demand_at(prio, tx, tx_default, tx_valid, at_ms)
                value = _resolve(demand, (_winner(ext, at_ms),), unit, voltage)
                if evse_default_limit is not None and (value is None or value.limit is None):
                    value = (
                        CompositePeriod(start_period_s=0, limit=evse_default_limit)
                        if value is None
                        else replace(value, limit=evse_default_limit)
                    )
                demands.append(value)
            summed = _sum(demands)
            head = None if summed is None else _as_segment(summed, unit, at_ms)
            total = _resolve(head, station_caps, unit, voltage)
        offset_ms = at_ms - lo_ms
        value = _rounded(_finish(total, default_limit), precision)
        value = replace(value, start_period_s=offset_ms // 1000)
        if periods and periods[-1].start_period_s == value.start_period_s:
            # A sub-second sliver: startPeriod cannot show it; the later value holds.
            periods.pop()
            offsets.pop()
        if periods and replace(periods[-1], start_period_s=0) == replace(value, start_period_s=0):
            continue
        periods.append(value)
        offsets.append(offset_ms)
    if offsets:
        offsets[0] = 0
        periods[0] = replace(periods[0], start_period_s=0)
    return CompositeSchedule(
        evse_id=evse_id,
        schedule_start=from_epoch_ms(lo_ms),
        duration_s=duration_s,
        unit=unit,
        periods=tuple(periods),
        start_offsets_ms=tuple(offsets),
    )
