"""How the bounds on an EVSE combine at one instant: the demand held within the caps, with
the phases each bound allows (see :mod:`simulators.station.smartcharging.composite` for the
rules), and the value type of one period of an answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from simulators.station.smartcharging.model import (
    PHASES_WHEN_ABSENT,
    OperationMode,
    RateUnit,
    SchedulePeriod,
)

__all__ = ["Bound", "CompositeStep", "combine", "lowest_of", "to_unit"]


@dataclass(frozen=True, slots=True)
class CompositeStep:
    """One period of an answer, values in the answer's unit (``limit=None``: no limit)."""

    offset_s: int
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
class Bound:
    """One contributor: a period in its own unit (a computed total counts as one too)."""

    unit: RateUnit
    period: SchedulePeriod


_PER_PHASE_FIELDS = ("limit_l2", "limit_l3", "discharge_limit_l2", "discharge_limit_l3")


def _per_phase(period: SchedulePeriod | CompositeStep) -> bool:
    return any(getattr(period, name) is not None for name in _PER_PHASE_FIELDS)


def to_unit(
    value: Decimal | None, source: RateUnit, unit: RateUnit, phases: int, volts: Decimal
) -> Decimal | None:
    if value is None or source == unit:
        return value
    if phases == 0:
        return Decimal(0)
    return value * volts * phases if source == RateUnit.A else value / (volts * phases)


def lowest_of(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _highest(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def combine(
    demand: Bound | None, caps: Sequence[Bound | None], unit: RateUnit, volts: Decimal
) -> CompositeStep | None:
    """The demand held within the caps, in ``unit`` (``None``: nothing limits)."""
    bounds = [b for b in (demand, *caps) if b is not None]
    if not bounds:
        return None
    if any(_per_phase(b.period) or b.period.setpoint_l2 is not None for b in bounds):
        return _fold_per_phase(demand, caps, unit, volts)
    given = [b.period.number_phases for b in bounds if b.period.number_phases is not None]
    phases = min(given, default=PHASES_WHEN_ABSENT)

    def conv(value: Decimal | None, bound: Bound) -> Decimal | None:
        return to_unit(value, bound.unit, unit, phases, volts)

    lead = demand if demand is not None else bounds[0]
    setpoint = None if demand is None else conv(demand.period.setpoint, demand)
    return CompositeStep(
        offset_s=0,
        limit=lowest_of(conv(b.period.limit, b) for b in bounds),
        number_phases=phases if given else None,
        phase_to_use=lead.period.phase_to_use,
        discharge_limit=_highest(conv(b.period.discharge_limit, b) for b in bounds),
        setpoint=setpoint,
        operation_mode=None if demand is None else demand.period.operation_mode,
    )


def _own_step(bound: Bound, unit: RateUnit, volts: Decimal) -> CompositeStep:
    """``bound`` alone in ``unit``: per-phase values (2.1 _L2/_L3) convert with one phase,
    the others with the bound's own phases."""
    p = bound.period
    split = _per_phase(p) or p.setpoint_l2 is not None
    own = 1 if split else (p.number_phases or PHASES_WHEN_ABSENT)

    def c(value: Decimal | None, n: int) -> Decimal | None:
        return to_unit(value, bound.unit, unit, n, volts)

    return CompositeStep(
        offset_s=0,
        limit=c(p.limit, own),
        number_phases=p.number_phases,
        phase_to_use=p.phase_to_use,
        limit_l2=c(p.limit_l2, 1),
        limit_l3=c(p.limit_l3, 1),
        discharge_limit=c(p.discharge_limit, own),
        discharge_limit_l2=c(p.discharge_limit_l2, 1),
        discharge_limit_l3=c(p.discharge_limit_l3, 1),
        setpoint=c(p.setpoint, own),
        setpoint_l2=c(p.setpoint_l2, 1),
        setpoint_l3=c(p.setpoint_l3, 1),
        operation_mode=p.operation_mode,
    )


def _phases_of(step: CompositeStep, name: str, unit: RateUnit) -> tuple[Decimal | None, ...]:
    """(L1, L2, L3) of ``name``: given per phase (a missing phase as L1), else the same
    ampere value on each phase, or a watt value shared by the step's phases."""
    first = getattr(step, name)
    if _per_phase(step):
        l2, l3 = getattr(step, f"{name}_l2"), getattr(step, f"{name}_l3")
        return first, first if l2 is None else l2, first if l3 is None else l3
    if first is None or unit == RateUnit.A:
        return first, first, first
    each = first / (step.number_phases or PHASES_WHEN_ABSENT)
    return each, each, each


def _narrow(acc: CompositeStep, cap: CompositeStep, unit: RateUnit) -> CompositeStep:
    phases = cap.number_phases if acc.number_phases is None else acc.number_phases
    if not (_per_phase(acc) or _per_phase(cap)):
        return replace(
            acc,
            limit=lowest_of((acc.limit, cap.limit)),
            discharge_limit=_highest((acc.discharge_limit, cap.discharge_limit)),
            number_phases=phases,
        )
    lim = list(zip(_phases_of(acc, "limit", unit), _phases_of(cap, "limit", unit), strict=True))
    dis = list(
        zip(
            _phases_of(acc, "discharge_limit", unit),
            _phases_of(cap, "discharge_limit", unit),
            strict=True,
        )
    )
    return replace(
        acc,
        limit=lowest_of(lim[0]),
        limit_l2=lowest_of(lim[1]),
        limit_l3=lowest_of(lim[2]),
        discharge_limit=_highest(dis[0]),
        discharge_limit_l2=_highest(dis[1]),
        discharge_limit_l3=_highest(dis[2]),
        number_phases=phases,
    )


def _fold_per_phase(
    demand: Bound | None, caps: Sequence[Bound | None], unit: RateUnit, volts: Decimal
) -> CompositeStep | None:
    """With 2.1 per-phase values: phase by phase, the caps applied one after the other."""
    acc = None if demand is None else _own_step(demand, unit, volts)
    for cap in caps:
        if cap is None:
            continue
        step = _own_step(cap, unit, volts)
        if acc is None:
            acc = replace(
                step, setpoint=None, setpoint_l2=None, setpoint_l3=None, operation_mode=None
            )
        else:
            acc = _narrow(acc, step, unit)
    return acc
