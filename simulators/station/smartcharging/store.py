"""The profiles one station holds: install (with its checks), clear, and what they allow.

:class:`Profiles` keeps no clock: each call gets the instants and the station facts it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from harness.versions import OcppVersion
from simulators.station.smartcharging.composite import (
    Composite,
    Station,
    composite,
    draw_at,
)
from simulators.station.smartcharging.model import (
    PHASES_WHEN_ABSENT,
    Accepted,
    ChargingProfile,
    ClearCriteria,
    OperationMode,
    Placed,
    Purpose,
    RateUnit,
    Rejected,
    epoch_s,
)
from simulators.station.smartcharging.rules import Facts, first_broken

__all__ = ["STEP", "Allowance", "Profiles"]

STEP: dict[OcppVersion, Decimal] = {
    OcppVersion.V16: Decimal("0.1"),  # 1.6 schema: limit multipleOf 0.1
    OcppVersion.V201: Decimal("0.1"),  # 2.0.1: "at most one digit fraction"
    OcppVersion.V21: Decimal("0.1"),  # 2.1 dropped the sentence; one decimal kept
}
"""The rounding step (toward zero) of a composite's values in each version."""


@dataclass(frozen=True, slots=True)
class Allowance:
    """What an EVSE may draw at one instant: ``current_a`` per phase, ``power_w`` over its
    phases (``None``: no limit), on ``number_phases``; 2.1 setpoint and discharge limit."""

    current_a: Decimal | None
    power_w: Decimal | None
    number_phases: int
    setpoint_w: Decimal | None = None
    discharge_limit_w: Decimal | None = None
    operation_mode: OperationMode | None = None


class Profiles:
    """The charging profiles installed on a station speaking ``version``."""

    def __init__(self, version: OcppVersion) -> None:
        self.version = version
        self._placed: tuple[Placed, ...] = ()

    @property
    def placed(self) -> tuple[Placed, ...]:
        """Installed profiles, in installation order."""
        return self._placed

    def install(
        self, evse_id: int, profile: ChargingProfile, facts: Facts, *, from_csms: bool = True
    ) -> Accepted | Rejected:
        """Check ``profile`` and install it on ``evse_id`` (0: the station).

        Replacement: the same id always (1.6 §5.16, K01.FR.05); in 1.6 also the same
        stackLevel and purpose on the same connector (1.6 §3.13.2)."""
        refused = first_broken(
            profile,
            evse_id=evse_id,
            version=self.version,
            facts=facts,
            installed=self._placed,
            from_csms=from_csms,
        )
        if refused is not None:
            return refused

        def replaced_by_new(old: Placed) -> bool:
            if old.profile.profile_id == profile.profile_id:
                return True
            return (
                self.version is OcppVersion.V16
                and old.evse_id == evse_id
                and old.profile.stack_level == profile.stack_level
                and old.profile.purpose == profile.purpose
            )

        gone = tuple(p.profile.profile_id for p in self._placed if replaced_by_new(p))
        kept = tuple(p for p in self._placed if not replaced_by_new(p))
        self._placed = (*kept, Placed(evse_id, profile))
        return Accepted(gone)

    def clear(self, criteria: ClearCriteria) -> tuple[int, ...]:
        """Remove the profiles ``criteria`` match; their ids (none: answer Unknown)."""
        return self._drop(criteria.matches)

    def end_transaction(self, transaction_id: str) -> tuple[int, ...]:
        """A TxProfile lives as long as its transaction (1.6 §3.13.1, K01)."""
        return self._drop(
            lambda p: p.profile.purpose == Purpose.TX and p.profile.transaction_id == transaction_id
        )

    def _drop(self, doomed: Callable[[Placed], bool]) -> tuple[int, ...]:
        gone = tuple(p.profile.profile_id for p in self._placed if doomed(p))
        self._placed = tuple(p for p in self._placed if not doomed(p))
        return gone

    def composite(
        self,
        station: Station,
        *,
        evse_id: int,
        start: datetime,
        duration_s: int,
        unit: RateUnit,
        default: Decimal | None = None,
        exact: bool = False,
        evse_default: Decimal | None = None,
    ) -> Composite:
        """The composite schedule, rounded to the version's step (``exact``: not rounded);
        ``evse_default``: what an EVSE where nothing limits counts in a station total."""
        return composite(
            self._placed,
            station,
            evse_id=evse_id,
            start=start,
            duration_s=duration_s,
            unit=unit,
            default=default,
            step_size=None if exact else STEP[self.version],
            evse_default=evse_default,
        )

    def allowance(self, station: Station, *, evse_id: int, at: datetime) -> Allowance:
        """What ``evse_id`` (0: the station) may draw at ``at``, exact.

        The engine's A and W answers describe the same state, so one gives the other; the
        current is kept to 1 mA and the power to 0.1 W (toward zero)."""
        at_s = epoch_s(at)
        in_a = draw_at(self._placed, station, evse_id=evse_id, at_s=at_s, unit=RateUnit.A)
        in_w = draw_at(self._placed, station, evse_id=evse_id, at_s=at_s, unit=RateUnit.W)
        phases = PHASES_WHEN_ABSENT
        if in_w is not None and in_w.number_phases is not None:
            phases = in_w.number_phases
        volts = station.voltage_v
        current = None if in_a is None else in_a.limit
        power = None if in_w is None else in_w.limit
        if current is not None:
            as_w = _tidy(current * volts * phases)
            power = as_w if power is None else min(power, as_w)
        if power is not None:
            as_a = _tidy(power / (volts * phases))
            current = as_a if current is None else min(current, as_a)
        mode = None if in_w is None else in_w.operation_mode
        if mode == OperationMode.IDLE:
            current = power = Decimal(0)
        return Allowance(
            current_a=None if current is None else current.quantize(Decimal("0.001"), ROUND_DOWN),
            power_w=None if power is None else power.quantize(Decimal("0.1"), ROUND_DOWN),
            number_phases=phases,
            setpoint_w=None
            if in_w is None
            else _hold_w(in_w.setpoint, in_w.limit, in_w.discharge_limit),
            discharge_limit_w=None if in_w is None else in_w.discharge_limit,
            operation_mode=mode,
        )


def _hold_w(
    setpoint: Decimal | None, limit: Decimal | None, discharge: Decimal | None
) -> Decimal | None:
    if setpoint is None:
        return None
    if setpoint > 0 and limit is not None:
        return min(setpoint, limit)
    if setpoint < 0 and discharge is not None:
        return max(setpoint, discharge)
    return setpoint


def _tidy(value: Decimal) -> Decimal:
    # A value converted both ways carries an error in its last digits; 1e-9 removes it so
    # 7000 W does not come back as 6999.9.
    return value.quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
