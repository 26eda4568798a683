"""What the station lets an EVSE (or the whole station, EVSE 0) draw, instant by instant.

The engine evaluates the installed profiles *at an instant* (:func:`draw_at`) and builds a
composite schedule by evaluating at every instant where something may change
(:func:`composite`). The rules, from the specifications (1.6 §3.13, 2.0.1/2.1 K01, K08):

* **Where a profile is in effect.** Nothing outside validFrom/validTo. Absolute: from
  startSchedule. Relative: from the start of the EVSE's transaction (none running: from the
  moment asked about). Recurring: from the latest daily/weekly repetition of startSchedule
  (startSchedule only anchors the repetitions, also before it), at most until the next
  one. A schedule ends after its duration.
* **Stacking** (1.6 §3.13.2, K01.FR.xx): within one purpose the profile in effect with the
  highest stackLevel wins; where its schedule has ended a lower one takes over (OCA TC_072).
  At equal stackLevel a profile on the EVSE beats a station-wide one (then the higher id,
  so that installation order never matters).
* **Demand.** PriorityCharging (2.1, while priority charging is active) over TxProfile over
  TxDefaultProfile. A TxProfile that is *valid* (validFrom/validTo) for the running
  transaction overrules the TxDefaultProfile for the whole transaction, also where its own
  schedule has not begun or has ended (1.6 §3.13.2, 2.0.1 K08; OCA TC_066/TC_K_41 expect it).
* **Caps.** ChargingStationExternalConstraints on the EVSE and on EVSE 0, and the station
  maximum (plus 2.1 LocalGeneration on EVSE 0): the lowest limit binds, the least negative
  discharge limit; a setpoint is held within them.
* **Phases.** Every bound counts with its numberPhases, 3 when absent. The EVSE runs on the
  fewest phases any bound allows; an ampere bound limits the current of each phase, a watt
  bound the power over the phases actually used. So a 10 A one-phase cap under a 2070 W
  schedule gives 9 A on one phase, or 2070 W — the same state in either unit.
* **Station total (EVSE 0).** The sum over the EVSEs of what each may draw (an EVSE where
  nothing limits counts with ``evse_default``, its hardware maximum; without one the
  total is unlimited), capped by the station-wide bounds. The specification does not say
  how many phases a total has: the engine reports the most any EVSE uses, so the ampere
  total is the load of the busiest phase when one-phase EVSEs share it.
* Limits are rounded toward zero to the version's step; equal neighbours are merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from simulators.station.smartcharging.bounds import Bound, CompositeStep, combine, to_unit
from simulators.station.smartcharging.model import (
    PHASES_WHEN_ABSENT,
    RECURRENCE_S,
    ChargingProfile,
    Kind,
    Placed,
    Purpose,
    RateUnit,
    SchedulePeriod,
    epoch_s,
    instant,
)

__all__ = [
    "Composite",
    "CompositeStep",
    "NoSuchEvse",
    "Station",
    "change_instants",
    "composite",
    "draw_at",
]


class NoSuchEvse(ValueError):
    """The EVSE asked about does not exist."""


@dataclass(frozen=True, slots=True)
class Station:
    """What the engine needs to know of the station now.

    ``transactions``: (EVSE id, transaction id, start) of each running transaction.
    """

    evse_ids: tuple[int, ...] = (1,)
    transactions: tuple[tuple[int, str, datetime], ...] = ()
    voltage_v: Decimal = Decimal(230)
    supply_phases: int = PHASES_WHEN_ABSENT
    priority_evse_ids: frozenset[int] = frozenset()

    def running(self, evse_id: int) -> tuple[str, int] | None:
        """(transaction id, start in epoch seconds) on ``evse_id``, if one runs."""
        for evse, tx_id, start in self.transactions:
            if evse == evse_id:
                return tx_id, epoch_s(start)
        return None


@dataclass(frozen=True, slots=True)
class Composite:
    """The composite schedule of ``evse_id`` from ``start`` over ``duration_s``."""

    evse_id: int
    start: datetime
    duration_s: int
    unit: RateUnit
    steps: tuple[CompositeStep, ...]


# --- one profile at one instant ------------------------------------------------------------


def _anchor(
    profile: ChargingProfile, unit: RateUnit, at_s: int, relative_s: int
) -> tuple[int, int | None]:
    """Where the schedule (for ``unit``) in effect at ``at_s`` starts, and where a
    repetition ends (``None``: not recurring)."""
    schedule = profile.schedule_in(unit)
    start = schedule.start_schedule
    if profile.kind is Kind.RECURRING and profile.recurrency is not None and start is not None:
        every, base = RECURRENCE_S[profile.recurrency], epoch_s(start)
        begin = base + (at_s - base) // every * every
        return begin, begin + every
    if profile.kind is Kind.RELATIVE or start is None:
        return relative_s, None
    return epoch_s(start), None


def _valid(profile: ChargingProfile, at_s: int) -> bool:
    if profile.valid_from is not None and at_s < epoch_s(profile.valid_from):
        return False
    return profile.valid_to is None or at_s < epoch_s(profile.valid_to)


def _period_at(
    profile: ChargingProfile, unit: RateUnit, at_s: int, relative_s: int
) -> SchedulePeriod | None:
    """The period of ``profile`` in effect at ``at_s`` (``None``: it does not limit then)."""
    if not _valid(profile, at_s):
        return None
    schedule = profile.schedule_in(unit)
    begin, _ = _anchor(profile, unit, at_s, relative_s)
    offset = at_s - begin
    if offset < 0 or (schedule.duration_s is not None and offset >= schedule.duration_s):
        return None
    chosen = None
    for period in schedule.periods:
        if period.start_period_s <= offset:
            chosen = period
    return chosen


def _rank(placed: Placed) -> tuple[int, int, int]:
    return placed.profile.stack_level, int(placed.evse_id != 0), placed.profile.profile_id


# --- the highest-ranked period in effect ---------------------------------------------------


def _top(candidates: Iterable[Placed], unit: RateUnit, at_s: int, relative_s: int) -> Bound | None:
    """The period of the highest-ranked candidate in effect at ``at_s``, in its own unit."""
    best: tuple[tuple[int, int, int], Placed, SchedulePeriod] | None = None
    for placed in candidates:
        period = _period_at(placed.profile, unit, at_s, relative_s)
        if period is not None and (best is None or _rank(placed) > best[0]):
            best = (_rank(placed), placed, period)
    if best is None:
        return None
    return Bound(best[1].profile.schedule_in(unit).unit, best[2])


# --- the station at one instant ------------------------------------------------------------


def _relative_start(station: Station, evse_id: int, at_s: int) -> int:
    running = station.running(evse_id) if evse_id else None
    return at_s if running is None else running[1]


def _evse_draw(
    placed: Sequence[Placed],
    station: Station,
    evse_id: int,
    unit: RateUnit,
    at_s: int,
    asked_s: int,
) -> tuple[Bound | None, Bound | None]:
    """(demand, the EVSE's external constraint) of ``evse_id`` at ``at_s``."""
    rel = _relative_start(station, evse_id, asked_s)
    running = station.running(evse_id)

    def pick(purpose: Purpose, where: tuple[int, ...], keep: Any = None) -> Bound | None:
        chosen = [
            p for p in placed
            if p.profile.purpose == purpose and p.evse_id in where and (keep is None or keep(p))
        ]  # fmt: skip
        return _top(chosen, unit, at_s, rel)

    demand = None
    if evse_id in station.priority_evse_ids:
        demand = pick(Purpose.PRIORITY_CHARGING, (0, evse_id))
    if demand is None and running is not None:
        tx_id = running[0]

        def ours(p: Placed) -> bool:
            return p.profile.transaction_id in (None, tx_id)

        txs = [
            p
            for p in placed
            if p.profile.purpose == Purpose.TX and p.evse_id == evse_id and ours(p)
        ]
        # 1.6 §3.13.2 / K08: a valid TxProfile overrules the TxDefaultProfile for the whole
        # transaction, where its own schedule has not begun or has ended too.
        if any(_valid(p.profile, at_s) for p in txs):
            demand = pick(Purpose.TX, (evse_id,), ours)
        else:
            demand = pick(Purpose.TX_DEFAULT, (0, evse_id))
    elif demand is None:
        demand = pick(Purpose.TX_DEFAULT, (0, evse_id))
    return demand, pick(Purpose.EXTERNAL_CONSTRAINTS, (evse_id,))


def _station_bounds(
    placed: Sequence[Placed], unit: RateUnit, at_s: int, asked_s: int, volts: Decimal
) -> tuple[Bound | None, Bound | None]:
    """(station external constraint, station maximum incl. 2.1 local generation) at ``at_s``;
    Relative station-wide profiles (no transaction owns them) start when asked."""

    def pick(purpose: Purpose) -> Bound | None:
        chosen = [p for p in placed if p.evse_id == 0 and p.profile.purpose == purpose]
        return _top(chosen, unit, at_s, asked_s)

    top = pick(Purpose.STATION_MAX)
    extra = pick(Purpose.LOCAL_GENERATION)
    if top is not None and extra is not None and top.period.limit is not None:
        # 2.1 LocalGeneration adds to the station maximum (converted to the maximum's unit
        # with the generation's own phases).
        phases = extra.period.number_phases or PHASES_WHEN_ABSENT
        more = to_unit(extra.period.limit, extra.unit, top.unit, phases, volts)
        if more is not None:
            top = replace(top, period=replace(top.period, limit=top.period.limit + more))
    return pick(Purpose.EXTERNAL_CONSTRAINTS), top


def _total(steps: Sequence[CompositeStep | None]) -> CompositeStep | None:
    """The sum over EVSEs (``None`` in: one EVSE unlimited, so the total is too)."""
    if not steps or any(s is None for s in steps):
        return None
    present = [s for s in steps if s is not None]

    def add(name: str) -> Decimal | None:
        values = [getattr(s, name) for s in present]
        return None if any(v is None for v in values) else sum(values, Decimal(0))

    setpoints = [s.setpoint for s in present]
    modes = {s.operation_mode for s in present}
    phases = [s.number_phases for s in present if s.number_phases is not None]
    return CompositeStep(
        offset_s=0,
        limit=add("limit"),
        discharge_limit=add("discharge_limit"),
        setpoint=None
        if all(v is None for v in setpoints)
        else sum((v or Decimal(0) for v in setpoints), Decimal(0)),
        number_phases=max(phases) if phases else None,
        operation_mode=modes.pop() if len(modes) == 1 else None,
    )


def _as_bound(step: CompositeStep, unit: RateUnit) -> Bound:
    return Bound(
        unit,
        SchedulePeriod(
            start_period_s=0,
            limit=step.limit,
            number_phases=step.number_phases,
            discharge_limit=step.discharge_limit,
            setpoint=step.setpoint,
            operation_mode=step.operation_mode,
        ),
    )


def draw_at(
    placed: Sequence[Placed],
    station: Station,
    *,
    evse_id: int,
    at_s: int,
    unit: RateUnit,
    asked_s: int | None = None,
    evse_default: Decimal | None = None,
) -> CompositeStep | None:
    """What ``evse_id`` (0: the station) may draw at ``at_s``, exact, in ``unit``; ``None``
    where nothing limits. ``asked_s``: the instant the question is asked (Relative profiles
    without a transaction start then; default ``at_s``). ``evse_default`` (in ``unit``):
    what an EVSE where nothing limits counts in the station total."""
    asked = at_s if asked_s is None else asked_s
    volts = station.voltage_v
    station_ext, station_max = _station_bounds(placed, unit, at_s, asked, volts)
    if evse_id != 0:
        demand, ext = _evse_draw(placed, station, evse_id, unit, at_s, asked)
        return combine(demand, (ext, station_ext, station_max), unit, volts)
    per_evse = []
    for evse in station.evse_ids:
        demand, ext = _evse_draw(placed, station, evse, unit, at_s, asked)
        own = combine(demand, (ext,), unit, volts)
        if evse_default is not None and (own is None or own.limit is None):
            own = replace(own or CompositeStep(offset_s=0, limit=None), limit=evse_default)
        per_evse.append(own)
    total = _total(per_evse)
    if total is None:
        return combine(None, (station_ext, station_max), unit, volts)
    return combine(_as_bound(total, unit), (station_ext, station_max), unit, volts)


# --- the composite schedule ----------------------------------------------------------------


def _hold(
    setpoint: Decimal | None, limit: Decimal | None, discharge: Decimal | None
) -> Decimal | None:
    if setpoint is None:
        return None
    if setpoint > 0 and limit is not None:
        return min(setpoint, limit)
    if setpoint < 0 and discharge is not None:
        return max(setpoint, discharge)
    return setpoint


def _final(
    step: CompositeStep | None, default: Decimal | None, step_size: Decimal | None
) -> CompositeStep:
    if step is None:
        step = CompositeStep(offset_s=0, limit=default)
    elif step.limit is None:
        step = replace(step, limit=default)
    step = replace(
        step,
        setpoint=_hold(step.setpoint, step.limit, step.discharge_limit),
        setpoint_l2=_hold(step.setpoint_l2, step.limit_l2, step.discharge_limit_l2),
        setpoint_l3=_hold(step.setpoint_l3, step.limit_l3, step.discharge_limit_l3),
    )
    if step_size is None:
        return step
    rounded: dict[str, Any] = {}
    for f in fields(step):
        value = getattr(step, f.name)
        if isinstance(value, Decimal):
            rounded[f.name] = value.quantize(step_size, rounding=ROUND_DOWN)
    return replace(step, **rounded)


def change_instants(
    placed: Sequence[Placed],
    station: Station,
    *,
    evse_ids: Sequence[int],
    lo_s: int,
    hi_s: int,
    asked_s: int,
) -> set[int]:
    """Every instant in (lo_s, hi_s) where a profile on ``evse_ids`` or EVSE 0 may start or
    end a period, a schedule, a repetition or its validity."""
    out: set[int] = set()
    wanted = set(evse_ids) | {0}
    for p in placed:
        if p.evse_id not in wanted:
            continue
        profile = p.profile
        out.update(epoch_s(t) for t in (profile.valid_from, profile.valid_to) if t is not None)
        for schedule in profile.schedules:
            starts: list[int] = []
            if (
                profile.kind is Kind.RECURRING
                and profile.recurrency is not None
                and schedule.start_schedule
            ):
                every, base = RECURRENCE_S[profile.recurrency], epoch_s(schedule.start_schedule)
                first = base + (lo_s - base) // every * every
                starts = list(range(first, hi_s + 1, every))
            elif profile.kind is Kind.RELATIVE or schedule.start_schedule is None:
                starts = [
                    _relative_start(station, e, asked_s)
                    for e in (evse_ids if p.evse_id == 0 else [p.evse_id])
                ]
                starts.append(asked_s)
            else:
                starts = [epoch_s(schedule.start_schedule)]
            for begin in starts:
                out.update(begin + period.start_period_s for period in schedule.periods)
                out.add(begin)
                if schedule.duration_s is not None:
                    out.add(begin + schedule.duration_s)
    return {t for t in out if lo_s < t < hi_s}


def composite(
    placed: Sequence[Placed],
    station: Station,
    *,
    evse_id: int,
    start: datetime,
    duration_s: int,
    unit: RateUnit,
    default: Decimal | None = None,
    step_size: Decimal | None = Decimal("0.1"),
    evse_default: Decimal | None = None,
) -> Composite:
    """The composite schedule of ``evse_id`` (0: the station) from ``start`` (whole seconds)
    over ``duration_s``. ``default`` (in ``unit``) is reported where nothing limits;
    ``step_size`` is the rounding step (toward zero), ``None`` for exact values;
    ``evse_default`` (in ``unit``) what an EVSE where nothing limits counts in a total.

    Raises :class:`NoSuchEvse` for an EVSE the station lacks."""
    if evse_id != 0 and evse_id not in station.evse_ids:
        raise NoSuchEvse(f"EVSE {evse_id} does not exist (EVSEs: {list(station.evse_ids)})")
    if duration_s < 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    lo = epoch_s(start)
    hi = lo + max(duration_s, 1)
    evses = station.evse_ids if evse_id == 0 else (evse_id,)
    instants = sorted(
        {lo} | change_instants(placed, station, evse_ids=evses, lo_s=lo, hi_s=hi, asked_s=lo)
    )
    steps: list[CompositeStep] = []
    for at_s in instants:
        value = _final(
            draw_at(
                placed,
                station,
                evse_id=evse_id,
                at_s=at_s,
                unit=unit,
                asked_s=lo,
                evse_default=evse_default,
            ),
            default,
            step_size,
        )
        if steps and replace(steps[-1], offset_s=0) == value:
            continue
        steps.append(replace(value, offset_s=at_s - lo))
    return Composite(
        evse_id=evse_id, start=instant(lo), duration_s=duration_s, unit=unit, steps=tuple(steps)
    )
