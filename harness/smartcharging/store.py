"""The profiles installed on one station: install, clear, composite, limit at an instant.

:class:`ProfileStore` is what a station simulator keeps. It holds no clock: every call gets
the station state (:class:`StationContext`) and the instants it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

from harness.smartcharging.composite import (
    CompositeSchedule,
    InstalledProfile,
    composite_schedule,
    to_epoch_s,
)
from harness.smartcharging.model import (
    ChargingProfile,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    StationContext,
)
from harness.smartcharging.responses import composite_response, rejected_response
from harness.smartcharging.rules import Rejected, validate_profile
from harness.smartcharging.units import PRECISION, convert
from harness.versions import OcppVersion

__all__ = ["Accepted", "ClearCriteria", "InstantLimit", "ProfileStore"]

LIMIT_CACHE_HORIZON_S = 6 * 3600
"""How far ahead :meth:`ProfileStore.limit_at` computes a composite at once."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The profile was installed; ``replaced`` are the ids it pushed out."""

    replaced: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ClearCriteria:
    """ClearChargingProfile criteria; ``None`` fields match anything."""

    profile_id: int | None = None
    evse_id: int | None = None
    purpose: Purpose | None = None
    stack_level: int | None = None

    def matches(self, item: InstalledProfile) -> bool:
        p = item.profile
        return (
            (self.profile_id is None or p.profile_id == self.profile_id)
            and (self.evse_id is None or item.evse_id == self.evse_id)
            and (self.purpose is None or p.purpose is self.purpose)
            and (self.stack_level is None or p.stack_level == self.stack_level)
        )


@dataclass(frozen=True, slots=True)
class InstantLimit:
    """What the station must allow at one instant.

    ``current_a`` is per phase, ``power_w`` over all phases; ``None`` means no limit.
    Values are exact (not rounded to a version's precision) but never above the maximum.
    """

    current_a: Decimal | None
    power_w: Decimal | None
    number_phases: int
    setpoint_w: Decimal | None = None
    discharge_limit_w: Decimal | None = None
    operation_mode: OperationMode | None = None


class ProfileStore:
    """Installed charging profiles of one station speaking ``version``.

    ``install`` validates like a conforming station and replaces as the version says
    (same id always; 1.6 also same stackLevel + purpose on the same connector).
    """

    def __init__(self, version: OcppVersion) -> None:
        self.version = version
        self._items: tuple[InstalledProfile, ...] = ()
        self._cache: dict[tuple[int, StationContext, RateUnit], tuple[int, CompositeSchedule]] = {}

    @property
    def installed(self) -> tuple[InstalledProfile, ...]:
        """The installed profiles, in installation order."""
        return self._items

    def install(
        self,
        evse_id: int,
        profile: ChargingProfile,
        context: StationContext,
        *,
        from_csms: bool = True,
    ) -> Accepted | Rejected:
        """Validate and install ``profile`` on ``evse_id`` (0 = station).

        ``from_csms=False`` installs a profile set locally, e.g. ChargingStationExternalConstraints
        from an energy management system (which a CSMS may not send, K01.FR.22).
        """
        rejected = validate_profile(
            profile,
            evse_id=evse_id,
            version=self.version,
            context=context,
            installed=self._items,
            from_csms=from_csms,
        )
        if rejected is not None:
            return rejected
        return self.install_accepted(evse_id, profile)

    def install_accepted(self, evse_id: int, profile: ChargingProfile) -> Accepted:
        """Install ``profile`` on ``evse_id`` without validating it, replacing as :meth:`install`
        does: for a device that has already accepted it (the harness mirroring what a device
        under test holds) or a limit set locally, whose validity is not this store's question.
        """
        replaced = [i for i in self._items if self._replaces(evse_id, profile, i)]
        kept = tuple(i for i in self._items if i not in replaced)
        self._items = (*kept, InstalledProfile(evse_id, profile))
        self._cache.clear()
        return Accepted(tuple(i.profile.profile_id for i in replaced))

    def _replaces(self, evse_id: int, new: ChargingProfile, old: InstalledProfile) -> bool:
        if old.profile.profile_id == new.profile_id:
            return True  # 1.6 §5.16, K01.FR.05: same id replaces.
        # 1.6 §3.13.2: same stackLevel and purpose on the same connector replaces.
        return self.version is OcppVersion.V16 and (
            old.evse_id == evse_id
            and old.profile.stack_level == new.stack_level
            and old.profile.purpose is new.purpose
        )

    def clear(self, criteria: ClearCriteria) -> tuple[int, ...]:
        """Remove matching profiles; return their ids (empty: ClearChargingProfile Unknown)."""
        gone = tuple(i for i in self._items if criteria.matches(i))
        self._items = tuple(i for i in self._items if i not in gone)
        if gone:
            self._cache.clear()
        return tuple(i.profile.profile_id for i in gone)

    def end_transaction(
        self, transaction_id: str, *, evse_id: int | None = None
    ) -> tuple[int, ...]:
        """Drop the TxProfiles of a finished transaction (they live as long as it, 1.6 §3.13.1,
        K01.FR.26 in 2.x); return their ids.

        With ``evse_id`` (the EVSE the transaction ran on), TxProfiles on that EVSE without a
        transactionId go too: one given with the start request belongs to the transaction it
        started.
        """

        def ended(item: InstalledProfile) -> bool:
            profile = item.profile
            if profile.purpose is not Purpose.TX:
                return False
            if profile.transaction_id is None:
                return evse_id is not None and item.evse_id == evse_id
            return profile.transaction_id == transaction_id

        return self._drop(ended)

    def _drop(self, predicate: Callable[[InstalledProfile], bool]) -> tuple[int, ...]:
        gone = tuple(i for i in self._items if predicate(i))
        if gone:
            self._items = tuple(i for i in self._items if i not in gone)
            self._cache.clear()
        return tuple(i.profile.profile_id for i in gone)

    def composite(
        self,
        *,
        evse_id: int,
        start: datetime,
        duration_s: int,
        unit: RateUnit,
        context: StationContext,
        default_limit: Decimal | None = None,
        evse_default_limit: Decimal | None = None,
        tx_default_resumes: bool = False,
    ) -> CompositeSchedule:
        """The composite schedule rounded to this version's precision (see
        :func:`~harness.smartcharging.composite.composite_schedule`; ``tx_default_resumes``
        asks for the reading the specification does not take, for a verdict to name it)."""
        return composite_schedule(
            self._items,
            evse_id=evse_id,
            start=start,
            duration_s=duration_s,
            unit=unit,
            context=context,
            default_limit=default_limit,
            precision=PRECISION[self.version],
            evse_default_limit=evse_default_limit,
            tx_default_resumes=tx_default_resumes,
        )

    def composite_response(
        self,
        *,
        evse_id: int,
        start: datetime,
        duration_s: int,
        unit: RateUnit,
        context: StationContext,
        default_limit: Decimal | None = None,
    ) -> dict[str, Any]:
        """The GetCompositeSchedule response payload a conforming station sends.

        A unit the station does not support (OCA TC_K_42) or an EVSE it does not have
        (TC_K_47) gives status Rejected (2.x with a statusInfo reason code). The payload's
        scheduleStart is written in whole seconds, so the schedule is computed from ``start``
        truncated to the second: its startPeriods count from the scheduleStart it reports.
        """
        start = start.replace(microsecond=0)
        if unit not in context.supported_units:
            return rejected_response(self.version, "UnsupportedRateUnit")
        if evse_id != 0 and evse_id not in context.evse_ids:
            return rejected_response(self.version, "UnknownEvse")
        schedule = self.composite(
            evse_id=evse_id,
            start=start,
            duration_s=duration_s,
            unit=unit,
            context=context,
            default_limit=default_limit,
        )
        return composite_response(schedule, self.version)

    def limit_at(self, *, evse_id: int, at: datetime, context: StationContext) -> InstantLimit:
        """What ``evse_id`` may draw at ``at``: current per phase and total power.

        Both an ampere and a watt composite are taken into account (an A limit binds each
        phase, a W limit the total), so neither is exceeded whatever the phases. They are
        computed exactly for the next six hours once and reused for later instants while the
        profiles and ``context`` stay the same.
        """
        in_a = self._cached(evse_id, at, context, RateUnit.A).period_at(at)
        in_w = self._cached(evse_id, at, context, RateUnit.W).period_at(at)
        phases = in_w.number_phases if in_w.number_phases is not None else 3
        voltage = context.voltage_v
        current, power = in_a.limit, in_w.limit
        if current is not None:
            as_w = convert(
                current,
                from_unit=RateUnit.A,
                to_unit=RateUnit.W,
                number_phases=phases,
                voltage_v=voltage,
            )
            as_w = _clean(as_w)
            power = as_w if power is None else min(power, as_w)
        if power is not None:
            as_a = convert(
                power,
                from_unit=RateUnit.W,
                to_unit=RateUnit.A,
                number_phases=phases,
                voltage_v=voltage,
            )
            as_a = _clean(as_a)
            current = as_a if current is None else min(current, as_a)
        if in_w.operation_mode is OperationMode.IDLE:
            current, power = Decimal(0), Decimal(0)
        return InstantLimit(
            current_a=_down(current, Decimal("0.001")),
            power_w=_down(power, Decimal("0.1")),
            number_phases=phases,
            setpoint_w=in_w.setpoint,
            discharge_limit_w=in_w.discharge_limit,
            operation_mode=in_w.operation_mode,
        )

    def _cached(
        self, evse_id: int, at: datetime, context: StationContext, unit: RateUnit
    ) -> CompositeSchedule:
        at_s = to_epoch_s(at)
        key = (evse_id, context, unit)
        hit = self._cache.get(key)
        if (
            hit is not None
            and hit[0] <= at_s < hit[0] + LIMIT_CACHE_HORIZON_S
            and (not self._relative_without_transaction(evse_id, context))
        ):
            return hit[1]
        schedule = composite_schedule(
            self._items,
            evse_id=evse_id,
            start=at,
            duration_s=LIMIT_CACHE_HORIZON_S,
            unit=unit,
            context=context,
            precision=None,
        )
        self._cache[key] = (at_s, schedule)
        return schedule

    def _relative_without_transaction(self, evse_id: int, context: StationContext) -> bool:
        # Without a transaction a Relative profile starts at the moment asked about, so a
        # composite computed earlier does not answer for a later instant.
        evses: Sequence[int] = context.evse_ids if evse_id == 0 else (evse_id,)
        return any(
            i.profile.kind is Kind.RELATIVE and context.transaction_on(e) is None
            for i in self._items
            for e in evses
        )


def _down(value: Decimal | None, step: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(step, rounding=ROUND_DOWN)


def _clean(value: Decimal) -> Decimal:
    # A value converted twice (W → A in the composite, A → W here) carries an error in its
    # 28th digit; rounding to 1e-9 removes it so 7000 W does not come back as 6999.9.
    return value.quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
