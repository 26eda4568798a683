"""Builders and a tick-driven session loop for the station core tests (no sockets, no sleeping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness.smartcharging import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    SchedulePeriod,
)
from simulators.station import StationConfig, StationCore, StationEvent, StationTransaction
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
