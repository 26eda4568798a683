"""Charging-profile model shared by OCPP 1.6, 2.0.1 and 2.1.

One set of frozen types covers the three versions: a 1.6 ``ChargePointMaxProfile`` is a
:attr:`Purpose.STATION_MAX` here, a 1.6 ``connectorId`` is an ``evse_id``. Numbers are
:class:`~decimal.Decimal` so that rounding is exact and a composite never exceeds a maximum
because of float error. Instants are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "DEFAULT_NUMBER_PHASES",
    "DEFAULT_VOLTAGE_V",
    "ChargingProfile",
    "ChargingSchedule",
    "Kind",
    "OperationMode",
    "Purpose",
    "RateUnit",
    "Recurrency",
    "SchedulePeriod",
    "StationContext",
    "Transaction",
]

DEFAULT_VOLTAGE_V = Decimal(230)
"""Nominal phase voltage used for A↔W conversion unless the station says otherwise."""
DEFAULT_NUMBER_PHASES = 3
"""numberPhases when a period does not give it (1.6 ChargingSchedulePeriod, 2.x K01.FR.49)."""


class Purpose(StrEnum):
    """chargingProfilePurpose; 1.6's ChargePointMaxProfile is :attr:`STATION_MAX`."""

    STATION_MAX = "ChargingStationMaxProfile"
    EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"
    PRIORITY_CHARGING = "PriorityCharging"
    LOCAL_GENERATION = "LocalGeneration"


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RELATIVE = "Relative"
    RECURRING = "Recurring"
    DYNAMIC = "Dynamic"


class Recurrency(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"

    @property
    def period_s(self) -> int:
        """Length of one recurrence in seconds."""
        return 86_400 if self is Recurrency.DAILY else 7 * 86_400


class RateUnit(StrEnum):
    A = "A"
    W = "W"


class OperationMode(StrEnum):
    """2.1 operationMode of a schedule period (absent means ChargingOnly)."""

    IDLE = "Idle"
    CHARGING_ONLY = "ChargingOnly"
    CENTRAL_SETPOINT = "CentralSetpoint"
    EXTERNAL_SETPOINT = "ExternalSetpoint"
    EXTERNAL_LIMITS = "ExternalLimits"
    CENTRAL_FREQUENCY = "CentralFrequency"
    LOCAL_FREQUENCY = "LocalFrequency"
    LOCAL_LOAD_BALANCING = "LocalLoadBalancing"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """One chargingSchedulePeriod. ``limit=None`` means the period sets no charging limit
    (allowed in 2.1 for some operation modes). Per-phase values are 2.1's ``_L2``/``_L3``."""

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
    setpoint_reactive: Decimal | None = None
    operation_mode: OperationMode | None = None
    v2x_baseline: Decimal | None = None
    freq_watt_curve: tuple[tuple[Decimal, Decimal], ...] = ()
    """2.1 v2xFreqWattCurve as (frequency Hz, power) points."""
    evse_sleep: bool | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    """One chargingSchedule (1.6 has exactly one per profile, 2.x a list of up to three)."""

    unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    start_schedule: datetime | None = None
    duration_s: int | None = None
    min_charging_rate: Decimal | None = None
    schedule_id: int | None = None
    randomized_delay_s: int | None = None
    use_local_time: bool | None = None
    has_limit_at_soc: bool = False


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A charging profile as installed on ``evse_id`` (0 = the whole station)."""

    profile_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedules: tuple[ChargingSchedule, ...]
    recurrency: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    dyn_update_interval_s: int | None = None
    dyn_update_time: datetime | None = None

    @property
    def schedule(self) -> ChargingSchedule:
        """The first schedule (1.6 has only one)."""
        return self.schedules[0]

    def schedule_for(self, unit: RateUnit) -> ChargingSchedule:
        """The schedule the composite uses when asked for ``unit``.

        2.0.1/2.1 allow up to three schedules (for ISO 15118, e.g. one per unit); the oracle
        takes the first one in the requested unit, else the first one.
        """
        return next((s for s in self.schedules if s.unit is unit), self.schedules[0])


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction running on an EVSE/connector."""

    transaction_id: str
    start: datetime


@dataclass(frozen=True, slots=True)
class StationContext:
    """Station state and configuration that validation and the composite need.

    ``evse_ids`` are the EVSEs (1.6: connectors) that exist, not counting 0.
    ``max_stack_level``/``max_periods``/``max_profiles`` are the configured maxima (1.6
    ChargeProfileMaxStackLevel, ChargingScheduleMaxPeriods, MaxChargingProfilesInstalled;
    2.x SmartChargingCtrlr.ProfileStackLevel, PeriodsPerSchedule, Entries); ``None`` = no limit.
    """

    evse_ids: tuple[int, ...] = (1,)
    transactions: tuple[tuple[int, Transaction], ...] = ()
    supported_units: frozenset[RateUnit] = frozenset({RateUnit.A, RateUnit.W})
    max_stack_level: int | None = None
    max_periods: int | None = None
    max_profiles: int | None = None
    supply_phases: int = 3
    voltage_v: Decimal = DEFAULT_VOLTAGE_V
    dc_evse_ids: frozenset[int] = frozenset()
    phase_switching_supported: bool = False
    supported_additional_purposes: frozenset[Purpose] = frozenset()
    supports_dynamic_profiles: bool = False
    priority_charging_evse_ids: frozenset[int] = field(default_factory=frozenset)
    """EVSEs on which priority charging is currently active (2.1)."""

    def transaction_on(self, evse_id: int) -> Transaction | None:
        """The transaction running on ``evse_id``, if any."""
        for evse, tx in self.transactions:
            if evse == evse_id:
                return tx
        return None

    def with_transaction(self, evse_id: int, transaction: Transaction | None) -> StationContext:
        """A copy where ``evse_id`` runs ``transaction`` (``None`` ends it)."""
        from dataclasses import replace

        rest = tuple((e, t) for e, t in self.transactions if e != evse_id)
        added = ((evse_id, transaction),) if transaction is not None else ()
        return replace(self, transactions=tuple(sorted(rest + added, key=lambda x: x[0])))
