"""Named vectors: where the oracle was found wrong (issue #15) or the specification had to be
read closely, each decided by its clause and checked on both the oracle and the station
engine. (The differential tests have found no disagreement between the two since the
engine was written; a new one would be decided and added here.)"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from harness import smartcharging as oracle
from harness.versions import OcppVersion
from simulators.station import smartcharging as engine
from tests.simulators.station.smartcharging.differential import (
    T0,
    Case,
    PeriodSpec,
    ProfileSpec,
    at,
    build,
    engine_answer,
    oracle_answer,
)

D = Decimal
V201 = OcppVersion.V201

# libocpp ChargingStationMaxProfile_24_Ampere: 16 A 1 ph, then 16 A 3 ph after an hour.
CAP_1PH = ProfileSpec(
    1,
    0,
    "ChargingStationMaxProfile",
    0,
    "Absolute",
    "A",
    (PeriodSpec(0, D(16), 1), PeriodSpec(3600, D(16), 3)),
    start_s=0,
)
# libocpp TXDefaultProfile_25_Watt (no numberPhases: 3 phases), Relative.
W_DEFAULT = ProfileSpec(
    2,
    1,
    "TxDefaultProfile",
    0,
    "Relative",
    "W",
    (
        PeriodSpec(0, D(12420)),
        PeriodSpec(300, D(8280)),
        PeriodSpec(600, D(6210)),
        PeriodSpec(900, D(4140)),
        PeriodSpec(1200, D(2070)),
    ),
    duration_s=3600,
)
# libocpp Relative_302_phase_limit: 16 A 3 ph, 15 A 1 ph, 14 A 3 ph.
PHASE_DEFAULT = ProfileSpec(3, 1, "TxDefaultProfile", 5, "Relative", "A",
                            (PeriodSpec(0, D(16), 3), PeriodSpec(1800, D(15), 1),
                             PeriodSpec(2700, D(14), 3)), duration_s=3600)  # fmt: skip


def rows(case: Case) -> list[tuple[int, Decimal | None, int | None]]:
    outcomes, periods = oracle_answer(case)
    assert engine_answer(case) == (outcomes, periods), "oracle and station engine differ"
    return [(p[0], p[1], p[2]) for p in periods]


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("A", [(0, D(16), 1), (1200, D(9), 1)]), ("W", [(0, D(3680), 1), (1200, D(2070), 1)])],
)
def test_mix_16a_1p_a_w_limit_without_phases_is_three_phase_power(
    unit: str, expected: list[tuple[int, Decimal, int]]
) -> None:
    """libocpp MixingCurrentAndPower_16A_1P — the harness was wrong (issue #15): a W limit
    without numberPhases counts as 3 phases (K01.FR.49) but binds the power over the phases
    in use; under a 1-phase cap 2070 W is 9 A on one phase, in A and in W alike."""
    case = Case(V201, (1,), (), (CAP_1PH, W_DEFAULT), 1, unit, 0, 3600)
    assert rows(case) == expected


def test_mixing_number_of_phases_a_cap_with_fewer_phases_lowers_the_count() -> None:
    """libocpp MixingNumberOfPhasesOnSingleEvse — the harness was wrong: the 1-phase cap
    lowers the reported phases, and periods that differ only in phases stay apart."""
    case = Case(V201, (1,), (), (CAP_1PH, PHASE_DEFAULT), 1, "A", 2400, 3600)
    assert rows(case) == [(0, D(16), 1), (1200, D(16), 3), (1800, D(15), 1), (2700, D(14), 3)]


def test_tc066_a_valid_tx_profile_overrules_the_default_for_the_whole_transaction() -> None:
    """OCA TC_066_CS / TC_K_41_CS (1.6 §3.13.2, K08): four periods, not six."""
    start = -4
    cap = ProfileSpec(
        1,
        0,
        "ChargingStationMaxProfile",
        0,
        "Absolute",
        "A",
        (PeriodSpec(0, D(10)),),
        start_s=start,
        duration_s=86_404,
    )
    default = ProfileSpec(
        2,
        1,
        "TxDefaultProfile",
        0,
        "Absolute",
        "A",
        tuple(PeriodSpec(s, D(v)) for s, v in ((0, 6), (60, 10), (120, 8), (180, 15), (260, 8))),
        start_s=start,
        duration_s=300,
        valid_from_s=start,
        valid_to_s=start + 401,
    )
    tx = ProfileSpec(3, 1, "TxProfile", 0, "Absolute", "A",
                     tuple(PeriodSpec(s, D(v)) for s, v in
                           ((0, 8), (50, 11), (140, 16), (200, 6), (240, 12))),
                     start_s=start, duration_s=260, valid_from_s=start, valid_to_s=start + 401,
                     transaction_id="tx1")  # fmt: skip
    case = Case(OcppVersion.V16, (1,), ((1, "tx1", -60),), (cap, default, tx), 1, "A", 0, 400)
    assert [(s, v) for s, v, _ in rows(case)] == [(0, D(8)), (46, D(10)), (196, D(6)), (236, D(10))]


def test_two_tx_defaults_on_one_stack_level_the_second_is_refused() -> None:
    """libocpp NoGapsWithSequentialProfiles — libocpp is wrong: K01.FR.06 refuses a second
    profile with the same purpose, stackLevel and EVSE and overlapping validity."""
    first = ProfileSpec(
        1,
        0,
        "TxDefaultProfile",
        0,
        "Absolute",
        "A",
        (PeriodSpec(0, D(16)),),
        start_s=0,
        duration_s=300,
    )
    second = ProfileSpec(2, 0, "TxDefaultProfile", 0, "Absolute", "A",
                         (PeriodSpec(0, D(12)),), start_s=300, duration_s=300)  # fmt: skip
    case = Case(V201, (1,), (), (first, second), 1, "A", 0, 1200, default=D(57))
    outcomes, _ = oracle_answer(case)
    assert outcomes == ("Accepted", "DuplicateProfile")
    assert [(s, v) for s, v, _ in rows(case)] == [(0, D(16)), (300, D(57))]


def test_sub_second_instants_asked_at_a_whole_second() -> None:
    """The oracle works to the millisecond (a sub-second sliver gives way to the later value,
    startPeriod is the floored offset); the station engine floors every instant to the
    second. Asked at the whole-second scheduleStart a station reports, both give the same
    answer: the value reported from second k is the one after every change within k."""
    cap = ProfileSpec(1, 0, "ChargingStationMaxProfile", 0, "Absolute", "A",
                      (PeriodSpec(0, D(12)),), start_s=0)  # fmt: skip
    default = ProfileSpec(2, 1, "TxDefaultProfile", 0, "Absolute", "A",
                          (PeriodSpec(0, D(6)), PeriodSpec(140, D(7))), start_s=0,
                          duration_s=300)  # fmt: skip
    tx = ProfileSpec(3, 1, "TxProfile", 0, "Absolute", "A", (PeriodSpec(0, D(8)),), start_s=0,
                     duration_s=100, valid_to_s=150, transaction_id="a")  # fmt: skip
    ms = timedelta(milliseconds=1)
    shifts = {1: 0 * ms, 2: 139 * ms, 3: 861 * ms}  # valid_to of 3: 150.5 s

    def shifted(spec: ProfileSpec, lib: ModuleType) -> Any:
        profile = build(spec, lib)
        k = shifts[spec.pid]
        schedules = tuple(
            dataclasses.replace(s, start_schedule=s.start_schedule + k) for s in profile.schedules
        )
        valid_to = None if profile.valid_to is None else profile.valid_to + 500 * ms
        return dataclasses.replace(profile, schedules=schedules, valid_to=valid_to)

    tx_start = at(-60) + 250 * ms
    context = oracle.StationContext(
        evse_ids=(1,), transactions=((1, oracle.Transaction("a", tx_start)),)
    )
    store = oracle.ProfileStore(V201)
    profiles = engine.Profiles(V201)
    facts = engine.Facts(evse_ids=(1,), running=((1, "a"),), max_stack_level=8)
    for spec in (cap, default, tx):
        got_o = store.install(spec.evse_id, shifted(spec, oracle), context)
        got_e = profiles.install(spec.evse_id, shifted(spec, engine), facts)
        assert isinstance(got_o, oracle.Accepted)
        assert isinstance(got_e, engine.Accepted)
    expected = store.composite(
        evse_id=1, start=T0, duration_s=300, unit=oracle.RateUnit.A, context=context
    )
    got = profiles.composite(
        engine.Station(evse_ids=(1,), transactions=((1, "a", tx_start),)),
        evse_id=1,
        start=T0,
        duration_s=300,
        unit=engine.RateUnit.A,
    )
    # 0.000-0.861: the valid TxProfile has no period yet (station max 12 A), then 8 A to
    # 100.861, 12 A to 150.5 (TxProfile valid, no period), then the TxDefault's 7 A.
    assert [(p.start_period_s, p.limit) for p in expected.periods] == [
        (0, D(8)), (100, D(12)), (150, D(7))
    ]  # fmt: skip
    assert expected.start_offsets_ms == (0, 100_861, 150_500)
    assert [(s.offset_s, s.limit) for s in got.steps] == [
        (p.start_period_s, p.limit) for p in expected.periods
    ]
