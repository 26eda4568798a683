"""The mirror: what the DUT holds after the requests it accepted, through the store's public
methods (install without validation, clear by the parsed criteria, end of a transaction)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness.runner.mirror import MirrorStore
from harness.runner.observations import ObservationLog, ObservedTransaction
from harness.smartcharging import PayloadError, Purpose
from tests.smartcharging.helpers import T0, payload2x, payload16


def ids(mirror: MirrorStore) -> list[tuple[int, int]]:
    return [(i.evse_id, i.profile.profile_id) for i in mirror.installed]


def mirror16() -> MirrorStore:
    return MirrorStore("1.6", ObservationLog(), evse_ids=(1, 2))


def mirror201() -> MirrorStore:
    return MirrorStore("2.0.1", ObservationLog(), evse_ids=(1, 2))


def test_accepted_set_skips_the_oracles_validation() -> None:
    # K01.FR.38: a station maximum may not be Relative; the DUT accepted it, so it is held.
    mirror = mirror201()
    mirror.accepted_set(
        payload2x(evse=0, pid=1, purpose="ChargingStationMaxProfile", stack=0,
                  periods=[(0, 10)], start=None, kind="Relative")
    )  # fmt: skip
    assert ids(mirror) == [(0, 1)]
    assert mirror.limit_at(evse_id=1, at=T0).current_a == 10


def test_accepted_set_replaces_as_the_version_says() -> None:
    mirror = mirror16()
    for pid, connector, limit in [(1, 1, 16), (2, 2, 12), (3, 1, 8)]:
        mirror.accepted_set(
            payload16(connector=connector, pid=pid, purpose="TxDefaultProfile", stack=1,
                      periods=[(0, limit)], start=T0)
        )  # fmt: skip
    # 1.6 §3.13.2: same stackLevel and purpose on the same connector replaces (id 1 goes).
    assert ids(mirror) == [(2, 2), (1, 3)]
    mirror.accepted_set(
        payload16(connector=2, pid=3, purpose="TxDefaultProfile", stack=4, periods=[(0, 6)],
                  start=T0)
    )  # fmt: skip
    assert ids(mirror) == [(2, 2), (2, 3)]  # same id replaces, on any connector

    in_201 = mirror201()
    for pid in (1, 3):
        in_201.accepted_set(
            payload2x(evse=1, pid=pid, purpose="TxDefaultProfile", stack=1, periods=[(0, 8)],
                      start=T0)
        )  # fmt: skip
    assert ids(in_201) == [(1, 1), (1, 3)]  # 2.x replaces by id only


def test_accepted_clear_16_and_201_shapes() -> None:
    mirror = mirror16()
    mirror.accepted_set(
        payload16(connector=0, pid=1, purpose="ChargePointMaxProfile", stack=0,
                  periods=[(0, 20)], start=T0)
    )  # fmt: skip
    mirror.accepted_set(
        payload16(connector=1, pid=2, purpose="TxDefaultProfile", stack=0, periods=[(0, 8)],
                  start=T0)
    )  # fmt: skip
    mirror.accepted_clear({"chargingProfilePurpose": "ChargePointMaxProfile"})
    assert ids(mirror) == [(1, 2)]
    mirror.accepted_clear({})
    assert ids(mirror) == []

    m2 = mirror201()
    for pid, evse in [(1, 1), (2, 2)]:
        m2.accepted_set(
            payload2x(evse=evse, pid=pid, purpose="TxDefaultProfile", stack=0, periods=[(0, 8)],
                      start=T0)
        )  # fmt: skip
    m2.accepted_clear({"chargingProfileCriteria": {"evseId": 2}})
    assert ids(m2) == [(1, 1)]
    m2.accepted_clear({"chargingProfileId": 1})
    assert ids(m2) == []


def test_accepted_clear_refuses_a_payload_of_another_version() -> None:
    with pytest.raises(PayloadError, match="chargingProfilePurpose"):
        mirror201().accepted_clear(
            {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargePointMaxProfile"}}
        )


def test_external_limit_is_held_and_lifted() -> None:
    mirror = mirror16()
    mirror.accepted_set(
        payload16(connector=1, pid=5, purpose="TxDefaultProfile", stack=0, periods=[(0, 16)],
                  start=T0)
    )  # fmt: skip
    mirror.external_limit(evse_id=1, limit_a=10, at=T0)
    mirror.external_limit(evse_id=1, limit_a=6, at=T0)  # a new limit replaces the old one
    held = [i for i in mirror.installed if i.profile.purpose is Purpose.EXTERNAL_CONSTRAINTS]
    assert len(held) == 1
    assert mirror.limit_at(evse_id=1, at=T0 + timedelta(seconds=1)).current_a == 6
    mirror.external_limit(evse_id=1, limit_a=None, at=T0)
    assert ids(mirror) == [(1, 5)]
    assert mirror.limit_at(evse_id=1, at=T0 + timedelta(seconds=1)).current_a == 16


def test_transaction_end_drops_its_tx_profiles_and_the_start_requests() -> None:
    log = ObservationLog()
    mirror = MirrorStore("2.0.1", log, evse_ids=(1, 2))
    tx = ObservedTransaction("T-1", evse=1, start=T0)
    log.start_transaction(tx)
    mirror.accepted_set(
        payload2x(evse=1, pid=1, purpose="TxProfile", stack=0, periods=[(0, 8)], start=T0,
                  transaction_id="T-1")
    )  # fmt: skip
    mirror.accepted_start(
        {"evseId": 1, "idToken": {"idToken": "X", "type": "Central"},
         "chargingProfile": payload2x(evse=1, pid=2, purpose="TxProfile", stack=1,
                                      periods=[(0, 9)], start=T0)["chargingProfile"]}
    )  # fmt: skip
    mirror.accepted_start(
        {"evseId": 2, "idToken": {"idToken": "X", "type": "Central"},
         "chargingProfile": payload2x(evse=2, pid=3, purpose="TxProfile", stack=1,
                                      periods=[(0, 9)], start=T0)["chargingProfile"]}
    )  # fmt: skip
    mirror.accepted_set(
        payload2x(evse=1, pid=4, purpose="TxDefaultProfile", stack=0, periods=[(0, 12)],
                  start=T0)
    )  # fmt: skip
    assert ids(mirror) == [(1, 1), (1, 2), (2, 3), (1, 4)]
    ended = log.end_transaction("T-1")
    assert ended is not None
    mirror.transaction_ended(ended)
    # The transaction's own TxProfile and the one given with the start on its EVSE go; the
    # start request's profile on EVSE 2 and the TxDefaultProfile stay.
    assert ids(mirror) == [(2, 3), (1, 4)]
    assert mirror.limit_at(evse_id=1, at=T0).current_a == 12


def test_reset_forgets_everything() -> None:
    mirror = mirror16()
    mirror.accepted_set(
        payload16(connector=1, pid=5, purpose="TxDefaultProfile", stack=0, periods=[(0, 16)],
                  start=T0)
    )  # fmt: skip
    mirror.reset()
    assert mirror.installed == ()
    assert mirror.limit_at(evse_id=1, at=T0).current_a is None
