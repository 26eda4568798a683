"""ProfileStore: install/replace/clear as a station would, and the limit at an instant."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from harness.smartcharging import (
    Accepted,
    ClearCriteria,
    OperationMode,
    ProfileStore,
    Purpose,
    RateUnit,
    Rejected,
    StationContext,
    Transaction,
    parse_set_charging_profile,
)
from harness.versions import OcppVersion
from tests.smartcharging.helpers import T0, at, oca_tc066_16, profile

D = Decimal
TX = Transaction("7", at(-60))
CTX = StationContext(evse_ids=(1, 2), transactions=((1, TX),))


def tc066_store() -> ProfileStore:
    store = ProfileStore(OcppVersion.V16)
    for payload in oca_tc066_16():
        evse, p = parse_set_charging_profile(payload, version=OcppVersion.V16)
        assert isinstance(store.install(evse, p, CTX), Accepted)
    return store


def test_rejected_profile_is_not_installed_and_says_why() -> None:
    store = ProfileStore(OcppVersion.V201)
    outcome = store.install(2, profile(1, Purpose.TX, [(0, 8)], transaction_id="7"), CTX)
    assert isinstance(outcome, Rejected)
    assert (outcome.requirement, outcome.reason_code) == ("K01.FR.09", "TxNotFound")
    assert store.installed == ()


def test_same_id_replaces() -> None:
    store = ProfileStore(OcppVersion.V201)
    store.install(1, profile(1, Purpose.TX_DEFAULT, [(0, 8)]), CTX)
    outcome = store.install(2, profile(1, Purpose.TX_DEFAULT, [(0, 9)], stack=2), CTX)
    assert outcome == Accepted(replaced=(1,))
    assert [(i.evse_id, i.profile.stack_level) for i in store.installed] == [(2, 2)]


def test_16_same_stack_level_and_purpose_replaces_but_2x_rejects() -> None:
    first, second = (
        profile(1, Purpose.TX_DEFAULT, [(0, 8)]),
        profile(2, Purpose.TX_DEFAULT, [(0, 9)]),
    )
    store16 = ProfileStore(OcppVersion.V16)
    store16.install(1, first, CTX)
    assert store16.install(1, second, CTX) == Accepted(replaced=(1,))
    store2 = ProfileStore(OcppVersion.V201)
    store2.install(1, first, CTX)
    outcome = store2.install(1, second, CTX)
    assert isinstance(outcome, Rejected)
    assert outcome.requirement == "K01.FR.06"


def test_external_constraints_only_locally() -> None:
    store = ProfileStore(OcppVersion.V201)
    ext = profile(1, Purpose.EXTERNAL_CONSTRAINTS, [(0, 12)])
    assert isinstance(store.install(1, ext, CTX), Rejected)
    assert store.install(1, ext, CTX, from_csms=False) == Accepted()
    store.install(1, profile(2, Purpose.TX_DEFAULT, [(0, 16)]), CTX)
    got = store.composite(evse_id=1, start=T0, duration_s=60, unit=RateUnit.A, context=CTX)
    assert [(p.start_period_s, p.limit) for p in got.periods] == [(0, 12)]


def test_clear_by_id_by_criteria_and_all() -> None:
    store = tc066_store()
    assert store.clear(ClearCriteria(profile_id=3)) == (3,)
    assert store.clear(ClearCriteria(profile_id=3)) == ()
    assert store.clear(ClearCriteria(purpose=Purpose.STATION_MAX, evse_id=0)) == (1,)
    got = store.composite(evse_id=1, start=T0, duration_s=400, unit=RateUnit.A, context=CTX,
                          default_limit=D(32))  # fmt: skip
    assert [(p.start_period_s, p.limit) for p in got.periods] == [
        (0, 6), (56, 10), (116, 8), (176, 15), (256, 8), (296, 32)
    ]  # fmt: skip
    assert store.clear(ClearCriteria()) == (2,)
    assert store.installed == ()


def test_end_transaction_drops_its_tx_profiles() -> None:
    store = tc066_store()
    assert store.end_transaction("7") == (3,)
    assert {i.profile.purpose for i in store.installed} == {Purpose.STATION_MAX, Purpose.TX_DEFAULT}


def test_limit_at_follows_the_composite() -> None:
    store = tc066_store()
    limit = store.limit_at(evse_id=1, at=at(50), context=CTX)
    assert (limit.current_a, limit.power_w, limit.number_phases) == (10, 6900, 3)
    assert store.limit_at(evse_id=1, at=at(200), context=CTX).current_a == 6
    assert store.limit_at(evse_id=1, at=at(10), context=CTX).current_a == 8
    assert store.limit_at(evse_id=1, at=at(301), context=CTX).current_a == 10


def test_limit_at_is_none_without_any_profile() -> None:
    limit = ProfileStore(OcppVersion.V16).limit_at(evse_id=1, at=T0, context=CTX)
    assert (limit.current_a, limit.power_w) == (None, None)


def test_limit_at_keeps_an_ampere_max_on_a_single_phase() -> None:
    store = ProfileStore(OcppVersion.V16)
    store.install(0, profile(1, Purpose.STATION_MAX, [(0, 10)]), CTX)
    store.install(1, profile(2, Purpose.TX_DEFAULT, [(0, 16)], phases=1), CTX)
    limit = store.limit_at(evse_id=1, at=T0, context=CTX)
    assert (limit.current_a, limit.power_w, limit.number_phases) == (10, 2300, 1)


def test_limit_at_a_watt_limit_sets_the_current() -> None:
    store = ProfileStore(OcppVersion.V201)
    store.install(1, profile(1, Purpose.TX_DEFAULT, [(0, 7000)], unit=RateUnit.W), CTX)
    limit = store.limit_at(evse_id=1, at=T0, context=CTX)
    assert (limit.current_a, limit.power_w) == (D("10.144"), 7000)


def test_limit_at_idle_and_setpoint() -> None:
    store = ProfileStore(OcppVersion.V21)
    store.install(1, profile(1, Purpose.TX_DEFAULT, [(0, 11040)], unit=RateUnit.W,
                             operation_mode=OperationMode.IDLE, duration=60), CTX)  # fmt: skip
    store.install(1, profile(2, Purpose.TX_DEFAULT, [(0, None)], stack=1, unit=RateUnit.W,
                             setpoint=D(-3000), discharge_limit=D(-5000), start=at(60),
                             operation_mode=OperationMode.CENTRAL_SETPOINT), CTX)  # fmt: skip
    idle = store.limit_at(evse_id=1, at=at(10), context=CTX)
    assert (idle.current_a, idle.power_w, idle.operation_mode) == (0, 0, OperationMode.IDLE)
    later = store.limit_at(evse_id=1, at=at(70), context=CTX)
    assert (later.setpoint_w, later.discharge_limit_w) == (-3000, -5000)
    assert later.operation_mode is OperationMode.CENTRAL_SETPOINT


def test_limit_at_sees_an_install_after_the_cache_was_filled() -> None:
    store = tc066_store()
    assert store.limit_at(evse_id=1, at=at(50), context=CTX).current_a == 10
    store.install(0, profile(9, Purpose.STATION_MAX, [(0, 5)], stack=1), CTX)
    assert store.limit_at(evse_id=1, at=at(50), context=CTX).current_a == 5


def test_composite_response_rejects_unknown_evse_and_unsupported_unit() -> None:
    store = tc066_store()
    only_a = StationContext(evse_ids=(1,), transactions=((1, TX),),
                            supported_units=frozenset({RateUnit.A}))  # fmt: skip
    v201 = ProfileStore(OcppVersion.V201)
    assert v201.composite_response(
        evse_id=1, start=T0, duration_s=60, unit=RateUnit.W, context=only_a
    ) == {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedRateUnit"}}
    assert v201.composite_response(
        evse_id=3, start=T0, duration_s=60, unit=RateUnit.A, context=only_a
    ) == {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEvse"}}
    accepted = store.composite_response(
        evse_id=1, start=T0, duration_s=400, unit=RateUnit.A, context=only_a
    )
    assert accepted["status"] == "Accepted"
    assert accepted["chargingSchedule"]["chargingSchedulePeriod"][1] == {
        "startPeriod": 46, "limit": 10
    }  # fmt: skip


def test_a_profile_with_schedules_in_both_units_uses_the_requested_one() -> None:
    both = profile(1, Purpose.TX_DEFAULT, [(0, 16)])
    in_w = profile(1, Purpose.TX_DEFAULT, [(0, 4000)], unit=RateUnit.W).schedule
    both = replace(both, schedules=(both.schedule, in_w))
    store = ProfileStore(OcppVersion.V201)
    assert store.install(1, both, CTX) == Accepted()
    for unit, expected in ((RateUnit.A, 16), (RateUnit.W, 4000)):
        got = store.composite(evse_id=1, start=T0, duration_s=10, unit=unit, context=CTX)
        assert got.periods[0].limit == expected
