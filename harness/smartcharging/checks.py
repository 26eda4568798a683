"""The checks behind the validation rules: one function per rule, each quoting its requirement.

Each check takes a :class:`RuleInput` and returns what is wrong, or ``None`` when the rule
holds. The table that names the rules, their requirement IDs per version and reason codes is
:data:`harness.smartcharging.rules.RULES`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from harness.smartcharging.composite import InstalledProfile
from harness.smartcharging.model import (
    ChargingProfile,
    Kind,
    OperationMode,
    Purpose,
    SchedulePeriod,
    StationContext,
)
from harness.versions import OcppVersion

__all__ = ["RuleInput"]


@dataclass(frozen=True, slots=True)
class RuleInput:
    """Everything a rule may look at."""

    profile: ChargingProfile
    evse_id: int
    version: OcppVersion
    context: StationContext
    installed: tuple[InstalledProfile, ...]
    """Profiles already installed (a profile with the same id is about to be replaced)."""


def _others(inp: RuleInput) -> list[InstalledProfile]:
    return [i for i in inp.installed if i.profile.profile_id != inp.profile.profile_id]


def _periods(inp: RuleInput) -> list[tuple[int, int, SchedulePeriod]]:
    return [
        (si, pi, period)
        for si, schedule in enumerate(inp.profile.schedules)
        for pi, period in enumerate(schedule.periods)
    ]


def _overlap(a: ChargingProfile, b: ChargingProfile) -> bool:
    def key(value: datetime | None, default: float) -> float:
        return default if value is None else value.timestamp()

    return key(a.valid_from, float("-inf")) < key(b.valid_to, float("inf")) and key(
        b.valid_from, float("-inf")
    ) < key(a.valid_to, float("inf"))


# --- station and EVSE ---------------------------------------------------------------------


def evse_exists(inp: RuleInput) -> str | None:
    # K01.FR.28 / 1.6 §5.16: the EVSE (connector) of the request must exist.
    if inp.evse_id != 0 and inp.evse_id not in inp.context.evse_ids:
        return f"EVSE {inp.evse_id} does not exist (EVSEs: {list(inp.context.evse_ids)})"
    return None


def external_not_settable(inp: RuleInput) -> str | None:
    # K01.FR.22: ChargingStationExternalConstraints cannot be set by SetChargingProfile.
    if inp.profile.purpose is Purpose.EXTERNAL_CONSTRAINTS:
        return "ChargingStationExternalConstraints cannot be set with SetChargingProfile"
    return None


def additional_purpose(inp: RuleInput) -> str | None:
    # K01.FR.120: PriorityCharging / LocalGeneration only when SupportedAdditionalPurposes says.
    purpose = inp.profile.purpose
    if purpose in (Purpose.PRIORITY_CHARGING, Purpose.LOCAL_GENERATION) and (
        purpose not in inp.context.supported_additional_purposes
    ):
        return f"{purpose} is not among the station's SupportedAdditionalPurposes"
    return None


def dynamic_supported(inp: RuleInput) -> str | None:
    # K01.FR.121: a Dynamic profile is rejected unless SupportsDynamicProfiles is true.
    if inp.profile.kind is Kind.DYNAMIC and not inp.context.supports_dynamic_profiles:
        return "Dynamic profiles are not supported"
    return None


def dyn_fields_only_dynamic(inp: RuleInput) -> str | None:
    # K01.FR.122: dynUpdateInterval/dynUpdateTime only in a Dynamic profile.
    p = inp.profile
    if p.kind is not Kind.DYNAMIC and (p.dyn_update_interval_s or p.dyn_update_time):
        return f"dynUpdateInterval/dynUpdateTime given in a {p.kind} profile"
    return None


def stack_level_range(inp: RuleInput) -> str | None:
    # 1.6 ChargingProfile.stackLevel / 2.x ChargingProfileType.stackLevel: lowest level is 0;
    # and at most the configured maximum (1.6 ChargeProfileMaxStackLevel, 2.x
    # SmartChargingCtrlr.ProfileStackLevel).
    level, top = inp.profile.stack_level, inp.context.max_stack_level
    if level < 0:
        return f"stackLevel {level} < 0"
    if top is not None and level > top:
        return f"stackLevel {level} > configured maximum {top}"
    return None


def too_many_profiles(inp: RuleInput) -> str | None:
    # 1.6 configuration key MaxChargingProfilesInstalled: no room for one more profile.
    top = inp.context.max_profiles
    if top is not None and len(_others(inp)) >= top:
        return f"{len(_others(inp))} profiles installed, maximum {top}"
    return None


def transaction_id_only_tx(inp: RuleInput) -> str | None:
    # 1.6 ChargingProfile.transactionId / 2.x ChargingProfileType.transactionId: only with
    # purpose TxProfile.
    if inp.profile.transaction_id is not None and inp.profile.purpose is not Purpose.TX:
        return f"transactionId given for a {inp.profile.purpose}"
    return None


def station_max_on_zero(inp: RuleInput) -> str | None:
    # 1.6 §3.13.1: ChargePointMaxProfile can only be set at connectorId 0;
    # 2.x ChargingStationMaxProfile is for the entire station (evseId 0).
    if inp.profile.purpose is Purpose.STATION_MAX and inp.evse_id != 0:
        return f"station maximum profile on EVSE {inp.evse_id} instead of 0"
    return None


def station_max_not_relative(inp: RuleInput) -> str | None:
    # K01.FR.38: a ChargingStationMaxProfile SHALL NOT be Relative (1.6: nothing to be
    # relative to at station level; the OCA 1.6 tool treats it alike).
    if inp.profile.purpose is Purpose.STATION_MAX and inp.profile.kind is Kind.RELATIVE:
        return "station maximum profile is Relative"
    return None


# --- TxProfile -------------------------------------------------------------------------------


def tx_on_evse(inp: RuleInput) -> str | None:
    # K01.FR.16: TxProfile SHALL only be used with evseId > 0 (1.6: connectorId > 0, TC_058).
    if inp.profile.purpose is Purpose.TX and inp.evse_id == 0:
        return "TxProfile on EVSE 0"
    return None


def tx_has_transaction_id(inp: RuleInput) -> str | None:
    # K01.FR.03: a TxProfile without transactionId is rejected.
    if inp.profile.purpose is Purpose.TX and inp.profile.transaction_id is None:
        return "TxProfile without transactionId"
    return None


def tx_needs_transaction(inp: RuleInput) -> str | None:
    # K01.FR.09 / 1.6 §5.16 (TC_058_1): no transaction on the EVSE → discard the TxProfile.
    if (
        inp.profile.purpose is Purpose.TX
        and inp.evse_id != 0
        and (inp.context.transaction_on(inp.evse_id) is None)
    ):
        return f"TxProfile but no transaction runs on EVSE {inp.evse_id}"
    return None


def tx_matches_transaction(inp: RuleInput) -> str | None:
    # K01.FR.33 / 1.6 TC_058_2: the transactionId must be the one running on the EVSE.
    tx = inp.context.transaction_on(inp.evse_id)
    given = inp.profile.transaction_id
    if (
        inp.profile.purpose is Purpose.TX
        and tx is not None
        and given is not None
        and (given != tx.transaction_id)
    ):
        return f"transactionId {given!r} but EVSE {inp.evse_id} runs {tx.transaction_id!r}"
    return None


def tx_stack_level_free(inp: RuleInput) -> str | None:
    # K01.FR.39: no other TxProfile with the same stackLevel and transactionId.
    p = inp.profile
    if p.purpose is not Purpose.TX:
        return None
    for other in _others(inp):
        o = other.profile
        if (
            o.purpose is Purpose.TX
            and o.stack_level == p.stack_level
            and (o.transaction_id == p.transaction_id)
        ):
            return f"TxProfile {o.profile_id} has stackLevel {p.stack_level} for this transaction"
    return None


def unique_stack_level(inp: RuleInput) -> str | None:
    # K01.FR.06: same purpose, stackLevel and EVSE with overlapping validity → reject.
    p = inp.profile
    if p.purpose is Purpose.TX:
        return None
    for other in _others(inp):
        o = other.profile
        if (
            other.evse_id == inp.evse_id
            and o.purpose is p.purpose
            and (o.stack_level == p.stack_level and _overlap(o, p))
        ):
            return f"profile {o.profile_id} has the same purpose and stackLevel {p.stack_level}"
    return None


def tx_default_zero_vs_evse(inp: RuleInput) -> str | None:
    # K01.FR.52 / K01.FR.53: a TxDefaultProfile on EVSE 0 and one on a specific EVSE may not
    # share a stackLevel.
    p = inp.profile
    if p.purpose is not Purpose.TX_DEFAULT:
        return None
    for other in _others(inp):
        o = other.profile
        if (
            o.purpose is Purpose.TX_DEFAULT
            and o.stack_level == p.stack_level
            and ((inp.evse_id == 0) != (other.evse_id == 0))
        ):
            return f"TxDefaultProfile {o.profile_id} on EVSE {other.evse_id} has this stackLevel"
    return None


# --- schedules and periods -------------------------------------------------------------------


def unit_supported(inp: RuleInput) -> str | None:
    # K01.FR.26 / 1.6 key ChargingScheduleAllowedChargingRateUnit.
    for schedule in inp.profile.schedules:
        if schedule.unit not in inp.context.supported_units:
            return f"chargingRateUnit {schedule.unit} is not supported"
    return None


def period_count(inp: RuleInput) -> str | None:
    # 1.6 configuration key ChargingScheduleMaxPeriods / 2.x SmartChargingCtrlr.PeriodsPerSchedule.
    top = inp.context.max_periods
    for schedule in inp.profile.schedules:
        if top is not None and len(schedule.periods) > top:
            return f"{len(schedule.periods)} periods, maximum {top}"
    return None


def first_period_zero(inp: RuleInput) -> str | None:
    # K01.FR.31 / 1.6 ChargingSchedule (TC_056_CSMS): the first startPeriod is 0.
    for schedule in inp.profile.schedules:
        if schedule.periods and schedule.periods[0].start_period_s != 0:
            return f"first startPeriod is {schedule.periods[0].start_period_s}, not 0"
    return None


def periods_increasing(inp: RuleInput) -> str | None:
    # K01.FR.35 / 1.6 ChargingSchedule: startPeriod values strictly increase.
    for schedule in inp.profile.schedules:
        starts = [p.start_period_s for p in schedule.periods]
        for a, b in itertools.pairwise(starts):
            if b <= a:
                return f"startPeriod {b} follows {a}"
    return None


def start_schedule_present(inp: RuleInput) -> str | None:
    # K01.FR.40 / 1.6 ChargingSchedule.startSchedule (TC_056_CSMS): Absolute and Recurring
    # profiles need a startSchedule.
    schedules = inp.profile.schedules
    if inp.profile.kind in (Kind.ABSOLUTE, Kind.RECURRING) and any(
        s.start_schedule is None for s in schedules
    ):
        return f"{inp.profile.kind} profile without startSchedule"
    return None


def start_schedule_absent(inp: RuleInput) -> str | None:
    # K01.FR.41: a Relative profile has no startSchedule.
    schedules = inp.profile.schedules
    if inp.profile.kind is Kind.RELATIVE and any(s.start_schedule is not None for s in schedules):
        return "Relative profile with startSchedule"
    return None


def recurrency_kind(inp: RuleInput) -> str | None:
    # 1.6 ChargingProfile.recurrencyKind / 2.x ChargingProfileType.recurrencyKind: a Recurring
    # profile says Daily or Weekly.
    if inp.profile.kind is Kind.RECURRING and inp.profile.recurrency is None:
        return "Recurring profile without recurrencyKind"
    return None


def number_phases(inp: RuleInput) -> str | None:
    # K01.FR.45 / 1.6 ChargingSchedulePeriod.numberPhases: numberPhases between 1 and the
    # phases the station is supplied with.
    top = inp.context.supply_phases
    for si, pi, period in _periods(inp):
        n = period.number_phases
        if n is not None and not 1 <= n <= top:
            return f"chargingSchedule {si} period {pi}: numberPhases {n} not in 1..{top}"
    return None


def phase_to_use_single(inp: RuleInput) -> str | None:
    # K01.FR.19: phaseToUse only with numberPhases = 1.
    for si, pi, period in _periods(inp):
        if period.phase_to_use is not None and (period.number_phases != 1):
            return f"chargingSchedule {si} period {pi}: phaseToUse without numberPhases=1"
    return None


def phase_to_use_switching(inp: RuleInput) -> str | None:
    # K01.FR.20: phaseToUse only when ACPhaseSwitchingSupported is true.
    for si, pi, period in _periods(inp):
        if period.phase_to_use is not None and (not inp.context.phase_switching_supported):
            return f"chargingSchedule {si} period {pi}: phaseToUse, no AC phase switching"
    return None


def no_phases_on_dc(inp: RuleInput) -> str | None:
    # K01.FR.44: numberPhases/phaseToUse are not for a DC EVSE.
    if inp.evse_id not in inp.context.dc_evse_ids:
        return None
    for si, pi, period in _periods(inp):
        if period.number_phases is not None or (period.phase_to_use is not None):
            return f"chargingSchedule {si} period {pi}: phase values on a DC EVSE"
    return None


def limit_not_negative(inp: RuleInput) -> str | None:
    # 1.6 ChargingSchedulePeriod.limit / 2.0.1 ChargingSchedulePeriodType.limit: a rate limit,
    # not negative (2.1 allows negative limits for backwards compatibility only).
    for si, pi, period in _periods(inp):
        limit = period.limit
        if limit is not None and limit < 0:
            return f"chargingSchedule {si} period {pi}: limit {limit} < 0"
    return None


# --- 2.1 -------------------------------------------------------------------------------------


def priority_no_duration(inp: RuleInput) -> str | None:
    # K01.FR.70: a PriorityCharging schedule has no duration.
    if inp.profile.purpose is Purpose.PRIORITY_CHARGING and any(
        s.duration_s is not None for s in inp.profile.schedules
    ):
        return "PriorityCharging schedule with a duration"
    return None


def priority_charging_only(inp: RuleInput) -> str | None:
    # K01.FR.71: PriorityCharging periods use operationMode ChargingOnly.
    if inp.profile.purpose is not Purpose.PRIORITY_CHARGING:
        return None
    for si, pi, period in _periods(inp):
        mode = period.operation_mode
        if mode not in (None, OperationMode.CHARGING_ONLY):
            return f"chargingSchedule {si} period {pi}: PriorityCharging in {mode}"
    return None


def randomized_delay_tx_only(inp: RuleInput) -> str | None:
    # K01.FR.95: randomizedDelay only in TxProfile / TxDefaultProfile.
    if inp.profile.purpose not in (Purpose.TX, Purpose.TX_DEFAULT) and any(
        (s.randomized_delay_s or 0) > 0 for s in inp.profile.schedules
    ):
        return f"randomizedDelay in a {inp.profile.purpose}"
    return None


_CAP_PURPOSES = (Purpose.STATION_MAX, Purpose.EXTERNAL_CONSTRAINTS, Purpose.LOCAL_GENERATION)


def mode_for_purpose(inp: RuleInput) -> str | None:
    # 2.1 operationMode: caps (station maximum, external constraints, local generation) are
    # limits only, so they use ChargingOnly and carry no setpoint.
    if inp.profile.purpose not in _CAP_PURPOSES:
        return None
    for si, pi, period in _periods(inp):
        mode = period.operation_mode
        if mode not in (None, OperationMode.CHARGING_ONLY):
            return f"chargingSchedule {si} period {pi}: {mode} in a {inp.profile.purpose}"
        if period.setpoint is not None:
            return f"chargingSchedule {si} period {pi}: setpoint in a {inp.profile.purpose}"
    return None


_LIMIT_REQUIRED = (OperationMode.CHARGING_ONLY, OperationMode.CENTRAL_FREQUENCY, OperationMode.IDLE)


def mode_fields(inp: RuleInput) -> str | None:
    # 2.1 ChargingSchedulePeriodType: limit is optional only in CentralSetpoint,
    # ExternalSetpoint, ExternalLimits, LocalFrequency, LocalLoadBalancing; CentralSetpoint
    # needs a setpoint; ChargingOnly and Idle take no setpoint.
    for si, pi, period in _periods(inp):
        mode = period.operation_mode or OperationMode.CHARGING_ONLY
        where = f"chargingSchedule {si} period {pi} ({mode})"
        if mode in _LIMIT_REQUIRED and period.limit is None:
            return f"{where}: limit is required"
        if mode is OperationMode.CENTRAL_SETPOINT and period.setpoint is None:
            return f"{where}: setpoint is required"
        if mode in (OperationMode.CHARGING_ONLY, OperationMode.IDLE) and (
            period.setpoint is not None
        ):
            return f"{where}: setpoint is not allowed"
    return None


def discharge_not_positive(inp: RuleInput) -> str | None:
    # 2.1 ChargingSchedulePeriodType.dischargeLimit(_L2/_L3): negative values (≤ 0).
    for si, pi, period in _periods(inp):
        for name in ("discharge_limit", "discharge_limit_l2", "discharge_limit_l3"):
            value = getattr(period, name, None)
            if value is not None and value > 0:
                return f"chargingSchedule {si} period {pi}: {name} {value} > 0"
    return None


def local_frequency_curve(inp: RuleInput) -> str | None:
    # 2.1 LocalFrequency: the period gives a v2xFreqWattCurve of at least two points with
    # increasing frequency.
    for si, pi, period in _periods(inp):
        if period.operation_mode is not OperationMode.LOCAL_FREQUENCY:
            continue
        curve = period.freq_watt_curve
        if len(curve) < 2:
            return f"chargingSchedule {si} period {pi}: LocalFrequency needs a v2xFreqWattCurve"
        freqs = [f for f, _ in curve]
        if any(b <= a for a, b in itertools.pairwise(freqs)):
            return f"chargingSchedule {si} period {pi}: curve frequencies do not increase"
    return None
