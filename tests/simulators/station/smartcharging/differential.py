"""Shared by the differential tests: one neutral description of a station's profiles and a
question, built into the oracle's model and into the station engine's model, and both
answers in one comparable form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

from harness import smartcharging as oracle
from harness.versions import OcppVersion
from simulators.station import smartcharging as engine

T0 = datetime(2024, 3, 4, 12, 0, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class PeriodSpec:
    start_s: int
    limit: Decimal | None
    phases: int | None = None
    extra: tuple[tuple[str, Any], ...] = ()
    """2.1 fields by model name: discharge_limit, setpoint, limit_l2, operation_mode..."""


@dataclass(frozen=True)
class ProfileSpec:
    pid: int
    evse_id: int
    purpose: str
    stack: int
    kind: str  # Absolute | Relative | Recurring
    unit: str
    periods: tuple[PeriodSpec, ...]
    start_s: int | None = None  # Absolute/Recurring: startSchedule offset from T0
    duration_s: int | None = None
    valid_from_s: int | None = None
    valid_to_s: int | None = None
    transaction_id: str | None = None
    recurrency: str | None = None
    local: bool = False  # set by the station's EMS (external constraints), not the CSMS


@dataclass(frozen=True)
class Case:
    """Profiles installed in order on a station, then one GetCompositeSchedule."""

    version: OcppVersion
    evse_ids: tuple[int, ...]
    transactions: tuple[tuple[int, str, int], ...]  # EVSE, id, start offset
    profiles: tuple[ProfileSpec, ...]
    evse_id: int
    unit: str
    start_s: int
    duration_s: int
    default: Decimal | None = None
    max_stack_level: int | None = 8
    notes: tuple[str, ...] = field(default=())


def build(spec: ProfileSpec, lib: ModuleType) -> Any:
    """``spec`` as a ChargingProfile of ``lib`` (the oracle's or the engine's package)."""
    periods = []
    for p in spec.periods:
        extra = dict(p.extra)
        if "operation_mode" in extra:
            extra["operation_mode"] = lib.OperationMode(extra["operation_mode"])
        periods.append(
            lib.SchedulePeriod(
                start_period_s=p.start_s, limit=p.limit, number_phases=p.phases, **extra
            )
        )
    schedule = lib.ChargingSchedule(
        unit=lib.RateUnit(spec.unit),
        periods=tuple(periods),
        start_schedule=None if spec.start_s is None else at(spec.start_s),
        duration_s=spec.duration_s,
    )
    return lib.ChargingProfile(
        profile_id=spec.pid,
        stack_level=spec.stack,
        purpose=lib.Purpose(spec.purpose),
        kind=lib.Kind(spec.kind),
        schedules=(schedule,),
        recurrency=None if spec.recurrency is None else lib.Recurrency(spec.recurrency),
        valid_from=None if spec.valid_from_s is None else at(spec.valid_from_s),
        valid_to=None if spec.valid_to_s is None else at(spec.valid_to_s),
        transaction_id=spec.transaction_id,
    )


Answer = tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]
"""(install outcomes, composite periods) in a form both sides share."""

_FIELDS = (
    "limit", "number_phases", "phase_to_use", "limit_l2", "limit_l3", "discharge_limit",
    "discharge_limit_l2", "discharge_limit_l3", "setpoint", "setpoint_l2", "setpoint_l3",
)  # fmt: skip


def _row(offset: int, item: Any) -> tuple[Any, ...]:
    mode = item.operation_mode
    return (offset, *(getattr(item, f) for f in _FIELDS), None if mode is None else str(mode))


def oracle_answer(case: Case) -> Answer:
    context = oracle.StationContext(
        evse_ids=case.evse_ids,
        transactions=tuple(
            (e, oracle.Transaction(tx, at(s))) for e, tx, s in sorted(case.transactions)
        ),
        max_stack_level=case.max_stack_level,
    )
    store = oracle.ProfileStore(case.version)
    outcomes = []
    for spec in case.profiles:
        got = store.install(spec.evse_id, build(spec, oracle), context, from_csms=not spec.local)
        outcomes.append("Accepted" if isinstance(got, oracle.Accepted) else got.reason_code)
    schedule = store.composite(
        evse_id=case.evse_id,
        start=at(case.start_s),
        duration_s=case.duration_s,
        unit=oracle.RateUnit(case.unit),
        context=context,
        default_limit=case.default,
    )
    rows = tuple(_row(p.start_period_s, p) for p in schedule.periods)
    return tuple(outcomes), rows


def engine_answer(case: Case) -> Answer:
    station = engine.Station(
        evse_ids=case.evse_ids,
        transactions=tuple((e, tx, at(s)) for e, tx, s in sorted(case.transactions)),
    )
    facts = engine.Facts(
        evse_ids=case.evse_ids,
        running=tuple((e, tx) for e, tx, _ in case.transactions),
        max_stack_level=case.max_stack_level,
    )
    profiles = engine.Profiles(case.version)
    outcomes = []
    for spec in case.profiles:
        got = profiles.install(spec.evse_id, build(spec, engine), facts, from_csms=not spec.local)
        outcomes.append("Accepted" if isinstance(got, engine.Accepted) else got.reason_code)
    schedule = profiles.composite(
        station,
        evse_id=case.evse_id,
        start=at(case.start_s),
        duration_s=case.duration_s,
        unit=engine.RateUnit(case.unit),
        default=case.default,
    )
    return tuple(outcomes), tuple(_row(s.offset_s, s) for s in schedule.steps)
