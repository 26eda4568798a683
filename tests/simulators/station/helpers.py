"""Builders and a tick-driven session loop for the station core tests (no sockets, no sleeping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness import smartcharging as oracle
from simulators.station import StationConfig, StationCore, StationEvent, StationTransaction
from simulators.station.smartcharging import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    SchedulePeriod,
)
from simulators.vehicle import Vehicle, VehicleReading, load_catalogue

T0 = datetime(2024, 3, 4, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def vehicle(archetype: str = "bev_3ph_16a", **kwargs: Any) -> Vehicle:
    return Vehicle(load_catalogue().get(archetype).vehicle_params(), **kwargs)


def profile(
    pid: int,
    purpose: Purpose,
    periods: list[tuple[int, float]],
    *,
    stack: int = 0,
    unit: RateUnit = RateUnit.A,
    phases: int | None = None,
    start: datetime | None = None,
    duration: int | None = None,
    transaction_id: str | None = None,
    **period_fields: Any,
) -> ChargingProfile:
    """A profile: Absolute from ``start`` when given, else Relative."""
    rows = tuple(
        SchedulePeriod(
            start_period_s=s, limit=Decimal(str(v)), number_phases=phases, **period_fields
        )
        for s, v in periods
    )
    return ChargingProfile(
        profile_id=pid,
        stack_level=stack,
        purpose=purpose,
        kind=Kind.ABSOLUTE if start is not None else Kind.RELATIVE,
        schedules=(
            ChargingSchedule(unit=unit, periods=rows, start_schedule=start, duration_s=duration),
        ),
        transaction_id=transaction_id,
    )


def as_oracle(profile: ChargingProfile) -> oracle.ChargingProfile:
    """The same profile in the oracle's model (for tests comparing station and judge)."""

    def period(p: SchedulePeriod) -> oracle.SchedulePeriod:
        mode = None if p.operation_mode is None else oracle.OperationMode(p.operation_mode)
        return oracle.SchedulePeriod(
            start_period_s=p.start_period_s, limit=p.limit, number_phases=p.number_phases,
            phase_to_use=p.phase_to_use, limit_l2=p.limit_l2, limit_l3=p.limit_l3,
            discharge_limit=p.discharge_limit, discharge_limit_l2=p.discharge_limit_l2,
            discharge_limit_l3=p.discharge_limit_l3, setpoint=p.setpoint,
            setpoint_l2=p.setpoint_l2, setpoint_l3=p.setpoint_l3, operation_mode=mode,
            freq_watt_curve=p.freq_watt_curve,
        )  # fmt: skip

    schedules = tuple(
        oracle.ChargingSchedule(
            unit=oracle.RateUnit(s.unit),
            periods=tuple(period(p) for p in s.periods),
            start_schedule=s.start_schedule,
            duration_s=s.duration_s,
            randomized_delay_s=s.randomized_delay_s,
        )
        for s in profile.schedules
    )
    return oracle.ChargingProfile(
        profile_id=profile.profile_id, stack_level=profile.stack_level,
        purpose=oracle.Purpose(profile.purpose), kind=oracle.Kind(profile.kind),
        schedules=schedules,
        recurrency=None if profile.recurrency is None else oracle.Recurrency(profile.recurrency),
        valid_from=profile.valid_from, valid_to=profile.valid_to,
        transaction_id=profile.transaction_id,
    )  # fmt: skip


def oracle_context(core: StationCore) -> oracle.StationContext:
    """The oracle's view of ``core``'s station now (EVSEs, transactions, maxima)."""
    c = core.config
    context = oracle.StationContext(
        evse_ids=c.evse_ids,
        supported_units=frozenset(oracle.RateUnit(u) for u in c.supported_units),
        max_stack_level=c.max_stack_level, max_periods=c.max_periods, max_profiles=c.max_profiles,
        supply_phases=c.phases, voltage_v=Decimal(str(c.voltage_v)),
        phase_switching_supported=c.phase_switching,
    )  # fmt: skip
    for evse in c.evse_ids:
        tx = core.transaction(evse)
        if tx is not None:
            running = oracle.Transaction(tx.transaction_id, tx.started_at)
            context = context.with_transaction(evse, running)
    return context


def tx_profile(
    tx: StationTransaction,
    limit: float,
    *,
    pid: int = 10,
    unit: RateUnit = RateUnit.A,
    phases: int | None = None,
    stack: int = 0,
) -> ChargingProfile:
    """A Relative TxProfile with one constant limit for ``tx``."""
    return profile(
        pid, Purpose.TX, [(0, limit)], unit=unit, phases=phases, stack=stack,
        transaction_id=tx.transaction_id,
    )  # fmt: skip


@dataclass
class Session:
    """A station core and a vehicle on EVSE 1, stepped together in ticks of ``dt_s``."""

    core: StationCore
    car: Vehicle
    t_s: float = 0.0
    events: list[StationEvent] = field(default_factory=list)
    reading: VehicleReading | None = None

    @classmethod
    def start(
        cls, config: StationConfig | None = None, *, archetype: str = "bev_3ph_16a", **kw: Any
    ) -> Session:
        """Plugged in and a transaction started (local, token ``TAG``) at T0."""
        core = StationCore(config or StationConfig(), now=T0)
        car = vehicle(archetype, **kw)
        core.plug_in(1, T0)
        car.plug_in()
        core.on_vehicle_reading(1, car.reading())  # the meter's baseline at plug-in
        tx = core.start_transaction(1, id_token="TAG", now=T0)
        assert isinstance(tx, StationTransaction)
        return cls(core, car)

    @property
    def now(self) -> datetime:
        return at(self.t_s)

    @property
    def tx(self) -> StationTransaction:
        tx = self.core.transaction(1)
        assert tx is not None
        return tx

    def step(self, dt_s: float = 1.0) -> None:
        """One loop step: tick, pilot to the vehicle, discharge request, vehicle reading."""
        self.events += self.core.tick(self.now)
        self.car.set_pilot(self.core.pilot_offer(1))
        discharge = self.core.discharge_request(1)
        if discharge is not None and self.car.params.bidirectional:
            self.car.set_discharge(power_w=discharge)
        self.reading = self.car.advance(dt_s)
        self.t_s += dt_s
        self.core.on_vehicle_reading(1, self.reading)

    def run(self, seconds: float, *, dt_s: float = 1.0) -> None:
        for _ in range(round(seconds / dt_s)):
            self.step(dt_s)
        self.events += self.core.tick(self.now)

    def current_a(self) -> tuple[float, float, float]:
        assert self.reading is not None
        return self.reading.current_a
