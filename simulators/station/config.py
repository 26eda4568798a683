"""Station configuration: one frozen value that fixes how a simulated station behaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from harness.versions import OcppVersion
from simulators.iec61851 import (
    MAX_SIGNALLED_CURRENT_A,
    MIN_SIGNALLED_CURRENT_A,
    BelowMinimumPolicy,
)
from simulators.station.faults import StationFault
from simulators.station.smartcharging import Facts, RateUnit
from simulators.station.wakeup import WakeUpMethod

__all__ = ["AuthorizationMode", "StationConfig"]


class AuthorizationMode(StrEnum):
    """How the station decides on an id token by itself."""

    ACCEPT_ALL = "accept_all"  # free vending: every token is accepted
    LOCAL_LIST = "local_list"  # only tokens of ``local_list`` are accepted


@dataclass(frozen=True, slots=True, kw_only=True)
class StationConfig:
    """Everything that makes one simulated station behave as it does.

    Currents are per phase. ``station_max_current_a=None`` means the station's connection is
    not a tighter limit than the EVSEs' sum. ``ocpp_version`` selects the smart-charging
    rules the station validates profiles with (its own engine's). ``apply_delay_s`` is how long
    a well-behaved station takes to put a new limit on the pilot; ``late_apply_delay_s`` is
    the delay under :attr:`StationFault.LATE_APPLY`. ``meter_interval_s`` is the sampled
    meter interval during a transaction (1.6 MeterValueSampleInterval, 2.x
    SampledDataCtrlr.TxUpdatedInterval); ``clock_aligned_interval_s`` the clock-aligned one
    (``None``: off). ``connection_timeout_s`` is how long an authorized start waits for the
    cable (1.6 ConnectionTimeOut, 2.x TxCtrlr.EVConnectionTimeOut). ``reports_soc``: the
    vehicle's state of charge reaches the station (ISO 15118), so the meter reports it.
    ``smart_charging``: ``False`` models a station without smart charging (2.x
    SmartChargingCtrlr.Enabled false at start): a chargingProfile given with a remote start
    is ignored (OCA TC_K_38_CS). ``wake_up``: the methods the station tries, in order, when
    the vehicle does not draw for ``wake_up_after_s`` although the pilot offers current
    (empty: it never tries; see :mod:`simulators.station.wakeup`); a pilot toggle stops the
    PWM for ``wake_up_toggle_s``, a state F wake-up holds F for ``wake_up_interrupt_s``.
    ``dc``: a DC station — no duty cycle: every vehicle's current is agreed over high-level
    communication (as for ISO 15118), at ``voltage_v`` (the DC voltage) on ``phases`` 1.
    ``iso15118_schedule_wait_s``: how long, after reporting an ISO 15118 vehicle's charging
    needs (2.x NotifyEVChargingNeeds), the station waits for the CSMS's TxProfile before it
    agrees a schedule from its own limits (ISO 15118-2 lets the vehicle wait up to 60 s).
    """

    station_id: str = "SIM-STATION-1"
    vendor: str = "ocpp-harness"
    model: str = "SimStation"
    firmware_version: str = "0.1.0"
    serial_number: str = "SIM-0001"
    ocpp_version: OcppVersion = OcppVersion.V201
    evse_count: int = 1
    max_current_per_evse_a: float = 32.0
    station_max_current_a: float | None = None
    voltage_v: float = 230.0
    phases: int = 3
    phase_switching: bool = False
    supported_units: frozenset[RateUnit] = frozenset({RateUnit.A, RateUnit.W})
    max_stack_level: int | None = 8
    max_periods: int | None = 24
    max_profiles: int | None = None
    below_minimum: BelowMinimumPolicy = BelowMinimumPolicy.PAUSE
    meter_interval_s: int = 60
    clock_aligned_interval_s: int | None = None
    apply_delay_s: float = 1.0
    late_apply_delay_s: float = 45.0
    connection_timeout_s: float = 120.0
    authorization: AuthorizationMode = AuthorizationMode.ACCEPT_ALL
    local_list: frozenset[str] = frozenset()
    reports_soc: bool = False
    smart_charging: bool = True
    faults: frozenset[StationFault] = field(default_factory=frozenset)
    wake_up: tuple[WakeUpMethod, ...] = ()
    dc: bool = False
    wake_up_after_s: float = 90.0
    wake_up_toggle_s: float = 3.0
    wake_up_interrupt_s: float = 4.0
    iso15118_schedule_wait_s: float = 30.0

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(
                f"StationConfig.{name}: expected {expected}, got {getattr(self, name)!r}"
            )

        if self.evse_count < 1:
            raise bad("evse_count", "at least 1 EVSE")
        if not MIN_SIGNALLED_CURRENT_A <= self.max_current_per_evse_a <= MAX_SIGNALLED_CURRENT_A:
            raise bad("max_current_per_evse_a", "a current per phase within 6–80 A")
        if self.station_max_current_a is not None and self.station_max_current_a < 0:
            raise bad("station_max_current_a", "None or a current ≥ 0 A")
        if self.voltage_v <= 0:
            raise bad("voltage_v", "a voltage > 0 V")
        if self.phases not in (1, 3):
            raise bad("phases", "1 or 3")
        if self.dc and (self.phases != 1 or self.phase_switching):
            raise bad("phases", "1 without phase switching for a DC station (dc=True)")
        if not self.supported_units:
            raise bad("supported_units", "at least one of A, W")
        if self.meter_interval_s < 0:
            raise bad("meter_interval_s", "an interval ≥ 0 s (0: off)")
        if self.clock_aligned_interval_s is not None and self.clock_aligned_interval_s <= 0:
            raise bad("clock_aligned_interval_s", "None or an interval > 0 s")
        try:  # accept method names (e.g. from YAML) as well as WakeUpMethod members
            wake_up = tuple(WakeUpMethod(m) for m in self.wake_up)
        except ValueError:
            raise bad("wake_up", "methods among pilot_toggle, state_f") from None
        if WakeUpMethod.NONE in wake_up:
            raise bad("wake_up", "methods among pilot_toggle, state_f (empty: none)")
        object.__setattr__(self, "wake_up", wake_up)
        for name in ("wake_up_after_s", "wake_up_toggle_s", "wake_up_interrupt_s"):
            if getattr(self, name) <= 0:
                raise bad(name, "a duration > 0 s")
        for name in (
            "apply_delay_s",
            "late_apply_delay_s",
            "connection_timeout_s",
            "iso15118_schedule_wait_s",
        ):
            if getattr(self, name) < 0:
                raise bad(name, "a duration ≥ 0 s")
        # accept unit names (or any StrEnum spelling them) as well as RateUnit members
        object.__setattr__(
            self, "supported_units", frozenset(RateUnit(u) for u in self.supported_units)
        )
        try:  # accept fault names (e.g. from YAML) as well as StationFault members
            faults = frozenset(StationFault(f) for f in self.faults)
        except ValueError:
            raise bad("faults", f"names among {', '.join(StationFault)}") from None
        object.__setattr__(self, "faults", faults)

    @property
    def evse_ids(self) -> tuple[int, ...]:
        """The EVSE ids, 1 … ``evse_count`` (one connector each)."""
        return tuple(range(1, self.evse_count + 1))

    @property
    def default_unit(self) -> RateUnit:
        """The unit a composite schedule is given in when the request names none."""
        return RateUnit.A if RateUnit.A in self.supported_units else RateUnit.W

    def has(self, fault: StationFault) -> bool:
        """True when ``fault`` is switched on."""
        return fault in self.faults

    def facts(self, running: tuple[tuple[int, str], ...] = ()) -> Facts:
        """What the station's profile checks know of it (``running``: EVSE id, transaction id)."""
        return Facts(
            evse_ids=self.evse_ids,
            running=running,
            units=self.supported_units,
            max_stack_level=self.max_stack_level,
            max_periods=self.max_periods,
            max_profiles=self.max_profiles,
            supply_phases=self.phases,
            phase_switching=self.phase_switching,
        )
