"""Each station fault shows the behaviour it claims, against the well-behaved core.

:data:`DEMONSTRATIONS` maps every :class:`StationFault` to a demonstration; the test is
parametrized over the enum, so a new fault without a demonstration fails here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from harness.clock import ManualClock
from harness.session import Call, CallReceived, CallResult, ResultReceived
from harness.versions import OcppVersion
from simulators.station import (
    ENDLESS_DURATION_S,
    ConnectorState,
    FaultCatalogueError,
    StationConfig,
    StationCore,
    StationFault,
    StationTransaction,
    load_faults,
)
from simulators.station.memory import StationMemory
from simulators.station.runtime import SimulatedStation
from simulators.station.smartcharging import (
    Accepted,
    Composite,
    OperationMode,
    Purpose,
    RateUnit,
    Rejected,
    accepted_payload,
)
from tests.simulators.station.helpers import T0, Session, at, profile, tx_profile, vehicle

F = StationFault
# OCA TC_066_CS (1.6 TestCaseDocument table 82): the TxProfile overrules the TxDefault for the
# whole transaction, so after its schedule only the station maximum (10 A) limits.
TC066_EXPECTED = [(0, 8), (46, 10), (196, 6), (236, 10)]


def pair(config: StationConfig, fault: F, **kw: object) -> tuple[Session, Session]:
    """A well-behaved session and one with ``fault``, otherwise identical."""
    good = Session.start(config, **kw)  # type: ignore[arg-type]
    bad = Session.start(replace(config, faults=frozenset({fault})), **kw)  # type: ignore[arg-type]
    return good, bad


def tc066_core(faults: frozenset[F] = frozenset()) -> StationCore:
    """The OCA TC_066 set-up (1.6) on a running transaction; the request instant is T0."""
    core = StationCore(StationConfig(ocpp_version=OcppVersion.V16, faults=faults), now=at(-10))
    core.plug_in(1, at(-10))
    tx = core.start_transaction(1, id_token="A", now=at(-10))
    assert isinstance(tx, StationTransaction)
    s = at(-4)
    for evse, p in [
        (0, profile(1, Purpose.STATION_MAX, [(0, 10)], start=s, duration=86404)),
        (1, profile(2, Purpose.TX_DEFAULT, [(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
                    start=s, duration=304)),
        (1, profile(3, Purpose.TX, [(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
                    start=s, duration=264, transaction_id=tx.transaction_id)),
    ]:  # fmt: skip
        assert isinstance(core.set_charging_profile(evse, p, now=at(-10)), Accepted)
    core.tick(T0)
    return core


def composite(
    core: StationCore, unit: RateUnit | None = RateUnit.A, duration_s: int = 400
) -> Composite:
    got = core.composite_schedule(1, start=core.now, duration_s=duration_s, unit=unit)
    assert isinstance(got, Composite)
    return got


def periods(schedule: Composite) -> list[tuple[int, float]]:
    return [(p.offset_s, float(p.limit or 0)) for p in schedule.steps]


# ----------------------------------------------------------------------------- demonstrations


def accepts_but_ignores() -> None:
    good, bad = pair(StationConfig(), F.ACCEPTS_BUT_IGNORES)
    for s in (good, bad):
        s.run(20)
        assert isinstance(s.core.set_charging_profile(1, tx_profile(s.tx, 10), now=s.now), Accepted)
        s.run(30)
        assert periods(composite(s.core))[0] == (0, 10.0)  # both report the profile
    assert good.current_a() == pytest.approx((10.0, 10.0, 10.0))
    assert bad.current_a() == pytest.approx((16.0, 16.0, 16.0))  # keeps the old current
    assert bad.core.meter(1).current_offered_a == 32.0


def late_apply() -> None:
    good, bad = pair(StationConfig(), F.LATE_APPLY)
    for s in (good, bad):
        s.run(20)
        s.core.set_charging_profile(1, tx_profile(s.tx, 0), now=s.now)
    stops = []
    for s in (good, bad):
        start = s.t_s
        while s.current_a() != (0.0, 0.0, 0.0) and s.t_s - start < 120:
            s.step()
        stops.append(s.t_s - start)
    assert stops[0] <= 10  # normal delay + the vehicle's response
    assert stops[1] >= 40  # late pause: 40+ s after the 0 A limit
    assert stops[1] - stops[0] == pytest.approx(45 - 1, abs=1)


def empty_composite() -> None:
    good, bad = tc066_core(), tc066_core(frozenset({F.EMPTY_COMPOSITE}))
    assert periods(composite(good)) == TC066_EXPECTED
    answer = composite(bad)  # Accepted, not refused...
    assert answer.steps == ()  # ...but without periods
    assert (
        accepted_payload(answer, OcppVersion.V16)["chargingSchedule"]["chargingSchedulePeriod"]
        == []
    )


def endless_composite() -> None:
    good, bad = tc066_core(), tc066_core(frozenset({F.ENDLESS_COMPOSITE}))
    assert composite(good).duration_s == 400
    answer = composite(bad)
    assert answer.duration_s == ENDLESS_DURATION_S
    assert periods(answer) == TC066_EXPECTED  # right periods, wrong (endless) duration


def unit_ignored() -> None:
    good, bad = tc066_core(), tc066_core(frozenset({F.UNIT_IGNORED}))
    assert composite(good, RateUnit.A).unit is RateUnit.A
    assert composite(good, RateUnit.W).unit is RateUnit.W
    in_w = composite(bad, RateUnit.A)
    assert in_w.unit is RateUnit.W
    assert periods(in_w)[0] == (0, 8 * 230 * 3)
    assert composite(bad, RateUnit.W).unit is RateUnit.A


def redundant_periods() -> None:
    good, bad = tc066_core(), tc066_core(frozenset({F.REDUNDANT_PERIODS}))
    assert periods(composite(good)) == TC066_EXPECTED
    split = periods(composite(bad))
    assert (136, 10.0) in split  # the TxProfile's 11 → 16 A step, both capped at 10 A
    merged = [p for i, p in enumerate(split) if i == 0 or p[1] != split[i - 1][1]]
    assert merged == TC066_EXPECTED  # same limits, only not merged


def accepts_unknown_transaction() -> None:
    good, bad = pair(StationConfig(), F.ACCEPTS_UNKNOWN_TRANSACTION)
    for s in (good, bad):
        s.run(10)
    wrong = profile(10, Purpose.TX, [(0, 10)], transaction_id="not-running")
    refused = good.core.set_charging_profile(1, wrong, now=good.now)
    assert isinstance(refused, Rejected)
    assert refused.clause == "K01.FR.33"
    assert isinstance(bad.core.set_charging_profile(1, wrong, now=bad.now), Accepted)
    for s in (good, bad):
        s.run(20)
    assert good.current_a() == pytest.approx((16.0,) * 3)
    assert bad.current_a() == pytest.approx((10.0,) * 3)  # applied to the running transaction


def too_many_decimals() -> None:
    config = StationConfig(ocpp_version=OcppVersion.V16)
    good, bad = pair(config, F.TOO_MANY_DECIMALS)
    for s in (good, bad):
        s.core.set_charging_profile(1, tx_profile(s.tx, 5000, unit=RateUnit.W), now=s.now)
    assert composite(good.core).steps[0].limit == Decimal("7.2")
    payload = accepted_payload(composite(bad.core), OcppVersion.V16)
    assert payload["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 7.246376811594203


def ignores_phase_switch() -> None:
    config = StationConfig(phase_switching=True)
    good, bad = pair(config, F.IGNORES_PHASE_SWITCH, archetype="bev_3ph_32a")
    for s in (good, bad):
        s.run(20)
        assert s.current_a() == pytest.approx((32.0,) * 3)
        s.core.set_charging_profile(1, tx_profile(s.tx, 16, phases=1), now=s.now)
        s.run(30)
    assert good.core.pilot_offer(1).energized_phases == 1
    assert good.current_a() == pytest.approx((16.0, 0.0, 0.0))
    assert bad.core.pilot_offer(1).energized_phases == 3
    assert bad.current_a() == pytest.approx((16.0, 16.0, 16.0))
    assert bad.core.meter(1).phases_in_use == 3


def crashes_on_malformed() -> None:
    import asyncio

    from harness.transport import TransportClosed, memory_pair
    from harness.transport.base import OcppSubprotocol
    from simulators.station.crash import CrashOnMalformed

    async def demo() -> None:
        station_end, csms_end = memory_pair("CP", OcppSubprotocol.V16)
        station = CrashOnMalformed(station_end)
        await csms_end.send('[2,"1","Heartbeat",{}]')  # well-formed (wrong direction, but a
        assert await station.recv() == '[2,"1","Heartbeat",{}]'  # parser does not crash)
        await csms_end.send('[2,"2","ChangeConfiguration",{"key":7,"value":"1"}]')
        with pytest.raises(TransportClosed) as crash:
            await station.recv()
        assert crash.value.code == 1011
        assert "type" in crash.value.reason
        assert csms_end.closed
        with pytest.raises(TransportClosed):
            await csms_end.recv()

    asyncio.run(demo())


def setpoint_profile(tx: StationTransaction, setpoint_w: int) -> Any:
    """A 2.1 CentralSetpoint TxProfile in W (discharge limit 11 kW)."""
    return profile(
        30, Purpose.TX, [(0, 11040)], unit=RateUnit.W, transaction_id=tx.transaction_id,
        operation_mode=OperationMode.CENTRAL_SETPOINT, setpoint=Decimal(setpoint_w),
        discharge_limit=Decimal(-11000),
    )  # fmt: skip


def never_discharges() -> None:
    config = StationConfig(ocpp_version=OcppVersion.V21)
    good, bad = pair(config, F.NEVER_DISCHARGES, archetype="bev_bidirectional")
    for s in (good, bad):
        assert isinstance(
            s.core.set_charging_profile(1, setpoint_profile(s.tx, -3680), now=s.now), Accepted
        )
        s.run(30)
    assert good.core.discharge_request(1) == 3680.0
    assert good.core.meter(1).power_export_w == pytest.approx(3680.0, rel=0.01)
    assert bad.core.discharge_request(1) == 0.0
    assert bad.core.meter(1).power_export_w == 0.0
    assert bad.core.meter(1).power_import_w == 0.0  # it idles: the setpoint's 0 A applies


def ignores_allowed_energy_transfer() -> None:
    def allowed_after_ac_only(fault: F | None) -> bool:
        faults = frozenset({fault}) if fault else frozenset()
        config = StationConfig(ocpp_version=OcppVersion.V21, faults=faults)
        station = SimulatedStation(config, clock=ManualClock(start=T0))
        station.core.plug_in(1, T0)
        tx = station.core.start_transaction(1, id_token="TAG", now=T0)
        assert isinstance(tx, StationTransaction)
        assert station.adapter.discharge_allowed(1)  # nothing restricted yet
        payload = {"transactionId": tx.transaction_id, "allowedEnergyTransfer": ["AC_three_phase"]}
        call = CallReceived(
            Call("1", "NotifyAllowedEnergyTransfer", payload), "", T0, OcppVersion.V21
        )
        answer = asyncio.run(station.adapter.handlers["NotifyAllowedEnergyTransfer"](call))
        assert answer == {"status": "Accepted"}
        return station.adapter.discharge_allowed(1)

    assert allowed_after_ac_only(None) is False
    assert allowed_after_ac_only(F.IGNORES_ALLOWED_ENERGY_TRANSFER) is True


def accepts_invalid_v2x_profile() -> None:
    config = StationConfig(ocpp_version=OcppVersion.V21)
    good, bad = pair(config, F.ACCEPTS_INVALID_V2X_PROFILE, archetype="bev_bidirectional")
    # ChargingOnly with a setpoint: the 2.1 mode rules reject it
    invalid = profile(
        31, Purpose.TX, [(0, 6900)], unit=RateUnit.W, transaction_id=good.tx.transaction_id,
        operation_mode=OperationMode.CHARGING_ONLY, setpoint=Decimal(3000),
    )  # fmt: skip
    refused = good.core.set_charging_profile(1, invalid, now=good.now)
    assert isinstance(refused, Rejected)
    assert refused.rule == "mode-fields"
    invalid = replace(invalid, transaction_id=bad.tx.transaction_id)
    assert isinstance(bad.core.set_charging_profile(1, invalid, now=bad.now), Accepted)
    bad.run(30)
    assert bad.current_a() == pytest.approx((10.0,) * 3)  # applied as 6900 W of charging
    # other rules still hold: a TxProfile for another transaction stays Rejected
    other = replace(invalid, profile_id=32, transaction_id="not-running")
    assert isinstance(bad.core.set_charging_profile(1, other, now=bad.now), Rejected)


def _handle(station: SimulatedStation, action: str, payload: dict[str, Any]) -> Any:
    """The 1.6 adapter's answer to ``action`` (as if the CSMS had sent it)."""
    call = CallReceived(Call("1", action, payload), "", T0, OcppVersion.V16)
    return asyncio.run(station.adapter.handlers[action](call))


def _station16(fault: F | None) -> SimulatedStation:
    faults = frozenset({fault}) if fault else frozenset()
    config = StationConfig(ocpp_version=OcppVersion.V16, faults=faults)
    return SimulatedStation(config, clock=ManualClock(start=T0))


def smart_charging_not_implemented() -> None:
    smart = {"SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule"}
    good = _station16(None)._handlers()
    bad = _station16(F.SMART_CHARGING_NOT_IMPLEMENTED)._handlers()
    assert smart <= set(good)
    assert not smart & set(bad)  # the connection answers them CALLERROR NotImplemented
    assert "RemoteStartTransaction" in bad  # the rest is there


def clear_always_accepted() -> None:
    def answer(fault: F | None) -> Any:
        return _handle(_station16(fault), "ClearChargingProfile", {"id": 999})

    assert answer(None) == {"status": "Unknown"}  # nothing installed matches
    assert answer(F.CLEAR_ALWAYS_ACCEPTED) == {"status": "Accepted"}


def accepts_start_when_busy() -> None:
    def second_start(fault: F | None) -> tuple[Any, str]:
        station = _station16(fault)
        station.core.plug_in(1, T0)
        tx = station.core.start_transaction(1, id_token="TAG", now=T0)
        assert isinstance(tx, StationTransaction)
        answer = _handle(station, "RemoteStartTransaction", {"connectorId": 1, "idTag": "B"})
        running = station.core.transaction(1)
        assert running is not None
        return answer, running.transaction_id

    good, good_tx = second_start(None)
    bad, bad_tx = second_start(F.ACCEPTS_START_WHEN_BUSY)
    assert good == {"status": "Rejected"}
    assert bad == {"status": "Accepted"}
    assert bad_tx == good_tx  # nothing happened: the first transaction still runs


def rounds_limit() -> None:
    good, bad = pair(StationConfig(), F.ROUNDS_LIMIT)
    offered = []
    for s in (good, bad):
        s.run(20)
        s.core.set_charging_profile(1, tx_profile(s.tx, 6.5), now=s.now)
        s.run(20)
        offered.append(s.core.meter(1).current_offered_a)
    assert offered == [6.5, 7.0]  # more than the limit it accepted
    assert bad.current_a() == pytest.approx((7.0, 7.0, 7.0))


def ignores_below_minimum() -> None:
    good, bad = pair(StationConfig(), F.IGNORES_BELOW_MINIMUM)
    for s in (good, bad):
        s.run(20)
        s.core.set_charging_profile(1, tx_profile(s.tx, 3), now=s.now)
        s.run(20)
    assert good.current_a() == (0.0, 0.0, 0.0)  # the default policy pauses below 6 A
    assert bad.current_a() == pytest.approx((16.0, 16.0, 16.0))  # the old current stays
    for s in (good, bad):  # 0 A still pauses
        s.core.set_charging_profile(1, tx_profile(s.tx, 0), now=s.now)
        s.run(20)
        assert s.current_a() == (0.0, 0.0, 0.0)


def reports_suspended_evse_for_ev() -> None:
    good, bad = pair(StationConfig(), F.REPORTS_SUSPENDED_EVSE_FOR_EV, soc_percent=100)
    for s in (good, bad):
        s.run(20)  # the station offers its maximum; the full vehicle draws nothing
        assert s.current_a() == (0.0, 0.0, 0.0)
    assert good.core.state(1) is ConnectorState.SUSPENDED_EV
    assert bad.core.state(1) is ConnectorState.SUSPENDED_EVSE


def no_schedule_renegotiation() -> None:
    config = StationConfig(ocpp_version=OcppVersion.V201)
    good, bad = pair(config, F.NO_SCHEDULE_RENEGOTIATION, archetype="bev_iso15118")
    for s in (good, bad):
        s.core.set_high_level_communication(1, on=True, now=s.now)
        s.run(20)
        assert s.core.pilot_offer(1).duty_percent == 5.0  # the ISO 15118 digital band
        s.core.set_charging_profile(1, tx_profile(s.tx, 10), now=s.now)
        s.run(20)
    assert good.current_a() == pytest.approx((10.0, 10.0, 10.0))
    assert bad.current_a() == pytest.approx((16.0, 16.0, 16.0))  # the first schedule stays


def _iso_station(fault: F | None) -> SimulatedStation:
    """A 2.0.1 station with an ISO 15118 vehicle charging on EVSE 1 (its needs queued)."""
    faults = frozenset({fault}) if fault else frozenset()
    config = StationConfig(ocpp_version=OcppVersion.V201, faults=faults)
    station = SimulatedStation(config, clock=ManualClock(start=T0))
    asyncio.run(station.plug_in(1, vehicle("bev_iso15118")))
    assert isinstance(station.core.start_transaction(1, id_token="T", now=T0), StationTransaction)
    station._step()
    return station


def _queued(station: SimulatedStation) -> list[Any]:
    """The station → CSMS CALLs waiting to be sent (a test reaches into the queue)."""
    return list(station._queue._queue)  # type: ignore[attr-defined]


def _answer(item: Any, payload: dict[str, Any]) -> None:
    call = Call("1", item.action, item.build())
    result = ResultReceived(call, CallResult("1", payload), "", T0, OcppVersion.V201)
    item.on_result(result)


def no_charging_without_schedule() -> None:
    def after_rejection(fault: F | None) -> tuple[bool, float]:
        station = _iso_station(fault)
        (needs,) = [i for i in _queued(station) if i.action == "NotifyEVChargingNeeds"]
        assert station.core.awaiting_schedule(1)  # no energy before a schedule is agreed
        _answer(needs, {"status": "Rejected"})  # the CSMS has no schedule to offer
        clock = station.clock
        assert isinstance(clock, ManualClock)
        for _ in range(12):  # past the station's wait for a profile (30 s)
            clock.advance(10.0)
            station._step()
        link = station.vehicle(1)
        assert link is not None
        assert link.latest is not None
        return station.core.awaiting_schedule(1), link.latest.current_a[0]

    waiting, current = after_rejection(None)
    assert not waiting
    assert current > 6.0  # it goes on with its own limits
    waiting, current = after_rejection(F.NO_CHARGING_WITHOUT_SCHEDULE)
    assert waiting
    assert current == 0.0  # the vehicle waits for ever


def ignores_ev_renegotiation() -> None:
    def needs_sent(fault: F | None) -> int:
        station = _iso_station(fault)
        assert asyncio.run(station.renegotiate(1))
        return [i.action for i in _queued(station)].count("NotifyEVChargingNeeds")

    assert needs_sent(None) == 2  # at the start, and the renegotiated needs
    assert needs_sent(F.IGNORES_EV_RENEGOTIATION) == 1  # the renegotiation went nowhere


def forgets_profiles_on_reset() -> None:
    def after_reboot(fault: F | None) -> int:
        faults = frozenset({fault}) if fault else frozenset()
        config = StationConfig(ocpp_version=OcppVersion.V201, faults=faults)
        memory = StationMemory()
        first = SimulatedStation(config, clock=ManualClock(start=T0), memory=memory)
        payload = {"evseId": 1, "chargingProfile": default_profile_201(6.0)}
        call = CallReceived(Call("1", "SetChargingProfile", payload), "", T0, OcppVersion.V201)
        answer = asyncio.run(first.adapter.handlers["SetChargingProfile"](call))
        assert answer == {"status": "Accepted"}
        # the station that boots after the reboot reads the same memory (its flash)
        again = SimulatedStation(config, clock=ManualClock(start=T0), memory=memory)
        return len(again.core.installed_profiles)

    assert after_reboot(None) == 1  # K01: the TxDefaultProfile persists
    assert after_reboot(F.FORGETS_PROFILES_ON_RESET) == 0


def _offline_events(fault: F | None) -> list[dict[str, Any]]:
    """The TransactionEvents of a time offline that reach the CSMS once back."""
    from tests.simulators.station.test_offline import _offline_session

    _, after = asyncio.run(_offline_session(fault))
    events = [p for a, p in after if a == "TransactionEvent"]
    return [e for e in events if e["eventType"] == "Started" or e.get("offline")]


def drops_offline_events() -> None:
    assert _offline_events(None)  # queued offline, sent once back
    assert _offline_events(F.DROPS_OFFLINE_EVENTS) == []


def no_offline_flag() -> None:
    assert all(e.get("offline") is True for e in _offline_events(None))
    unmarked = _offline_events(F.NO_OFFLINE_FLAG)
    assert unmarked  # the Started event of the offline time comes, but unmarked
    assert all("offline" not in e for e in unmarked)


def default_profile_201(limit_a: float) -> dict[str, Any]:
    """A 2.0.1 TxDefaultProfile of ``limit_a`` from T0 for a day (as a CSMS sends it)."""
    return {
        "id": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 7,
                "startSchedule": "2024-03-04T12:00:00Z",  # T0
                "duration": 86400,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
            }
        ],
    }


DEMONSTRATIONS: dict[F, Callable[[], None]] = {
    F.ACCEPTS_BUT_IGNORES: accepts_but_ignores,
    F.LATE_APPLY: late_apply,
    F.EMPTY_COMPOSITE: empty_composite,
    F.ENDLESS_COMPOSITE: endless_composite,
    F.UNIT_IGNORED: unit_ignored,
    F.REDUNDANT_PERIODS: redundant_periods,
    F.ACCEPTS_UNKNOWN_TRANSACTION: accepts_unknown_transaction,
    F.TOO_MANY_DECIMALS: too_many_decimals,
    F.IGNORES_PHASE_SWITCH: ignores_phase_switch,
    F.CRASHES_ON_MALFORMED: crashes_on_malformed,
    F.NEVER_DISCHARGES: never_discharges,
    F.IGNORES_ALLOWED_ENERGY_TRANSFER: ignores_allowed_energy_transfer,
    F.ACCEPTS_INVALID_V2X_PROFILE: accepts_invalid_v2x_profile,
    F.SMART_CHARGING_NOT_IMPLEMENTED: smart_charging_not_implemented,
    F.CLEAR_ALWAYS_ACCEPTED: clear_always_accepted,
    F.ACCEPTS_START_WHEN_BUSY: accepts_start_when_busy,
    F.ROUNDS_LIMIT: rounds_limit,
    F.IGNORES_BELOW_MINIMUM: ignores_below_minimum,
    F.REPORTS_SUSPENDED_EVSE_FOR_EV: reports_suspended_evse_for_ev,
    F.NO_SCHEDULE_RENEGOTIATION: no_schedule_renegotiation,
    F.NO_CHARGING_WITHOUT_SCHEDULE: no_charging_without_schedule,
    F.IGNORES_EV_RENEGOTIATION: ignores_ev_renegotiation,
    F.FORGETS_PROFILES_ON_RESET: forgets_profiles_on_reset,
    F.DROPS_OFFLINE_EVENTS: drops_offline_events,
    F.NO_OFFLINE_FLAG: no_offline_flag,
}


@pytest.mark.parametrize("fault", list(StationFault))
def test_fault_shows_its_behaviour(fault: F) -> None:
    assert fault in DEMONSTRATIONS, f"fault {fault} has no behaviour demonstration"
    DEMONSTRATIONS[fault]()


@pytest.mark.parametrize("fault", list(StationFault))
def test_fault_has_a_catalogue_entry_with_evidence(fault: F) -> None:
    entry = load_faults()[fault]
    assert entry.models.endswith(".")
    assert entry.evidence


def test_empty_composite_without_profiles_still_answers_the_maximum() -> None:
    core = StationCore(StationConfig(faults=frozenset({F.EMPTY_COMPOSITE})), now=T0)
    assert periods(composite(core)) == [(0, 32.0)]


def test_composite_refusals() -> None:
    core = StationCore(StationConfig(supported_units=frozenset({RateUnit.A})), now=T0)
    refused = core.composite_schedule(1, start=T0, duration_s=60, unit=RateUnit.W)
    assert not isinstance(refused, Composite)
    assert refused.reason_code == "UnsupportedRateUnit"
    unknown = core.composite_schedule(7, start=T0, duration_s=60, unit=RateUnit.A)
    assert not isinstance(unknown, Composite)
    assert unknown.reason_code == "UnknownEvse"
    assert composite(core, unit=None).unit is RateUnit.A


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faults: {nope: {models: x., evidence: [y]}}", "fault 'nope': expected one of"),
        ("faults: {late_apply: {models: x., evidence: []}}", "evidence: expected a non-empty list"),
        ("faults: {late_apply: {models: '', evidence: [y]}}", "models: expected a sentence"),
        ("faults: {late_apply: {models: x., evidence: [y], why: z}}", "unknown field 'why'"),
        ("faults: {late_apply: {models: x., evidence: [y]}}", "no entry for fault"),
        ("faults: [", "not valid YAML"),
        ("- a", "expected a top-level mapping"),
    ],
)
def test_catalogue_errors_name_the_file_and_entry(text: str, message: str) -> None:
    with pytest.raises(FaultCatalogueError, match=message) as info:
        load_faults(text, source="mine.yaml")
    assert str(info.value).startswith("mine.yaml")
