"""Differential testing: the oracle (harness) and the station's own engine (simulators) must
give the same answers — the same Accepted/Rejected (with reason code) for each profile and
the same composite schedule — for random stations, profile sets and questions.

Seeded and derandomized (the same examples every run); small profile sets so that 10 000+
examples fit in well under a minute. ``benchmarks/differential.py`` runs many more.
Each disagreement found was decided by the specification and is kept as a named vector in
``test_regressions.py``.
"""

from __future__ import annotations

from decimal import Decimal
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.versions import OcppVersion
from tests.simulators.station.smartcharging.differential import (
    Case,
    PeriodSpec,
    ProfileSpec,
    engine_answer,
    oracle_answer,
)

EXAMPLES = 2500
"""Per seeded test function; four of them and a field-by-field one: > 10 000 examples."""

fast = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
detailed = settings(fast, max_examples=300)

D = Decimal
LIMITS_A = (0, 6, 8, 10, 13, 16, 20, 32)
PURPOSES = (
    "ChargingStationMaxProfile", "TxDefaultProfile", "TxDefaultProfile", "TxProfile",
    "ChargingStationExternalConstraints",
)  # fmt: skip
KINDS = ("Absolute", "Absolute", "Relative", "Recurring")
PHASES = (None, None, 1, 2, 3)
PERIOD_STARTS = [30, 60, 100, 150, 200, 300]
SCHEDULE_STARTS = (-86_400 - 50, -300, -40, 0, 90)
DURATIONS = (None, None, 45, 120, 260, 400)
VALID_FROM = (None, None, -100, 50, 120)
VALID_TO = (None, None, 80, 250, 500)
TX_STARTS = (-500, -60, -5, 0)
ASK_AT = (0, 0, 20, 100)
ASK_FOR = (1, 60, 300, 600)


@st.composite
def periods(draw: st.DrawFn, unit: str, v21: bool) -> tuple[PeriodSpec, ...]:
    later = draw(st.lists(st.sampled_from(PERIOD_STARTS), max_size=2, unique=True))
    out = []
    for start in [0, *sorted(later)]:
        amps = D(draw(st.sampled_from(LIMITS_A)))
        phases = draw(st.sampled_from(PHASES))
        limit = amps * 230 * (phases or 3) if unit == "W" else amps
        extra: list[tuple[str, object]] = []
        if v21 and draw(st.integers(0, 3)) == 0:
            extra.append(("discharge_limit", -limit))
        if v21 and draw(st.integers(0, 4)) == 0:
            extra += [("limit_l2", limit / 2), ("limit_l3", limit)]
        out.append(PeriodSpec(start, limit, phases, tuple(extra)))
    return tuple(out)


@st.composite
def a_profile(
    draw: st.DrawFn, pid: int, evse_ids: tuple[int, ...], txs: dict[int, str], v21: bool
) -> ProfileSpec:
    purpose = draw(st.sampled_from(PURPOSES))
    if purpose == "ChargingStationMaxProfile":
        evse = 0
    elif purpose == "TxProfile":
        evse = draw(st.sampled_from(evse_ids))
    else:
        evse = draw(st.sampled_from((0, *evse_ids)))
    kind = draw(st.sampled_from(KINDS))
    if purpose == "ChargingStationMaxProfile" and kind == "Relative":
        kind = "Absolute"
    unit = draw(st.sampled_from(["A", "W"]))
    start = None if kind == "Relative" else draw(st.sampled_from(SCHEDULE_STARTS))
    valid_from = draw(st.sampled_from(VALID_FROM))
    valid_to = draw(st.sampled_from(VALID_TO))
    return ProfileSpec(
        pid=pid,
        evse_id=evse,
        purpose=purpose,
        stack=draw(st.integers(0, 2)),
        kind=kind,
        unit=unit,
        periods=draw(periods(unit, v21)),
        start_s=start,
        duration_s=draw(st.sampled_from(DURATIONS)),
        valid_from_s=valid_from,
        valid_to_s=valid_to,
        transaction_id=txs.get(evse) if purpose == "TxProfile" else None,
        recurrency="Daily" if kind == "Recurring" else None,
        local=purpose == "ChargingStationExternalConstraints",
    )


@st.composite
def cases(draw: st.DrawFn, *, version: OcppVersion, evses: int, max_profiles: int) -> Case:
    evse_ids = tuple(range(1, evses + 1))
    txs = {e: f"tx{e}" for e in evse_ids if draw(st.booleans())}
    starts = {e: draw(st.sampled_from(TX_STARTS)) for e in txs}
    v21 = version is OcppVersion.V21
    count = draw(st.integers(1, max_profiles))
    profiles = tuple(draw(a_profile(pid, evse_ids, txs, v21)) for pid in range(1, count + 1))
    return Case(
        version=version,
        evse_ids=evse_ids,
        transactions=tuple((e, tx, starts[e]) for e, tx in txs.items()),
        profiles=profiles,
        evse_id=draw(st.sampled_from((0, *evse_ids)) if evses > 1 else st.just(1)),
        unit=draw(st.sampled_from(["A", "W"])),
        start_s=draw(st.sampled_from(ASK_AT)),
        duration_s=draw(st.sampled_from(ASK_FOR)),
        default=draw(st.sampled_from([None, D(32)])),
    )


def random_case(rng: Random, *, version: OcppVersion, evses: int, max_profiles: int) -> Case:
    """The same kind of case as :func:`cases`, from one seed (cheap to generate)."""
    evse_ids = tuple(range(1, evses + 1))
    txs = {e: f"tx{e}" for e in evse_ids if rng.random() < 0.5}
    v21 = version is OcppVersion.V21
    profiles = []
    for pid in range(1, rng.randint(1, max_profiles) + 1):
        purpose = rng.choice(PURPOSES)
        if purpose == "ChargingStationMaxProfile":
            evse = 0
        elif purpose == "TxProfile":
            evse = rng.choice(evse_ids)
        else:
            evse = rng.choice((0, *evse_ids))
        kind = rng.choice(KINDS)
        if purpose == "ChargingStationMaxProfile" and kind == "Relative":
            kind = "Absolute"
        unit = rng.choice("AW")
        rows = []
        later = rng.sample(PERIOD_STARTS, rng.randint(0, 2))
        for start in [0, *sorted(later)]:
            amps = D(rng.choice(LIMITS_A))
            phases = rng.choice(PHASES)
            limit = amps * 230 * (phases or 3) if unit == "W" else amps
            extra: list[tuple[str, object]] = []
            if v21 and rng.random() < 0.25:
                extra.append(("discharge_limit", -limit))
            if v21 and rng.random() < 0.2:
                extra += [("limit_l2", limit / 2), ("limit_l3", limit)]
            rows.append(PeriodSpec(start, limit, phases, tuple(extra)))
        profiles.append(
            ProfileSpec(
                pid=pid,
                evse_id=evse,
                purpose=purpose,
                stack=rng.randint(0, 2),
                kind=kind,
                unit=unit,
                periods=tuple(rows),
                start_s=None if kind == "Relative" else rng.choice(SCHEDULE_STARTS),
                duration_s=rng.choice(DURATIONS),
                valid_from_s=rng.choice(VALID_FROM),
                valid_to_s=rng.choice(VALID_TO),
                transaction_id=txs.get(evse) if purpose == "TxProfile" else None,
                recurrency="Daily" if kind == "Recurring" else None,
                local=purpose == "ChargingStationExternalConstraints",
            )
        )
    return Case(
        version=version,
        evse_ids=evse_ids,
        transactions=tuple((e, tx, rng.choice(TX_STARTS)) for e, tx in txs.items()),
        profiles=tuple(profiles),
        evse_id=rng.choice((0, *evse_ids)) if evses > 1 else 1,
        unit=rng.choice("AW"),
        start_s=rng.choice(ASK_AT),
        duration_s=rng.choice(ASK_FOR),
        default=rng.choice((None, D(32))),
    )


def seeded(*, version: OcppVersion, evses: int, max_profiles: int) -> st.SearchStrategy[Case]:
    """Cases from one drawn seed: hypothesis draws (and replays) the seed only."""
    return st.integers(0, 2**63).map(
        lambda seed: random_case(
            Random(seed), version=version, evses=evses, max_profiles=max_profiles
        )
    )


def agree(case: Case) -> None:
    expected, got = oracle_answer(case), engine_answer(case)
    assert got == expected, f"oracle and station engine differ on {case}"


@detailed
@given(cases(version=OcppVersion.V201, evses=2, max_profiles=4))
def test_drawn_field_by_field(case: Case) -> None:
    """Hypothesis draws every field (so a failure shrinks to a small case)."""
    agree(case)


@fast
@given(seeded(version=OcppVersion.V16, evses=1, max_profiles=3))
def test_one_evse_16(case: Case) -> None:
    agree(case)


@fast
@given(seeded(version=OcppVersion.V201, evses=1, max_profiles=4))
def test_one_evse_201(case: Case) -> None:
    agree(case)


@fast
@given(seeded(version=OcppVersion.V201, evses=2, max_profiles=4))
def test_two_evses_and_the_station_total_201(case: Case) -> None:
    agree(case)


@fast
@given(seeded(version=OcppVersion.V21, evses=2, max_profiles=3))
def test_21_discharge_and_per_phase_values(case: Case) -> None:
    agree(case)
