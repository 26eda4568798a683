"""Sessions through the core's public API, with a real vehicle from the catalogue."""

from __future__ import annotations

import pytest

from simulators.iec61851 import BelowMinimumPolicy
from simulators.station import (
    AuthorizationMode,
    AuthResult,
    AvailabilityResult,
    ConnectorState,
    LimitApplied,
    MeterSampleDue,
    PendingStartExpired,
    ReservationEnded,
    SampleReason,
    StartPending,
    StartRefusal,
    StartRefused,
    StationConfig,
    StationCore,
    StationFault,
    StationTransaction,
    StatusChanged,
    StopReason,
    TransactionEnded,
    TransactionStarted,
)
from simulators.station.smartcharging import Accepted, ClearCriteria, Purpose, Rejected
from tests.simulators.station.helpers import T0, Session, at, profile, tx_profile, vehicle

S = ConnectorState


def statuses(events: list[object]) -> list[S]:
    return [e.state for e in events if isinstance(e, StatusChanged)]


def test_full_session_plug_authorize_charge_limit_pause_stop_unplug() -> None:
    core = StationCore(StationConfig(max_current_per_evse_a=32), now=T0)
    car = vehicle("bev_3ph_16a")
    core.plug_in(1, T0)
    car.plug_in()
    assert core.state(1) is S.PREPARING
    assert core.authorize("TAG") is AuthResult.ACCEPTED
    tx = core.start_transaction(1, id_token="TAG", now=T0)
    assert isinstance(tx, StationTransaction)
    s = Session(core, car)
    s.run(30)
    assert core.state(1) is S.CHARGING
    assert s.current_a() == pytest.approx((16.0, 16.0, 16.0))  # the vehicle's own maximum
    started = [e for e in s.events if isinstance(e, TransactionStarted)]
    assert [e.transaction for e in started] == [tx]

    # TxProfile 10 A: the vehicle follows, the meter shows it.
    assert isinstance(core.set_charging_profile(1, tx_profile(tx, 10), now=s.now), Accepted)
    s.run(30)
    assert s.current_a() == pytest.approx((10.0, 10.0, 10.0))
    sample = core.meter(1)
    assert sample.current_import_a == pytest.approx((10.0, 10.0, 10.0))
    assert sample.current_offered_a == 10.0
    assert sample.power_import_w == pytest.approx(6900.0)
    assert sample.phases_in_use == 3
    assert sample.transaction_id == tx.transaction_id
    assert sample.energy_import_wh == pytest.approx(car.reading().energy_imported_wh)

    # 0 A: paused, SuspendedEVSE, steady +12 V (duty 100 %).
    core.set_charging_profile(1, tx_profile(tx, 0, pid=11, stack=1), now=s.now)
    s.run(30)
    assert core.state(1) is S.SUSPENDED_EVSE
    assert core.pilot_offer(1).duty_percent == 100.0
    assert s.current_a() == (0.0, 0.0, 0.0)
    assert core.meter(1).current_offered_a == 0.0

    # Stop, then unplug.
    energy = core.meter(1).energy_import_wh
    ended = core.stop_transaction(1, now=s.now, reason=StopReason.REMOTE)
    assert isinstance(ended, TransactionEnded)
    assert ended.reason is StopReason.REMOTE
    assert ended.energy_wh == pytest.approx(energy)
    assert core.state(1) is S.FINISHING
    assert core.pilot_offer(1).energized_phases == 0
    assert core.installed_profiles == ()  # TxProfiles end with their transaction
    core.unplug(1, s.now)
    car.unplug()
    assert core.state(1) is S.AVAILABLE
    assert statuses(s.events + core.tick(s.now)) == [
        S.PREPARING, S.SUSPENDED_EV, S.CHARGING, S.SUSPENDED_EVSE, S.FINISHING, S.AVAILABLE,
    ]  # fmt: skip


def test_keep_minimum_policy_keeps_6_a_at_0_a() -> None:
    s = Session.start(StationConfig(below_minimum=BelowMinimumPolicy.KEEP_MINIMUM))
    s.run(20)
    s.core.set_charging_profile(1, tx_profile(s.tx, 0), now=s.now)
    s.run(20)
    assert s.core.pilot_offer(1).duty_percent == pytest.approx(10.0)
    assert s.current_a() == pytest.approx((6.0, 6.0, 6.0))
    assert s.core.meter(1).current_offered_a == 6.0
    assert s.core.state(1) is S.CHARGING


def test_vehicle_full_is_suspended_ev() -> None:
    s = Session.start(soc_percent=99.9)
    s.run(120)
    assert s.core.state(1) is S.SUSPENDED_EV
    assert s.core.pilot_offer(1).oscillating


def test_unplug_during_charging_ends_transaction_ev_disconnected() -> None:
    s = Session.start()
    s.run(10)
    s.core.unplug(1, s.now)
    events = s.core.tick(s.now)
    ended = [e for e in events if isinstance(e, TransactionEnded)]
    assert [e.reason for e in ended] == [StopReason.EV_DISCONNECTED]
    last = [e for e in events if isinstance(e, StatusChanged)][-1]
    assert (last.state, last.plugged) == (S.AVAILABLE, False)
    assert s.core.state(1) is S.AVAILABLE
    assert s.core.transaction(1) is None


def test_local_list_authorization() -> None:
    config = StationConfig(authorization=AuthorizationMode.LOCAL_LIST, local_list=frozenset({"OK"}))
    core = StationCore(config, now=T0)
    assert core.authorize("OK") is AuthResult.ACCEPTED
    assert core.authorize("NOPE") is AuthResult.INVALID
    core.plug_in(1, T0)
    refused = core.start_transaction(1, id_token="NOPE", now=T0)
    assert isinstance(refused, StartRefused)
    assert refused.reason is StartRefusal.NOT_AUTHORIZED
    assert isinstance(
        core.start_transaction(1, id_token="NOPE", now=T0, remote=True), StationTransaction
    )


def test_start_refusals() -> None:
    core = StationCore(StationConfig(), now=T0)
    unknown = core.start_transaction(9, id_token="A", now=T0)
    assert isinstance(unknown, StartRefused)
    assert unknown.reason is StartRefusal.UNKNOWN_EVSE
    core.plug_in(1, T0)
    core.start_transaction(1, id_token="A", now=T0)
    busy = core.start_transaction(1, id_token="B", now=T0)
    assert isinstance(busy, StartRefused)
    assert busy.reason is StartRefusal.BUSY
    core2 = StationCore(StationConfig(), now=T0)
    core2.plug_in(1, T0)
    not_tx = profile(1, Purpose.TX_DEFAULT, [(0, 8)])
    bad = core2.start_transaction(1, id_token="A", now=T0, remote=True, charging_profile=not_tx)
    assert isinstance(bad, StartRefused)
    assert bad.reason is StartRefusal.INVALID_PROFILE
    assert core2.transaction(1) is None


def test_remote_start_before_plug_in_waits_for_the_cable() -> None:
    core = StationCore(StationConfig(connection_timeout_s=60), now=T0)
    pending = core.start_transaction(1, id_token="A", now=T0, remote=True)
    assert isinstance(pending, StartPending)
    assert pending.deadline == at(60)
    assert core.state(1) is S.PREPARING
    assert not core.plugged(1)
    core.plug_in(1, at(30))
    tx = core.transaction(1)
    assert tx is not None
    assert tx.started_at == at(30)
    assert tx.remote
    assert any(isinstance(e, TransactionStarted) for e in core.tick(at(30)))


def test_pending_start_expires_after_connection_timeout() -> None:
    core = StationCore(StationConfig(connection_timeout_s=60), now=T0)
    core.start_transaction(1, id_token="A", now=T0, remote=True)
    assert not any(isinstance(e, PendingStartExpired) for e in core.tick(at(59)))
    events = core.tick(at(60))
    assert [e.id_token for e in events if isinstance(e, PendingStartExpired)] == ["A"]
    assert core.state(1) is S.AVAILABLE


def test_remote_start_with_tx_profile_applies_it() -> None:
    core = StationCore(StationConfig(), now=T0)
    core.plug_in(1, T0)
    tx_p = profile(5, Purpose.TX, [(0, 12)])
    tx = core.start_transaction(1, id_token="A", now=T0, remote=True, charging_profile=tx_p)
    assert isinstance(tx, StationTransaction)
    assert [i.profile.transaction_id for i in core.installed_profiles] == [tx.transaction_id]
    limit = core.applied_limit(1)
    assert limit is not None
    assert limit.limit_a == 12.0


def test_assign_transaction_id_then_tx_profile_must_name_it() -> None:
    s = Session.start(StationConfig())
    s.core.assign_transaction_id(1, "4711")
    assert s.tx.transaction_id == "4711"
    assert isinstance(s.core.set_charging_profile(1, tx_profile(s.tx, 8), now=s.now), Accepted)


def test_reservation_only_for_its_token_and_expiry() -> None:
    core = StationCore(StationConfig(), now=T0)
    assert core.reserve(1, reservation_id=3, id_token="R", expires_at=at(100), now=T0)
    assert core.state(1) is S.RESERVED
    core.plug_in(1, at(1))
    other = core.start_transaction(1, id_token="X", now=at(2))
    assert isinstance(other, StartRefused)
    assert other.reason is StartRefusal.RESERVED
    assert isinstance(core.start_transaction(1, id_token="R", now=at(3)), StationTransaction)
    assert core.reservation(1) is None
    core2 = StationCore(StationConfig(), now=T0)
    core2.reserve(1, reservation_id=4, id_token="R", expires_at=at(10), now=T0)
    ended = [e for e in core2.tick(at(10)) if isinstance(e, ReservationEnded)]
    assert [(e.reservation_id, e.expired) for e in ended] == [(4, True)]
    assert core2.state(1) is S.AVAILABLE
    assert core2.reserve(1, reservation_id=5, id_token="R", expires_at=at(99), now=at(11))
    assert core2.cancel_reservation(5, now=at(12))
    assert not core2.cancel_reservation(5, now=at(12))


def test_change_availability_is_scheduled_during_a_transaction() -> None:
    s = Session.start()
    s.run(5)
    assert s.core.set_available(1, available=False, now=s.now) is AvailabilityResult.SCHEDULED
    assert s.core.state(1) is S.CHARGING
    s.core.stop_transaction(1, now=s.now)
    assert s.core.state(1) is S.UNAVAILABLE
    assert s.core.pilot_offer(1).line == "F"
    assert s.core.set_available(1, available=True, now=s.now) is AvailabilityResult.ACCEPTED
    assert s.core.state(1) is S.PREPARING  # the cable is still in


def test_fault_ends_transaction_and_clears() -> None:
    s = Session.start()
    s.run(5)
    s.core.set_faulted(1, faulted=True, now=s.now)
    events = s.core.tick(s.now)
    assert [e.reason for e in events if isinstance(e, TransactionEnded)] == [StopReason.OTHER]
    assert s.core.state(1) is S.FAULTED
    s.core.set_faulted(1, faulted=False, now=s.now)
    assert s.core.state(1) is S.PREPARING


def test_periodic_and_clock_aligned_samples() -> None:
    config = StationConfig(meter_interval_s=60, clock_aligned_interval_s=900)
    s = Session.start(config)
    s.run(1800, dt_s=10)
    due = [e.sample for e in s.events if isinstance(e, MeterSampleDue)]
    periodic = [x.timestamp for x in due if x.reason is SampleReason.PERIODIC]
    clock = [x.timestamp for x in due if x.reason is SampleReason.CLOCK]
    assert periodic == [at(60 * k) for k in range(1, 31)]
    assert clock == [at(900), at(1800)]  # T0 is 12:00, so 12:15 and 12:30 are aligned
    energies = [x.energy_import_wh for x in due if x.reason is SampleReason.PERIODIC]
    assert energies == sorted(energies)
    assert energies[-1] > energies[0]


def test_limit_applied_events_and_time_must_not_go_back() -> None:
    s = Session.start()
    s.run(5)
    s.core.set_charging_profile(1, tx_profile(s.tx, 8), now=s.now)
    s.run(5)
    applied = [e.limit_a for e in s.events if isinstance(e, LimitApplied)]
    assert applied == [32.0, 8.0]
    with pytest.raises(ValueError, match="time cannot go backwards"):
        s.core.tick(at(0))


def test_soc_reported_only_when_configured() -> None:
    s = Session.start(StationConfig(reports_soc=True))
    s.run(5)
    assert s.core.meter(1).soc_percent == pytest.approx(s.car.reading().soc_percent)
    s2 = Session.start()
    s2.run(5)
    assert s2.core.meter(1).soc_percent is None


def test_discharge_request_from_a_21_setpoint() -> None:
    from decimal import Decimal

    from harness.versions import OcppVersion
    from simulators.station.smartcharging import OperationMode, RateUnit

    s = Session.start(StationConfig(ocpp_version=OcppVersion.V21), archetype="bev_bidirectional")
    s.run(10)
    assert s.core.discharge_request(1) == 0.0
    v2x = profile(
        10, Purpose.TX, [(0, 11000)], unit=RateUnit.W, transaction_id=s.tx.transaction_id,
        operation_mode=OperationMode.CENTRAL_SETPOINT, setpoint=Decimal(-5000),
        discharge_limit=Decimal(-11000),
    )  # fmt: skip
    assert isinstance(s.core.set_charging_profile(1, v2x, now=s.now), Accepted)
    s.run(30)
    assert s.core.discharge_request(1) == 5000.0
    sample = s.core.meter(1)
    assert sample.power_export_w == pytest.approx(5000.0)
    assert sample.current_export_a == pytest.approx((5000 / 690,) * 3)
    assert sample.power_import_w == 0.0
    assert s.core.state(1) is S.CHARGING
    s.run(60)
    assert s.core.meter(1).energy_export_wh > 0


def test_next_deadline_names_the_next_change() -> None:
    core = StationCore(StationConfig(apply_delay_s=2, meter_interval_s=60), now=T0)
    assert core.next_deadline() is None
    core.plug_in(1, T0)
    tx = core.start_transaction(1, id_token="A", now=T0)
    assert isinstance(tx, StationTransaction)
    assert core.next_deadline() == at(60)  # the first periodic sample
    core.set_charging_profile(1, tx_profile(tx, 8), now=at(10))
    assert core.next_deadline() == at(12)  # the new limit reaches the pilot
    core.tick(at(12))
    assert core.applied_limit(1).limit_a == 8.0  # type: ignore[union-attr]
    assert core.next_deadline() == at(60)


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"StationConfig\.phases: expected 1 or 3, got 2"):
        StationConfig(phases=2)
    with pytest.raises(ValueError, match=r"StationConfig\.faults: expected names among"):
        StationConfig(faults=frozenset({"bogus"}))  # type: ignore[arg-type]
    assert StationConfig(faults=frozenset({"late_apply"})).faults == {StationFault.LATE_APPLY}  # type: ignore[arg-type]


def test_pilot_interruption_wakes_a_vehicle_asleep_after_a_long_pause() -> None:
    s = Session.start(archetype="sleeps_after_long_pause")
    s.run(30)
    assert s.current_a() == pytest.approx((16.0,) * 3)
    pause = tx_profile(s.tx, 0, pid=11, stack=1)
    s.core.set_charging_profile(1, pause, now=s.now)
    s.run(3600, dt_s=10)  # an hour at 0 A: the vehicle falls asleep
    s.core.clear_charging_profiles(ClearCriteria(profile_id=11), now=s.now)
    s.run(60)
    assert s.current_a() == (0.0, 0.0, 0.0)  # current is back, the vehicle does not resume
    assert s.core.state(1) is S.SUSPENDED_EV
    s.core.interrupt_pilot(1, now=s.now, duration_s=4)
    assert s.core.pilot_offer(1).line == "F"
    assert s.core.next_deadline() == at(s.t_s + 4)
    s.run(30)
    assert s.core.pilot_offer(1).line == "normal"
    assert s.current_a() == pytest.approx((16.0,) * 3)
    assert s.core.state(1) is S.CHARGING


def test_local_external_constraint_caps_the_evse() -> None:
    s = Session.start()
    ems = profile(50, Purpose.EXTERNAL_CONSTRAINTS, [(0, 8)], start=at(-10))
    assert isinstance(s.core.set_charging_profile(1, ems, now=s.now), Rejected)  # K01.FR.22
    assert isinstance(s.core.set_local_limit(1, ems, now=s.now), Accepted)
    s.run(20)
    assert s.current_a() == pytest.approx((8.0,) * 3)
