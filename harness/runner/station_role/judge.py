"""Judging a charging profile that a CSMS sends to the station the harness plays.

:func:`judge_profile` takes the request (SetChargingProfile, or a remote start carrying a
profile), the station the harness declares (:class:`StationDeclaration`) and the station's
state, and returns every :class:`Finding`:

* the oracle's validity rules (:func:`harness.smartcharging.violations`) — what would make a
  conforming station reject the profile, each with its requirement id;
* a limit above the station's declared maximum (converted to the schedule's unit with the
  oracle's W = A × 230 V × phases);
* for a profile in RemoteStartTransaction / RequestStartTransaction: purpose TxProfile and
  no transactionId (F01.FR.09, F01.FR.11; 1.6 §5.11).

The unit check is the oracle's ``unit-supported`` rule with the declared units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harness.smartcharging import (
    ChargingProfile,
    InstalledProfile,
    PayloadError,
    Purpose,
    RateUnit,
    StationContext,
    parse_set_charging_profile,
    violations,
)
from harness.smartcharging.model import DEFAULT_VOLTAGE_V
from harness.versions import OcppVersion

__all__ = [
    "Finding",
    "ProfileJudgement",
    "StationDeclaration",
    "judge_composite_request",
    "judge_profile",
    "profile_purpose",
]

START_ACTIONS = frozenset({"RemoteStartTransaction", "RequestStartTransaction"})
_TX_RULES = frozenset({"tx-needs-transaction", "tx-matches-transaction", "tx-has-transaction-id"})
"""Rules about the running transaction, which a profile given with a remote start precedes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StationDeclaration:
    """What the station the harness plays tells the CSMS about itself.

    The CSMS learns it from the configuration (1.6 GetConfiguration: ChargeProfileMaxStackLevel,
    ChargingScheduleAllowedChargingRateUnit, ChargingScheduleMaxPeriods,
    MaxChargingProfilesInstalled; 2.x GetVariables of SmartChargingCtrlr) or from its
    operator (the maximum current). ``max_current_a`` is per phase; ``None``: no maximum.
    ``smart_charging`` False: a station without smart charging, which answers the
    smart-charging requests with CALLERROR NotSupported (TC_K_15_CSMS).
    """

    max_current_a: float | None = 32.0
    units: frozenset[RateUnit] = frozenset({RateUnit.A})
    supply_phases: int = 3
    number_of_evses: int = 1
    max_stack_level: int = 8
    max_periods: int = 24
    max_profiles: int = 16
    smart_charging: bool = True

    def context(self) -> StationContext:
        """The oracle's view of the station, without transactions."""
        return StationContext(
            evse_ids=tuple(range(1, self.number_of_evses + 1)),
            supported_units=self.units,
            max_stack_level=self.max_stack_level,
            max_periods=self.max_periods,
            max_profiles=self.max_profiles,
            supply_phases=self.supply_phases,
        )

    def maximum(self, unit: RateUnit, *, number_phases: int | None) -> Decimal | None:
        """The declared maximum in ``unit`` (W: over ``number_phases``, default all)."""
        if self.max_current_a is None:
            return None
        amps = Decimal(str(self.max_current_a))
        if unit is RateUnit.A:
            return amps
        return amps * DEFAULT_VOLTAGE_V * (number_phases or self.supply_phases)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a profile the CSMS sent."""

    requirement: str
    detail: str

    def describe(self) -> str:
        return f"{self.requirement}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ProfileJudgement:
    """A profile request judged: the profile (``None`` when there is none or it is
    malformed), the EVSE it is for, and what is wrong with it."""

    evse_id: int
    profile: ChargingProfile | None
    findings: tuple[Finding, ...]
    conforming_station_rejects: bool
    """A conforming station answers Rejected (the oracle's rules, not the maximum)."""
    reason_code: str = ""
    """The 2.x reasonCode of the first rule broken (empty: none)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def describe(self) -> str:
        return "; ".join(f.describe() for f in self.findings) or "a valid profile"


def _profile_payload(
    action: str, payload: Mapping[str, Any], version: OcppVersion
) -> tuple[dict[str, Any] | None, int]:
    """The request as a SetChargingProfile payload (``None``: no profile), and its EVSE."""
    if action not in START_ACTIONS:
        return dict(payload), int(payload.get("connectorId", payload.get("evseId", 0)))
    raw = payload.get("chargingProfile")
    evse = payload.get("connectorId" if version is OcppVersion.V16 else "evseId")
    evse_id = int(evse) if isinstance(evse, int) and evse > 0 else 1
    if raw is None:
        return None, evse_id
    if version is OcppVersion.V16:
        return {"connectorId": evse_id, "csChargingProfiles": raw}, evse_id
    return {"evseId": evse_id, "chargingProfile": raw}, evse_id


def profile_purpose(action: str, payload: Mapping[str, Any]) -> str | None:
    """The chargingProfilePurpose in a request (``None``: no profile in it)."""
    raw = payload.get("csChargingProfiles") or payload.get("chargingProfile")
    if isinstance(raw, Mapping):
        purpose = raw.get("chargingProfilePurpose")
        return str(purpose) if purpose is not None else None
    return None


def judge_profile(
    action: str,
    payload: Mapping[str, Any],
    *,
    version: OcppVersion,
    declaration: StationDeclaration,
    context: StationContext,
    installed: Sequence[InstalledProfile] = (),
) -> ProfileJudgement:
    """Judge the profile in ``payload`` (see the module docstring)."""
    request, evse_id = _profile_payload(action, payload, version)
    if request is None:
        return ProfileJudgement(
            evse_id,
            None,
            (Finding(f"{action}.chargingProfile", "the request carries no charging profile"),),
            conforming_station_rejects=False,
        )
    try:
        evse_id, profile = parse_set_charging_profile(request, version=version)
    except PayloadError as exc:
        return ProfileJudgement(
            evse_id,
            None,
            (Finding(f"OCPP {version} schema", str(exc)),),
            conforming_station_rejects=True,
        )
    findings: list[Finding] = []
    start = action in START_ACTIONS
    rejected = [
        r
        for r in violations(
            profile, evse_id=evse_id, version=version, context=context, installed=installed
        )
        if not (start and r.rule.rule_id in _TX_RULES)
    ]
    findings.extend(Finding(r.requirement, f"{r.rule.rule_id}: {r.detail}") for r in rejected)
    if start:
        findings.extend(_start_findings(profile, version))
    findings.extend(_maximum_findings(profile, declaration))
    return ProfileJudgement(
        evse_id,
        profile,
        tuple(findings),
        conforming_station_rejects=bool(rejected),
        reason_code=rejected[0].reason_code if rejected else "",
    )


def _start_findings(profile: ChargingProfile, version: OcppVersion) -> list[Finding]:
    out = []
    # F01.FR.09 / 1.6 §5.11: the purpose of a profile in a remote start SHALL be TxProfile.
    if profile.purpose is not Purpose.TX:
        requirement = (
            "1.6 §5.11 RemoteStartTransaction" if version is OcppVersion.V16 else "F01.FR.09"
        )
        out.append(Finding(requirement, f"purpose {profile.purpose.value}, expected TxProfile"))
    # F01.FR.11: the transactionId in that profile SHALL NOT be set (the transaction does
    # not exist yet).
    if version is not OcppVersion.V16 and profile.transaction_id is not None:
        out.append(Finding("F01.FR.11", f"transactionId {profile.transaction_id!r} is set"))
    return out


def _maximum_findings(profile: ChargingProfile, declaration: StationDeclaration) -> list[Finding]:
    out = []
    for si, schedule in enumerate(profile.schedules):
        for pi, period in enumerate(schedule.periods):
            top = declaration.maximum(schedule.unit, number_phases=period.number_phases)
            if top is None:
                continue
            for name, value in (
                ("limit", period.limit),
                ("limit_L2", period.limit_l2),
                ("limit_L3", period.limit_l3),
            ):
                if value is not None and value > top:
                    where = f"schedule {si} " if len(profile.schedules) > 1 else ""
                    out.append(
                        Finding(
                            "declared station maximum",
                            f"{where}period {pi} (startPeriod {period.start_period_s}) {name} "
                            f"{_text(value)} {schedule.unit.value} is above the station's declared "
                            f"maximum of {_text(top)} {schedule.unit.value}",
                        )
                    )
    return out


def _text(value: Decimal) -> str:
    """A number without trailing zeros: 32, 7360, 16.5."""
    return f"{value.normalize():f}"


def judge_composite_request(
    payload: Mapping[str, Any], *, version: OcppVersion, declaration: StationDeclaration
) -> tuple[Finding, ...]:
    """What is wrong with a GetCompositeSchedule the CSMS sends: an EVSE the station does
    not have, a duration that is not positive, a unit the station did not declare."""
    out = []
    key = "connectorId" if version is OcppVersion.V16 else "evseId"
    evse = payload.get(key)
    # 1.6 §5.7 / K08 (TC_K_47): the connector/EVSE must exist (0 = the whole station).
    if isinstance(evse, int) and evse > declaration.number_of_evses:
        out.append(
            Finding(
                f"GetCompositeSchedule.{key}",
                f"{key} {evse}: the station has {declaration.number_of_evses} EVSE(s)",
            )
        )
    duration = payload.get("duration")
    if isinstance(duration, int) and duration <= 0:
        out.append(Finding("GetCompositeSchedule.duration", f"duration {duration} s"))
    unit = payload.get("chargingRateUnit")
    # 1.6 key ChargingScheduleAllowedChargingRateUnit / 2.x SmartChargingCtrlr.RateUnit
    # (TC_K_42: a unit the station does not support is Rejected).
    if unit is not None and unit not in {u.value for u in declaration.units}:
        declared = ",".join(sorted(u.value for u in declaration.units))
        out.append(
            Finding(
                "declared station units",
                f"chargingRateUnit {unit}; the station declares {declared}",
            )
        )
    return tuple(out)
