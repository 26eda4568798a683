"""Validation: every rule that makes a station reject a charging profile.

:data:`RULES` is the table (checked in order; the first broken rule is the answer). Each
rule names the requirement per OCPP version it applies to and, for 2.x, the
``statusInfo.reasonCode`` a station answers with. 1.6 has no requirement IDs, so its rules
cite the section of the 1.6 specification (or the OCA test case) instead; 1.6 answers carry
no reason code. Station state (EVSEs, transactions, configured maxima, supported units...)
comes in as an explicit :class:`~harness.smartcharging.model.StationContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.smartcharging import checks as c
from harness.smartcharging.checks import RuleInput
from harness.smartcharging.composite import InstalledProfile
from harness.smartcharging.model import ChargingProfile, StationContext
from harness.versions import OcppVersion

__all__ = ["RULES", "Rejected", "Rule", "RuleInput", "validate_profile", "violations"]

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


@dataclass(frozen=True, slots=True)
class Rule:
    """One reason to reject a profile."""

    rule_id: str
    """Stable short name, e.g. ``tx-needs-transaction``."""
    summary: str
    reason_code: str
    """2.x statusInfo.reasonCode (1.6 answers only Rejected)."""
    requirements: tuple[tuple[OcppVersion, str], ...]
    check: Callable[[RuleInput], str | None]
    """Returns what is wrong, or ``None`` when the rule holds."""

    def requirement(self, version: OcppVersion) -> str | None:
        """The requirement this rule enforces in ``version`` (``None``: not a rule there)."""
        return next((req for ver, req in self.requirements if ver is version), None)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A profile a conforming station must reject, and why."""

    rule: Rule
    requirement: str
    detail: str

    @property
    def reason_code(self) -> str:
        return self.rule.reason_code

    def describe(self) -> str:
        return f"{self.requirement} ({self.rule.rule_id}): {self.detail}"


def _r(
    rule_id: str,
    summary: str,
    reason: str,
    reqs: Sequence[tuple[OcppVersion, str]],
    check: Callable[[RuleInput], str | None],
) -> Rule:
    return Rule(rule_id, summary, reason, tuple(reqs), check)


def _all(req16: str | None, req2: str) -> list[tuple[OcppVersion, str]]:
    out = [(V201, req2), (V21, req2)]
    return ([(V16, req16)] if req16 else []) + out


RULES: tuple[Rule, ...] = (
    _r("evse-exists", "the EVSE exists", "InvalidValue",
       _all("1.6 §5.16 SetChargingProfile.connectorId", "K01.FR.28"), c.evse_exists),
    _r("external-constraints-not-settable", "no ExternalConstraints via SetChargingProfile",
       "InvalidValue", _all(None, "K01.FR.22"), c.external_not_settable),
    _r("additional-purpose-supported", "PriorityCharging/LocalGeneration supported",
       "UnsupportedPurpose", [(V21, "K01.FR.120")], c.additional_purpose),
    _r("dynamic-supported", "Dynamic kind supported", "UnsupportedKind",
       [(V21, "K01.FR.121")], c.dynamic_supported),
    _r("dyn-update-only-dynamic", "dynUpdate* only in Dynamic profiles", "InvalidProfile",
       [(V21, "K01.FR.122")], c.dyn_fields_only_dynamic),
    _r("stack-level-range", "0 ≤ stackLevel ≤ configured maximum", "InvalidStackLevel",
       _all("1.6 ChargingProfile.stackLevel, key ChargeProfileMaxStackLevel",
            "ChargingProfileType.stackLevel, SmartChargingCtrlr.ProfileStackLevel"),
       c.stack_level_range),
    _r("max-profiles-installed", "room for another profile", "",
       [(V16, "1.6 key MaxChargingProfilesInstalled")], c.too_many_profiles),
    _r("transaction-id-only-tx", "transactionId only in a TxProfile", "InvalidValue",
       _all("1.6 ChargingProfile.transactionId", "ChargingProfileType.transactionId"),
       c.transaction_id_only_tx),
    _r("station-max-on-evse-0", "station maximum only on EVSE 0", "InvalidValue",
       _all("1.6 §3.13.1 ChargePointMaxProfile", "ChargingProfilePurposeEnumType"),
       c.station_max_on_zero),
    _r("station-max-not-relative", "station maximum not Relative", "InvalidValue",
       _all("1.6 §3.13.1 (as K01.FR.38)", "K01.FR.38"), c.station_max_not_relative),
    _r("tx-on-evse", "TxProfile only on an EVSE > 0", "InvalidValue",
       _all("1.6 §3.13.1 TxProfile, TC_058_1", "K01.FR.16"), c.tx_on_evse),
    _r("tx-has-transaction-id", "TxProfile carries transactionId", "MissingParam",
       _all(None, "K01.FR.03"), c.tx_has_transaction_id),
    _r("tx-needs-transaction", "TxProfile needs a running transaction", "TxNotFound",
       _all("1.6 §5.16, TC_058_1", "K01.FR.09"), c.tx_needs_transaction),
    _r("tx-matches-transaction", "TxProfile for the running transaction", "TxNotFound",
       _all("1.6 §5.16, TC_058_2", "K01.FR.33"), c.tx_matches_transaction),
    _r("tx-stack-level-free", "one TxProfile per stackLevel and transaction",
       "InvalidStackLevel", _all(None, "K01.FR.39"), c.tx_stack_level_free),
    _r("unique-stack-level", "one profile per purpose, stackLevel and EVSE at a time",
       "DuplicateProfile", _all(None, "K01.FR.06"), c.unique_stack_level),
    _r("tx-default-stack-level-0-vs-evse", "TxDefault stackLevel not on both 0 and an EVSE",
       "DuplicateProfile", _all(None, "K01.FR.52/K01.FR.53"), c.tx_default_zero_vs_evse),
    _r("unit-supported", "chargingRateUnit supported", "UnsupportedRateUnit",
       _all("1.6 key ChargingScheduleAllowedChargingRateUnit", "K01.FR.26"), c.unit_supported),
    _r("period-count", "periods within configured maximum", "InvalidSchedule",
       _all("1.6 key ChargingScheduleMaxPeriods", "SmartChargingCtrlr.PeriodsPerSchedule"),
       c.period_count),
    _r("first-period-zero", "first startPeriod is 0", "InvalidSchedule",
       _all("1.6 ChargingSchedule.chargingSchedulePeriod", "K01.FR.31"), c.first_period_zero),
    _r("periods-increasing", "startPeriod strictly increasing", "InvalidSchedule",
       _all("1.6 ChargingSchedule.chargingSchedulePeriod", "K01.FR.35"), c.periods_increasing),
    _r("start-schedule-present", "Absolute/Recurring have startSchedule", "InvalidSchedule",
       _all("1.6 ChargingSchedule.startSchedule", "K01.FR.40"), c.start_schedule_present),
    _r("start-schedule-absent", "Relative has no startSchedule", "InvalidSchedule",
       _all(None, "K01.FR.41"), c.start_schedule_absent),
    _r("recurrency-kind", "Recurring has recurrencyKind", "InvalidValue",
       _all("1.6 ChargingProfile.recurrencyKind", "ChargingProfileType.recurrencyKind"),
       c.recurrency_kind),
    _r("number-phases", "1 ≤ numberPhases ≤ supply phases", "InvalidSchedule",
       _all("1.6 ChargingSchedulePeriod.numberPhases", "K01.FR.45"), c.number_phases),
    _r("phase-to-use-single-phase", "phaseToUse only with numberPhases 1", "InvalidSchedule",
       _all(None, "K01.FR.19"), c.phase_to_use_single),
    _r("phase-to-use-switching", "phaseToUse only with AC phase switching", "InvalidSchedule",
       _all(None, "K01.FR.20"), c.phase_to_use_switching),
    _r("no-phases-on-dc", "no phase values on a DC EVSE", "InvalidSchedule",
       _all(None, "K01.FR.44"), c.no_phases_on_dc),
    _r("limit-not-negative", "limit ≥ 0", "InvalidSchedule",
       [(V16, "1.6 ChargingSchedulePeriod.limit"), (V201, "ChargingSchedulePeriodType.limit")],
       c.limit_not_negative),
    _r("priority-no-duration", "PriorityCharging has no duration", "InvalidSchedule",
       [(V21, "K01.FR.70")], c.priority_no_duration),
    _r("priority-charging-only", "PriorityCharging is ChargingOnly", "InvalidSchedule",
       [(V21, "K01.FR.71")], c.priority_charging_only),
    _r("randomized-delay-tx-only", "randomizedDelay only in Tx/TxDefault", "InvalidSchedule",
       [(V21, "K01.FR.95")], c.randomized_delay_tx_only),
    _r("mode-for-purpose", "caps use ChargingOnly without setpoint", "InvalidSchedule",
       [(V21, "2.1 ChargingSchedulePeriodType.operationMode")], c.mode_for_purpose),
    _r("mode-fields", "fields required/forbidden by operationMode", "InvalidSchedule",
       [(V21, "2.1 ChargingSchedulePeriodType.limit/setpoint")], c.mode_fields),
    _r("discharge-limit-not-positive", "dischargeLimit ≤ 0", "InvalidSchedule",
       [(V21, "2.1 ChargingSchedulePeriodType.dischargeLimit")], c.discharge_not_positive),
    _r("local-frequency-curve", "LocalFrequency has an increasing freq-watt curve",
       "InvalidSchedule", [(V21, "2.1 operationMode LocalFrequency, v2xFreqWattCurve")],
       c.local_frequency_curve),
)  # fmt: skip


_CSMS_ONLY = frozenset({"external-constraints-not-settable"})


def violations(
    profile: ChargingProfile,
    *,
    evse_id: int,
    version: OcppVersion,
    context: StationContext,
    installed: Sequence[InstalledProfile] = (),
    from_csms: bool = True,
) -> tuple[Rejected, ...]:
    """Every rule of :data:`RULES` that ``profile`` (sent for ``evse_id``) breaks in
    ``version``, in table order; empty when a conforming station must accept it.

    A station may check its rules in another order, so when several are broken a judge
    should accept the reason code of any of them.
    """
    inp = RuleInput(profile, evse_id, version, context, tuple(installed))
    out: list[Rejected] = []
    for rule in RULES:
        requirement = rule.requirement(version)
        if requirement is None or (not from_csms and rule.rule_id in _CSMS_ONLY):
            continue
        detail = rule.check(inp)
        if detail is not None:
            out.append(Rejected(rule=rule, requirement=requirement, detail=detail))
    return tuple(out)


def validate_profile(
    profile: ChargingProfile,
    *,
    evse_id: int,
    version: OcppVersion,
    context: StationContext,
    installed: Sequence[InstalledProfile] = (),
    from_csms: bool = True,
) -> Rejected | None:
    """The first rule of :data:`RULES` that ``profile`` (sent for ``evse_id``) breaks in
    ``version``, or ``None`` when a conforming station must accept it.

    ``from_csms=False`` validates a profile set locally (an energy management system's
    ChargingStationExternalConstraints), which K01.FR.22 does not forbid.
    """
    found = violations(
        profile,
        evse_id=evse_id,
        version=version,
        context=context,
        installed=installed,
        from_csms=from_csms,
    )
    return found[0] if found else None
