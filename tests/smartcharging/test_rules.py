"""Every validation rule: one case that triggers it and one that just passes it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from harness.smartcharging import (
    RULES,
    ChargingProfile,
    InstalledProfile,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    Recurrency,
    StationContext,
    Transaction,
    validate_profile,
    violations,
)
from harness.versions import OcppVersion
from tests.smartcharging.helpers import T0, at, profile

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
TX = Transaction("tx-1", at(-60))
CTX = StationContext(evse_ids=(1, 2), transactions=((1, TX),))
MAX = Purpose.STATION_MAX
TXP = Purpose.TX
DEF = Purpose.TX_DEFAULT


@dataclass(frozen=True)
class Case:
    profile: ChargingProfile
    evse_id: int = 1
    context: StationContext = CTX
    installed: tuple[InstalledProfile, ...] = field(default_factory=tuple)


def default(**kw: object) -> ChargingProfile:
    return profile(1, DEF, [(0, 16)], **kw)  # type: ignore[arg-type]


def with_period(p: ChargingProfile, **kw: object) -> ChargingProfile:
    s = p.schedule
    periods = tuple(replace(x, **kw) for x in s.periods)  # type: ignore[arg-type]
    return replace(p, schedules=(replace(s, periods=periods),))


def with_schedule(p: ChargingProfile, **kw: object) -> ChargingProfile:
    return replace(p, schedules=(replace(p.schedule, **kw),))  # type: ignore[arg-type]


def tx(**kw: object) -> ChargingProfile:
    return profile(5, TXP, [(0, 10)], transaction_id="tx-1", **kw)  # type: ignore[arg-type]


def v21(mode: OperationMode, **kw: object) -> ChargingProfile:
    return with_period(default(), operation_mode=mode, **kw)


D = Decimal
other_default = InstalledProfile(1, profile(9, DEF, [(0, 8)]))
other_default_0 = InstalledProfile(0, profile(9, DEF, [(0, 8)]))
other_tx = InstalledProfile(1, profile(9, TXP, [(0, 8)], transaction_id="tx-1"))
freq_curve = ((D(49), D(1000)), (D(51), D(-1000)))

# rule id -> versions -> (failing case, passing case)
TABLE: list[tuple[str, tuple[OcppVersion, ...], Case, Case]] = [
    ("evse-exists", (V16, V201, V21), Case(default(), evse_id=3), Case(default(), evse_id=2)),
    ("external-constraints-not-settable", (V201, V21),
     Case(profile(1, Purpose.EXTERNAL_CONSTRAINTS, [(0, 16)])), Case(default())),
    ("additional-purpose-supported", (V21,),
     Case(profile(1, Purpose.PRIORITY_CHARGING, [(0, 16)], start=None, kind=Kind.RELATIVE)),
     Case(profile(1, Purpose.PRIORITY_CHARGING, [(0, 16)], start=None, kind=Kind.RELATIVE),
          context=replace(CTX, supported_additional_purposes=frozenset({
              Purpose.PRIORITY_CHARGING})))),
    ("dynamic-supported", (V21,), Case(default(kind=Kind.DYNAMIC)),
     Case(default(kind=Kind.DYNAMIC), context=replace(CTX, supports_dynamic_profiles=True))),
    ("dyn-update-only-dynamic", (V21,), Case(replace(default(), dyn_update_interval_s=60)),
     Case(replace(default(), dyn_update_interval_s=0))),
    ("stack-level-range", (V16, V201, V21),
     Case(default(stack=5), context=replace(CTX, max_stack_level=4)),
     Case(default(stack=4), context=replace(CTX, max_stack_level=4))),
    ("max-profiles-installed", (V16,),
     Case(default(), context=replace(CTX, max_profiles=1), installed=(
         InstalledProfile(2, profile(7, DEF, [(0, 8)], stack=3)),)),
     Case(default(), context=replace(CTX, max_profiles=1), installed=(
         InstalledProfile(1, profile(1, DEF, [(0, 8)])),))),
    ("transaction-id-only-tx", (V16, V201, V21), Case(default(transaction_id="tx-1")),
     Case(default())),
    ("station-max-on-evse-0", (V16, V201, V21), Case(profile(1, MAX, [(0, 32)]), evse_id=1),
     Case(profile(1, MAX, [(0, 32)]), evse_id=0)),
    ("station-max-not-relative", (V16, V201, V21),
     Case(profile(1, MAX, [(0, 32)], kind=Kind.RELATIVE, start=None), evse_id=0),
     Case(profile(1, MAX, [(0, 32)], kind=Kind.ABSOLUTE), evse_id=0)),
    ("tx-on-evse", (V16, V201, V21), Case(tx(), evse_id=0), Case(tx(), evse_id=1)),
    ("tx-has-transaction-id", (V201, V21), Case(replace(tx(), transaction_id=None)),
     Case(tx())),
    ("tx-needs-transaction", (V16, V201, V21), Case(tx(), evse_id=2), Case(tx(), evse_id=1)),
    ("tx-matches-transaction", (V16, V201, V21), Case(replace(tx(), transaction_id="tx-9")),
     Case(tx())),
    ("tx-stack-level-free", (V201, V21), Case(tx(), installed=(other_tx,)),
     Case(tx(stack=1), installed=(other_tx,))),
    ("unique-stack-level", (V201, V21), Case(default(), installed=(other_default,)),
     Case(default(valid_from=at(3600)), installed=(
         InstalledProfile(1, profile(9, DEF, [(0, 8)], valid_to=at(3600))),))),
    ("tx-default-stack-level-0-vs-evse", (V201, V21),
     Case(default(), installed=(other_default_0,)),
     Case(default(stack=1), installed=(other_default_0,))),
    ("unit-supported", (V16, V201, V21),
     Case(default(unit=RateUnit.W), context=replace(CTX, supported_units=frozenset({RateUnit.A}))),
     Case(default(unit=RateUnit.A), context=replace(CTX, supported_units=frozenset({RateUnit.A})))),
    ("period-count", (V16, V201, V21),
     Case(profile(1, DEF, [(0, 8), (60, 9)]), context=replace(CTX, max_periods=1)),
     Case(profile(1, DEF, [(0, 8)]), context=replace(CTX, max_periods=1))),
    ("first-period-zero", (V16, V201, V21), Case(profile(1, DEF, [(1, 8)])),
     Case(profile(1, DEF, [(0, 8)]))),
    ("periods-increasing", (V16, V201, V21), Case(profile(1, DEF, [(0, 8), (60, 9), (60, 7)])),
     Case(profile(1, DEF, [(0, 8), (60, 9), (61, 7)]))),
    ("start-schedule-present", (V16, V201, V21), Case(default(start=None)),
     Case(default(start=T0))),
    ("start-schedule-absent", (V201, V21), Case(default(kind=Kind.RELATIVE, start=T0)),
     Case(default(kind=Kind.RELATIVE, start=None))),
    ("recurrency-kind", (V16, V201, V21), Case(default(kind=Kind.RECURRING)),
     Case(default(kind=Kind.RECURRING, recurrency=Recurrency.DAILY))),
    ("number-phases", (V16, V201, V21),
     Case(default(phases=3), context=replace(CTX, supply_phases=1)),
     Case(default(phases=1), context=replace(CTX, supply_phases=1))),
    ("phase-to-use-single-phase", (V201, V21),
     Case(with_period(default(phases=3), phase_to_use=2),
          context=replace(CTX, phase_switching_supported=True)),
     Case(with_period(default(phases=1), phase_to_use=2),
          context=replace(CTX, phase_switching_supported=True))),
    ("phase-to-use-switching", (V201, V21), Case(with_period(default(phases=1), phase_to_use=2)),
     Case(with_period(default(phases=1), phase_to_use=None))),
    ("no-phases-on-dc", (V201, V21),
     Case(default(phases=3), context=replace(CTX, dc_evse_ids=frozenset({1}))),
     Case(default(), context=replace(CTX, dc_evse_ids=frozenset({1})))),
    ("limit-not-negative", (V16, V201), Case(profile(1, DEF, [(0, -1)])),
     Case(profile(1, DEF, [(0, 0)]))),
    ("priority-no-duration", (V21,),
     Case(profile(1, Purpose.PRIORITY_CHARGING, [(0, 16)], duration=60),
          context=replace(CTX, supported_additional_purposes=frozenset({
              Purpose.PRIORITY_CHARGING}))),
     Case(profile(1, Purpose.PRIORITY_CHARGING, [(0, 16)]),
          context=replace(CTX, supported_additional_purposes=frozenset({
              Purpose.PRIORITY_CHARGING})))),
    ("priority-charging-only", (V21,),
     Case(with_period(profile(1, Purpose.PRIORITY_CHARGING, [(0, 16)]),
                      operation_mode=OperationMode.EXTERNAL_LIMITS),
          context=replace(CTX, supported_additional_purposes=frozenset({
              Purpose.PRIORITY_CHARGING}))),
     Case(with_period(profile(1, Purpose.PRIORITY_CHARGING, [(0, 16)]),
                      operation_mode=OperationMode.CHARGING_ONLY),
          context=replace(CTX, supported_additional_purposes=frozenset({
              Purpose.PRIORITY_CHARGING})))),
    ("randomized-delay-tx-only", (V21,),
     Case(with_schedule(profile(1, MAX, [(0, 32)]), randomized_delay_s=30), evse_id=0),
     Case(with_schedule(default(), randomized_delay_s=30))),
    ("mode-for-purpose", (V21,),
     Case(with_period(profile(1, MAX, [(0, 32)]), operation_mode=OperationMode.EXTERNAL_LIMITS),
          evse_id=0),
     Case(with_period(profile(1, MAX, [(0, 32)]), operation_mode=OperationMode.CHARGING_ONLY,
                      discharge_limit=D(-10)), evse_id=0)),
    ("mode-fields", (V21,),
     Case(v21(OperationMode.CENTRAL_SETPOINT)),
     Case(v21(OperationMode.CENTRAL_SETPOINT, setpoint=D(-5), discharge_limit=D(-10)))),
    ("discharge-limit-not-positive", (V21,),
     Case(v21(OperationMode.EXTERNAL_LIMITS, discharge_limit=D(5))),
     Case(v21(OperationMode.EXTERNAL_LIMITS, discharge_limit=D(0)))),
    ("local-frequency-curve", (V21,),
     Case(v21(OperationMode.LOCAL_FREQUENCY, freq_watt_curve=freq_curve[:1])),
     Case(v21(OperationMode.LOCAL_FREQUENCY, freq_watt_curve=freq_curve))),
]  # fmt: skip

PARAMS = [
    pytest.param(rule_id, version, bad, good, id=f"{rule_id}-{version}")
    for rule_id, versions, bad, good in TABLE
    for version in versions
]


@pytest.mark.parametrize(("rule_id", "version", "bad", "good"), PARAMS)
def test_rule_triggers_and_passes(
    rule_id: str, version: OcppVersion, bad: Case, good: Case
) -> None:
    rejected = validate_profile(
        bad.profile,
        evse_id=bad.evse_id,
        version=version,
        context=bad.context,
        installed=bad.installed,
    )
    assert rejected is not None, f"{rule_id} should reject"
    assert rejected.rule.rule_id == rule_id, rejected.describe()
    assert rejected.requirement == rejected.rule.requirement(version)
    accepted = validate_profile(
        good.profile,
        evse_id=good.evse_id,
        version=version,
        context=good.context,
        installed=good.installed,
    )
    assert accepted is None, accepted.describe()


def test_every_rule_of_every_version_is_in_the_table() -> None:
    table = {(rule_id, v) for rule_id, versions, _, _ in TABLE for v in versions}
    rules = {(r.rule_id, v) for r in RULES for v in OcppVersion if r.requirement(v)}
    assert rules == table


def test_reason_codes_are_2x_status_info_codes() -> None:
    for rule in RULES:
        if rule.requirement(V201) or rule.requirement(V21):
            assert rule.reason_code, rule.rule_id
            assert len(rule.reason_code) <= 20  # StatusInfoType.reasonCode maxLength


def test_rule_not_in_a_version_does_not_reject_there() -> None:
    """1.6 accepts a TxProfile with the same stack level (it replaces instead, K01.FR.39 is 2.x)."""
    assert (
        validate_profile(tx(), evse_id=1, version=V16, context=CTX, installed=(other_tx,)) is None
    )
    assert validate_profile(tx(), evse_id=1, version=V201, context=CTX, installed=(other_tx,))


def test_violations_lists_every_broken_rule_in_table_order() -> None:
    bad = profile(1, TXP, [(5, -1)], transaction_id="tx-9", start=None)
    found = violations(bad, evse_id=1, version=V201, context=CTX)
    assert [v.requirement for v in found] == ["K01.FR.33", "K01.FR.31", "K01.FR.40",
                                              "ChargingSchedulePeriodType.limit"]  # fmt: skip
    assert validate_profile(bad, evse_id=1, version=V201, context=CTX) == found[0]
    assert violations(tx(), evse_id=1, version=V201, context=CTX) == ()
