"""Why a station refuses a charging profile: the checks, in the order the station runs them.

Each check quotes its clause and returns what is wrong (``None``: fine). The first broken
check decides the answer (2.x: its ``statusInfo.reasonCode``; 1.6 answers only Rejected).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.versions import OcppVersion
from simulators.station.smartcharging.model import (
    ChargingProfile,
    Kind,
    OperationMode,
    Placed,
    Purpose,
    RateUnit,
    Rejected,
    SchedulePeriod,
)

__all__ = ["CHECKS", "MODE_CHECKS", "Check", "Facts", "broken", "first_broken"]

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


@dataclass(frozen=True, slots=True)
class Facts:
    """What the station's checks look at besides the profile.

    ``running``: EVSE id → transaction id of the transactions now running. Maxima ``None``
    mean no maximum."""

    evse_ids: tuple[int, ...]
    running: tuple[tuple[int, str], ...] = ()
    units: frozenset[RateUnit] = frozenset({RateUnit.A, RateUnit.W})
    max_stack_level: int | None = None
    max_periods: int | None = None
    max_profiles: int | None = None
    supply_phases: int = 3
    dc_evse_ids: frozenset[int] = frozenset()
    phase_switching: bool = False
    extra_purposes: frozenset[Purpose] = frozenset()
    dynamic_profiles: bool = False

    def transaction_on(self, evse_id: int) -> str | None:
        return next((tx for evse, tx in self.running if evse == evse_id), None)


@dataclass(frozen=True, slots=True)
class _Ask:
    profile: ChargingProfile
    evse_id: int
    facts: Facts
    others: tuple[Placed, ...]  # installed profiles with another id

    def periods(self) -> list[tuple[str, SchedulePeriod]]:
        return [
            (f"chargingSchedule {s} period {n}", period)
            for s, schedule in enumerate(self.profile.schedules)
            for n, period in enumerate(schedule.periods)
        ]


@dataclass(frozen=True, slots=True)
class Check:
    """One reason to refuse: ``name``, the 2.x reason code, the clause per version."""

    name: str
    reason_code: str
    clauses: dict[OcppVersion, str]
    test: Callable[[_Ask], str | None]


def _both(clause16: str | None, clause2: str) -> dict[OcppVersion, str]:
    out = {V201: clause2, V21: clause2}
    if clause16 is not None:
        out[V16] = clause16
    return out


# --- the checks -----------------------------------------------------------------------------


def _evse(a: _Ask) -> str | None:
    # K01.FR.28 / 1.6 SetChargingProfile.req connectorId: the EVSE must exist.
    if a.evse_id != 0 and a.evse_id not in a.facts.evse_ids:
        return f"no EVSE {a.evse_id} (EVSEs: {list(a.facts.evse_ids)})"
    return None


def _external(a: _Ask) -> str | None:
    # K01.FR.22: ChargingStationExternalConstraints cannot be set with SetChargingProfile.
    if a.profile.purpose == Purpose.EXTERNAL_CONSTRAINTS:
        return "a CSMS cannot set ChargingStationExternalConstraints"
    return None


def _extra_purpose(a: _Ask) -> str | None:
    # 2.1 K01.FR.120: PriorityCharging/LocalGeneration only if SupportedAdditionalPurposes.
    p = a.profile.purpose
    if (
        p in (Purpose.PRIORITY_CHARGING, Purpose.LOCAL_GENERATION)
        and p not in a.facts.extra_purposes
    ):
        return f"{p} is not supported"
    return None


def _dynamic(a: _Ask) -> str | None:
    # 2.1 K01.FR.121: Dynamic profiles only if SupportsDynamicProfiles.
    if a.profile.kind == Kind.DYNAMIC and not a.facts.dynamic_profiles:
        return "Dynamic profiles are not supported"
    return None


def _dyn_fields(a: _Ask) -> str | None:
    # 2.1 K01.FR.122: dynUpdateInterval / dynUpdateTime belong to a Dynamic profile.
    p = a.profile
    if p.kind != Kind.DYNAMIC and (p.dyn_update_interval_s or p.dyn_update_time):
        return f"dynUpdate fields in a {p.kind} profile"
    return None


def _stack(a: _Ask) -> str | None:
    # stackLevel ≥ 0, at most ChargeProfileMaxStackLevel / SmartChargingCtrlr.ProfileStackLevel.
    level, top = a.profile.stack_level, a.facts.max_stack_level
    if level < 0:
        return f"stackLevel {level} below 0"
    if top is not None and level > top:
        return f"stackLevel {level} above the maximum {top}"
    return None


def _room(a: _Ask) -> str | None:
    # 1.6 MaxChargingProfilesInstalled: no room for one more.
    top = a.facts.max_profiles
    if top is not None and len(a.others) >= top:
        return f"already {len(a.others)} profiles, maximum {top}"
    return None


def _tx_id_only_tx(a: _Ask) -> str | None:
    # ChargingProfile(Type).transactionId: only with purpose TxProfile.
    if a.profile.transaction_id is not None and a.profile.purpose != Purpose.TX:
        return f"transactionId in a {a.profile.purpose}"
    return None


def _max_on_zero(a: _Ask) -> str | None:
    # 1.6 §3.13.1 / 2.x ChargingStationMaxProfile: only on connector/EVSE 0.
    if a.profile.purpose == Purpose.STATION_MAX and a.evse_id != 0:
        return f"station maximum on EVSE {a.evse_id}"
    return None


def _max_not_relative(a: _Ask) -> str | None:
    # K01.FR.38: a ChargingStationMaxProfile is not Relative (1.6 tool: likewise).
    if a.profile.purpose == Purpose.STATION_MAX and a.profile.kind == Kind.RELATIVE:
        return "Relative station maximum"
    return None


def _tx_not_zero(a: _Ask) -> str | None:
    # K01.FR.16 / 1.6 §3.13.1 (TC_058): TxProfile only on an EVSE > 0.
    if a.profile.purpose == Purpose.TX and a.evse_id == 0:
        return "TxProfile on EVSE 0"
    return None


def _tx_names_tx(a: _Ask) -> str | None:
    # K01.FR.03: a TxProfile carries a transactionId.
    if a.profile.purpose == Purpose.TX and a.profile.transaction_id is None:
        return "TxProfile without transactionId"
    return None


def _tx_running(a: _Ask) -> str | None:
    # K01.FR.09 / 1.6 §5.16 (TC_058_1): no transaction on the EVSE → refuse the TxProfile.
    if (
        a.profile.purpose == Purpose.TX
        and a.evse_id != 0
        and a.facts.transaction_on(a.evse_id) is None
    ):
        return f"no transaction on EVSE {a.evse_id}"
    return None


def _tx_same(a: _Ask) -> str | None:
    # K01.FR.33 / 1.6 TC_058_2: the transactionId is the one running on the EVSE.
    running = a.facts.transaction_on(a.evse_id)
    given = a.profile.transaction_id
    if a.profile.purpose == Purpose.TX and running is not None and given not in (None, running):
        return f"transactionId {given!r}, EVSE {a.evse_id} runs {running!r}"
    return None


def _tx_level_free(a: _Ask) -> str | None:
    # K01.FR.39: one TxProfile per stackLevel and transaction.
    p = a.profile
    if p.purpose != Purpose.TX:
        return None
    for o in a.others:
        q = o.profile
        if (
            q.purpose == Purpose.TX
            and q.stack_level == p.stack_level
            and q.transaction_id == p.transaction_id
        ):
            return f"TxProfile {q.profile_id} holds stackLevel {p.stack_level}"
    return None


def _overlapping(p: ChargingProfile, q: ChargingProfile) -> bool:
    def t(value: object, default: float) -> float:
        return default if value is None else value.timestamp()  # type: ignore[attr-defined]

    return t(p.valid_from, -1e18) < t(q.valid_to, 1e18) and t(q.valid_from, -1e18) < t(
        p.valid_to, 1e18
    )


def _level_unique(a: _Ask) -> str | None:
    # K01.FR.06: same purpose, stackLevel and EVSE with overlapping validity → refuse.
    p = a.profile
    if p.purpose == Purpose.TX:
        return None
    for o in a.others:
        q = o.profile
        same = o.evse_id == a.evse_id and q.purpose == p.purpose and q.stack_level == p.stack_level
        if same and _overlapping(p, q):
            return f"profile {q.profile_id} has this purpose and stackLevel"
    return None


def _default_zero_vs_evse(a: _Ask) -> str | None:
    # K01.FR.52/53: TxDefault stackLevel not shared between EVSE 0 and a specific EVSE.
    p = a.profile
    if p.purpose != Purpose.TX_DEFAULT:
        return None
    for o in a.others:
        q = o.profile
        if (
            q.purpose == Purpose.TX_DEFAULT
            and q.stack_level == p.stack_level
            and (a.evse_id == 0) != (o.evse_id == 0)
        ):
            return f"TxDefaultProfile {q.profile_id} on EVSE {o.evse_id} has this stackLevel"
    return None


def _unit(a: _Ask) -> str | None:
    # K01.FR.26 / 1.6 ChargingScheduleAllowedChargingRateUnit.
    for schedule in a.profile.schedules:
        if schedule.unit not in a.facts.units:
            return f"chargingRateUnit {schedule.unit} not supported"
    return None


def _period_count(a: _Ask) -> str | None:
    # 1.6 ChargingScheduleMaxPeriods / 2.x SmartChargingCtrlr.PeriodsPerSchedule.
    top = a.facts.max_periods
    for schedule in a.profile.schedules:
        if top is not None and len(schedule.periods) > top:
            return f"{len(schedule.periods)} periods, maximum {top}"
    return None


def _starts_at_zero(a: _Ask) -> str | None:
    # K01.FR.31 / 1.6 ChargingSchedule: the first startPeriod is 0.
    for schedule in a.profile.schedules:
        if schedule.periods and schedule.periods[0].start_period_s != 0:
            return f"first startPeriod {schedule.periods[0].start_period_s}"
    return None


def _increasing(a: _Ask) -> str | None:
    # K01.FR.35: startPeriod strictly increasing.
    for schedule in a.profile.schedules:
        for x, y in itertools.pairwise(p.start_period_s for p in schedule.periods):
            if y <= x:
                return f"startPeriod {y} after {x}"
    return None


def _has_start(a: _Ask) -> str | None:
    # K01.FR.40 / 1.6 ChargingSchedule.startSchedule: Absolute and Recurring need one.
    timed = a.profile.kind in (Kind.ABSOLUTE, Kind.RECURRING)
    if timed and any(s.start_schedule is None for s in a.profile.schedules):
        return f"{a.profile.kind} without startSchedule"
    return None


def _no_start(a: _Ask) -> str | None:
    # K01.FR.41: Relative has no startSchedule.
    if a.profile.kind == Kind.RELATIVE and any(
        s.start_schedule is not None for s in a.profile.schedules
    ):
        return "Relative with startSchedule"
    return None


def _recurrency(a: _Ask) -> str | None:
    # ChargingProfile.recurrencyKind: a Recurring profile says Daily or Weekly.
    if a.profile.kind == Kind.RECURRING and a.profile.recurrency is None:
        return "Recurring without recurrencyKind"
    return None


def _phases(a: _Ask) -> str | None:
    # K01.FR.45 / 1.6 numberPhases: 1 … the phases the station is supplied with.
    for where, period in a.periods():
        n = period.number_phases
        if n is not None and not 1 <= n <= a.facts.supply_phases:
            return f"{where}: numberPhases {n} outside 1..{a.facts.supply_phases}"
    return None


def _phase_to_use(a: _Ask) -> str | None:
    # K01.FR.19: phaseToUse only with numberPhases 1.
    for where, period in a.periods():
        if period.phase_to_use is not None and period.number_phases != 1:
            return f"{where}: phaseToUse without numberPhases 1"
    return None


def _phase_switching(a: _Ask) -> str | None:
    # K01.FR.20: phaseToUse only if ACPhaseSwitchingSupported.
    for where, period in a.periods():
        if period.phase_to_use is not None and not a.facts.phase_switching:
            return f"{where}: phaseToUse without phase switching"
    return None


def _dc(a: _Ask) -> str | None:
    # K01.FR.44: no numberPhases/phaseToUse on a DC EVSE.
    if a.evse_id in a.facts.dc_evse_ids:
        for where, period in a.periods():
            if period.number_phases is not None or period.phase_to_use is not None:
                return f"{where}: phases on a DC EVSE"
    return None


def _limit_sign(a: _Ask) -> str | None:
    # 1.6 / 2.0.1 limit: a rate, not negative.
    for where, period in a.periods():
        if period.limit is not None and period.limit < 0:
            return f"{where}: limit {period.limit} below 0"
    return None


def _priority_endless(a: _Ask) -> str | None:
    # 2.1 K01.FR.70: a PriorityCharging schedule has no duration.
    priority = a.profile.purpose == Purpose.PRIORITY_CHARGING
    if priority and any(s.duration_s is not None for s in a.profile.schedules):
        return "PriorityCharging with a duration"
    return None


def _priority_mode(a: _Ask) -> str | None:
    # 2.1 K01.FR.71: PriorityCharging periods are ChargingOnly.
    if a.profile.purpose == Purpose.PRIORITY_CHARGING:
        for where, period in a.periods():
            if period.operation_mode not in (None, OperationMode.CHARGING_ONLY):
                return f"{where}: PriorityCharging in {period.operation_mode}"
    return None


def _delay(a: _Ask) -> str | None:
    # 2.1 K01.FR.95: randomizedDelay only in TxProfile / TxDefaultProfile.
    tx_like = a.profile.purpose in (Purpose.TX, Purpose.TX_DEFAULT)
    if not tx_like and any((s.randomized_delay_s or 0) > 0 for s in a.profile.schedules):
        return f"randomizedDelay in a {a.profile.purpose}"
    return None


_CAPS = (Purpose.STATION_MAX, Purpose.EXTERNAL_CONSTRAINTS, Purpose.LOCAL_GENERATION)


def _cap_mode(a: _Ask) -> str | None:
    # 2.1 operationMode: a cap is a limit only — ChargingOnly, no setpoint.
    if a.profile.purpose in _CAPS:
        for where, period in a.periods():
            if period.operation_mode not in (None, OperationMode.CHARGING_ONLY):
                return f"{where}: {period.operation_mode} in a {a.profile.purpose}"
            if period.setpoint is not None:
                return f"{where}: setpoint in a {a.profile.purpose}"
    return None


_NEEDS_LIMIT = (OperationMode.CHARGING_ONLY, OperationMode.CENTRAL_FREQUENCY, OperationMode.IDLE)


def _mode_fields(a: _Ask) -> str | None:
    # 2.1 ChargingSchedulePeriodType: limit required except in the setpoint/limit modes;
    # CentralSetpoint needs a setpoint; ChargingOnly and Idle take none.
    for where, period in a.periods():
        mode = period.operation_mode or OperationMode.CHARGING_ONLY
        if mode in _NEEDS_LIMIT and period.limit is None:
            return f"{where} ({mode}): no limit"
        if mode == OperationMode.CENTRAL_SETPOINT and period.setpoint is None:
            return f"{where} ({mode}): no setpoint"
        if (
            mode in (OperationMode.CHARGING_ONLY, OperationMode.IDLE)
            and period.setpoint is not None
        ):
            return f"{where} ({mode}): a setpoint"
    return None


def _discharge_sign(a: _Ask) -> str | None:
    # 2.1 dischargeLimit(_L2/_L3) ≤ 0.
    for where, period in a.periods():
        for value in (period.discharge_limit, period.discharge_limit_l2, period.discharge_limit_l3):
            if value is not None and value > 0:
                return f"{where}: dischargeLimit {value} above 0"
    return None


def _frequency_curve(a: _Ask) -> str | None:
    # 2.1 LocalFrequency: a v2xFreqWattCurve of ≥ 2 points, frequencies increasing.
    for where, period in a.periods():
        if period.operation_mode == OperationMode.LOCAL_FREQUENCY:
            curve = period.freq_watt_curve
            if len(curve) < 2:
                return f"{where}: LocalFrequency without a curve"
            if any(y <= x for (x, _), (y, _) in itertools.pairwise(curve)):
                return f"{where}: curve frequencies not increasing"
    return None


def _c(
    name: str, reason: str, clauses: dict[OcppVersion, str], test: Callable[[_Ask], str | None]
) -> Check:
    return Check(name, reason, clauses, test)


_16_TX_ID = "1.6 ChargingProfile.transactionId"
_16_UNITS = "1.6 ChargingScheduleAllowedChargingRateUnit"
_16_PERIODS = "1.6 ChargingScheduleMaxPeriods"
_2_PERIODS = "SmartChargingCtrlr.PeriodsPerSchedule"
_16_START = "1.6 ChargingSchedule.startSchedule"

CHECKS: tuple[Check, ...] = (
    _c("evse", "InvalidValue", _both("1.6 §5.16 connectorId", "K01.FR.28"), _evse),
    _c("external-by-csms", "InvalidValue", _both(None, "K01.FR.22"), _external),
    _c("extra-purpose", "UnsupportedPurpose", {V21: "K01.FR.120"}, _extra_purpose),
    _c("dynamic", "UnsupportedKind", {V21: "K01.FR.121"}, _dynamic),
    _c("dyn-fields", "InvalidProfile", {V21: "K01.FR.122"}, _dyn_fields),
    _c("stack-level", "InvalidStackLevel",
       _both("1.6 ChargeProfileMaxStackLevel", "SmartChargingCtrlr.ProfileStackLevel"), _stack),
    _c("room", "", {V16: "1.6 MaxChargingProfilesInstalled"}, _room),
    _c("tx-id-only-tx", "InvalidValue",
       _both(_16_TX_ID, "ChargingProfileType.transactionId"), _tx_id_only_tx),
    _c("max-on-zero", "InvalidValue",
       _both("1.6 §3.13.1", "ChargingProfilePurposeEnumType"), _max_on_zero),
    _c("max-not-relative", "InvalidValue", _both("1.6 §3.13.1 (as K01.FR.38)", "K01.FR.38"),
       _max_not_relative),
    _c("tx-not-zero", "InvalidValue", _both("1.6 §3.13.1, TC_058_1", "K01.FR.16"), _tx_not_zero),
    _c("tx-names-tx", "MissingParam", _both(None, "K01.FR.03"), _tx_names_tx),
    _c("tx-running", "TxNotFound", _both("1.6 §5.16, TC_058_1", "K01.FR.09"), _tx_running),
    _c("tx-same", "TxNotFound", _both("1.6 §5.16, TC_058_2", "K01.FR.33"), _tx_same),
    _c("tx-level-free", "InvalidStackLevel", _both(None, "K01.FR.39"), _tx_level_free),
    _c("level-unique", "DuplicateProfile", _both(None, "K01.FR.06"), _level_unique),
    _c("default-zero-vs-evse", "DuplicateProfile", _both(None, "K01.FR.52/53"),
       _default_zero_vs_evse),
    _c("unit", "UnsupportedRateUnit", _both(_16_UNITS, "K01.FR.26"), _unit),
    _c("period-count", "InvalidSchedule", _both(_16_PERIODS, _2_PERIODS), _period_count),
    _c("starts-at-zero", "InvalidSchedule", _both("1.6 ChargingSchedule", "K01.FR.31"),
       _starts_at_zero),
    _c("increasing", "InvalidSchedule", _both("1.6 ChargingSchedule", "K01.FR.35"), _increasing),
    _c("has-start", "InvalidSchedule", _both(_16_START, "K01.FR.40"), _has_start),
    _c("no-start", "InvalidSchedule", _both(None, "K01.FR.41"), _no_start),
    _c("recurrency", "InvalidValue", _both("1.6 recurrencyKind", "recurrencyKind"), _recurrency),
    _c("phases", "InvalidSchedule", _both("1.6 numberPhases", "K01.FR.45"), _phases),
    _c("phase-to-use", "InvalidSchedule", _both(None, "K01.FR.19"), _phase_to_use),
    _c("phase-switching", "InvalidSchedule", _both(None, "K01.FR.20"), _phase_switching),
    _c("dc", "InvalidSchedule", _both(None, "K01.FR.44"), _dc),
    _c("limit-sign", "InvalidSchedule",
       {V16: "1.6 limit", V201: "ChargingSchedulePeriodType.limit"}, _limit_sign),
    _c("priority-endless", "InvalidSchedule", {V21: "K01.FR.70"}, _priority_endless),
    _c("priority-mode", "InvalidSchedule", {V21: "K01.FR.71"}, _priority_mode),
    _c("delay", "InvalidSchedule", {V21: "K01.FR.95"}, _delay),
    _c("cap-mode", "InvalidSchedule", {V21: "2.1 operationMode"}, _cap_mode),
    _c("mode-fields", "InvalidSchedule", {V21: "2.1 ChargingSchedulePeriodType"}, _mode_fields),
    _c("discharge-sign", "InvalidSchedule", {V21: "2.1 dischargeLimit"}, _discharge_sign),
    _c("frequency-curve", "InvalidSchedule", {V21: "2.1 LocalFrequency"}, _frequency_curve),
)  # fmt: skip
"""Every check, in the order the station runs them."""

MODE_CHECKS = frozenset({"cap-mode", "mode-fields"})
"""The 2.1 operation-mode checks (the ``accepts_invalid_v2x_profile`` fault skips them)."""

_LOCAL_OK = frozenset({"external-by-csms"})


def broken(
    profile: ChargingProfile,
    *,
    evse_id: int,
    version: OcppVersion,
    facts: Facts,
    installed: Sequence[Placed] = (),
    from_csms: bool = True,
) -> tuple[Rejected, ...]:
    """Every check ``profile`` (for ``evse_id``) breaks in ``version``, in order.

    ``from_csms=False``: set locally (an EMS's external constraints), which K01.FR.22 allows."""
    ask = _Ask(
        profile,
        evse_id,
        facts,
        tuple(p for p in installed if p.profile.profile_id != profile.profile_id),
    )
    out = []
    for check in CHECKS:
        clause = check.clauses.get(version)
        if clause is None or (not from_csms and check.name in _LOCAL_OK):
            continue
        detail = check.test(ask)
        if detail is not None:
            out.append(Rejected(check.name, clause, check.reason_code, detail))
    return tuple(out)


def first_broken(
    profile: ChargingProfile,
    *,
    evse_id: int,
    version: OcppVersion,
    facts: Facts,
    installed: Sequence[Placed] = (),
    from_csms: bool = True,
) -> Rejected | None:
    """The first check broken (``None``: the station accepts ``profile``)."""
    found = broken(
        profile,
        evse_id=evse_id,
        version=version,
        facts=facts,
        installed=installed,
        from_csms=from_csms,
    )
    return found[0] if found else None
