"""The oracle's judge tells the well-behaved station's composite answers from the faulty ones.

This is the point of the fault catalogue: each composite fault must be caught by the harness
(the judge), and the well-behaved core must pass.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness import smartcharging as sc
from harness.smartcharging import CompositeSchedule, ProfileStore, compare_composite
from harness.versions import OcppVersion
from simulators.station import StationConfig, StationCore, StationFault, StationTransaction
from simulators.station.smartcharging import (
    Accepted,
    Composite,
    Purpose,
    RateUnit,
    accepted_payload,
)
from tests.simulators.station.helpers import T0, as_oracle, oracle_context, profile

F = StationFault


def setup(version: OcppVersion, faults: frozenset[F]) -> tuple[StationCore, CompositeSchedule]:
    """A core with a TxDefault in A (with a redundant 200 s step) and a TxProfile in W
    (5000 W → 7.246… A, for 350 s) on a running transaction, and the oracle's own expected
    composite for the next 400 s in A: the valid TxProfile overrules the TxDefault for the
    whole transaction (1.6 §3.13.2), so after 350 s the hardware maximum applies."""
    core = StationCore(StationConfig(ocpp_version=version, faults=faults), now=T0)
    core.plug_in(1, T0)
    tx = core.start_transaction(1, id_token="A", now=T0)
    assert isinstance(tx, StationTransaction)
    oracle = ProfileStore(version)
    default = profile(1, Purpose.TX_DEFAULT, [(0, 16), (100, 10), (200, 10)], start=T0)
    tx_limit = profile(9, Purpose.TX, [(0, 5000), (300, 5000)], unit=RateUnit.W,
                       start=T0, duration=350, transaction_id=tx.transaction_id)  # fmt: skip
    for p in (default, tx_limit):
        assert isinstance(core.set_charging_profile(1, p, now=T0), Accepted)
        assert isinstance(oracle.install(1, as_oracle(p), oracle_context(core)), sc.Accepted)
    expected = oracle.composite(
        evse_id=1, start=T0, duration_s=400, unit=sc.RateUnit.A, context=oracle_context(core),
        default_limit=Decimal(32),
    )  # fmt: skip
    # After the TxProfile's schedule the TxDefault stays overruled (1.6 §3.13.2 / 2.0.1 K08):
    # the station's own maximum (32 A) is all that limits.
    assert [(p.start_period_s, p.limit) for p in expected.periods] == [
        (0, Decimal("7.2")), (350, Decimal(32)),
    ]  # fmt: skip
    return core, expected


def judge(version: OcppVersion, faults: frozenset[F]) -> set[str]:
    core, expected = setup(version, faults)
    answer = core.composite_schedule(1, start=T0, duration_s=400, unit=RateUnit.A)
    assert isinstance(answer, Composite)
    verdict = compare_composite(
        expected, accepted_payload(answer, version), version=version, time_tolerance_s=0
    )
    return {d.where.split(" ")[0] if d.where.startswith("period") else d.where
            for d in verdict.differences}  # fmt: skip


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_well_behaved_station_passes_the_judge(version: OcppVersion) -> None:
    assert judge(version, frozenset()) == set()


@pytest.mark.parametrize(
    ("fault", "caught_as"),
    [
        (F.EMPTY_COMPOSITE, "number of periods"),
        (F.ENDLESS_COMPOSITE, "duration"),
        (F.UNIT_IGNORED, "chargingRateUnit"),
        (F.REDUNDANT_PERIODS, "number of periods"),
        (F.TOO_MANY_DECIMALS, "response schema"),
    ],
)
def test_each_composite_fault_is_caught_by_the_judge_in_16(fault: F, caught_as: str) -> None:
    differences = judge(OcppVersion.V16, frozenset({fault}))
    assert caught_as in differences, differences
