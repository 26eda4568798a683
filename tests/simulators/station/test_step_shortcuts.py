"""The shortcuts of the simulation's per-sample path give what the long way gives.

Each test pins one shortcut against the computation it replaces: the station loop's skipped
second step (a step at the instant its catch-up just stepped to changes nothing), the EVSE's
reused pilot offer, ``iso()``, ``duty_band``'s first test, ``LoopClock.now()`` computed
once per loop instant, and the harness's meter-sample parsing and series grouping.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from harness.clock import LoopClock, run_virtual
from harness.runner.observations import MeterSample, ObservationLog, meter_samples
from simulators.iec61851 import BelowMinimumPolicy, DutyBand, duty_band
from simulators.station import StationConfig
from simulators.station.adapters.common import iso
from simulators.station.evse import Evse
from simulators.station.limits import AppliedLimit, pilot_for
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import PilotLine


def _iso_reference(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def test_iso_is_the_strftime_text_for_any_instant() -> None:
    rng = random.Random(7)
    base = datetime(2026, 12, 8, tzinfo=UTC)
    instants = [datetime(999, 1, 1, tzinfo=UTC), datetime(1, 1, 1), datetime(9999, 12, 31)]
    for _ in range(5000):
        moment = base + timedelta(seconds=rng.uniform(-1e9, 1e9))
        moment = moment.replace(microsecond=rng.choice([0, 999, 1000, 999_999, 123_456]))
        if rng.random() < 0.2:
            moment = moment.astimezone(timezone(timedelta(hours=rng.randrange(-12, 13))))
        instants.append(moment)
    for moment in instants:
        assert iso(moment) == _iso_reference(moment)
        assert iso(moment) == _iso_reference(moment)  # the remembered text of that instant


def test_iso_tells_equal_instants_in_other_zones_apart() -> None:
    utc = datetime(2026, 1, 1, 12, tzinfo=UTC)
    same_instant = utc.astimezone(timezone(timedelta(hours=2)))
    assert utc == same_instant
    assert iso(utc) == "2026-01-01T12:00:00.000Z"
    assert iso(same_instant) == _iso_reference(same_instant)


@pytest.mark.parametrize(
    ("duty", "band"),
    [
        (0.0, DutyBand.FAULT),
        (2.999, DutyBand.FAULT),
        (3.0, DutyBand.DIGITAL),
        (7.0, DutyBand.DIGITAL),
        (7.5, DutyBand.NO_CHARGING),
        (8.0, DutyBand.CURRENT),
        (50.0, DutyBand.CURRENT),
        (97.0, DutyBand.CURRENT),
        (97.001, DutyBand.NO_CHARGING),
        (100.0, DutyBand.NO_CHARGING),
    ],
)
def test_duty_band_bounds(duty: float, band: DutyBand) -> None:
    assert duty_band(duty) is band


@pytest.mark.parametrize("duty", [-0.1, 100.1, float("nan"), float("inf")])
def test_duty_band_refuses_what_is_no_duty_cycle(duty: float) -> None:
    with pytest.raises(ValueError, match="duty cycle"):
        duty_band(duty)


def test_evse_pilot_offer_follows_limit_line_and_policy() -> None:
    config = StationConfig()
    evse = Evse(1, config, [])

    def expected() -> Any:
        line = PilotLine.NORMAL if evse.interrupted_until is None else evse.interruption
        return pilot_for(evse.applied, policy=evse.config.below_minimum, line=line)

    assert evse.pilot_offer() == expected()  # no limit: contactor open
    evse.applied = AppliedLimit(16.0, 3)
    first = evse.pilot_offer()
    assert first == expected()
    assert first.allowed_current_a == pytest.approx(16.0)
    evse.applied = AppliedLimit(10.0, 1)  # an equal-looking but new limit: recomputed
    assert evse.pilot_offer() == expected()
    assert evse.pilot_offer().allowed_current_a == pytest.approx(10.0)
    evse.applied = AppliedLimit(3.0, 3)  # below 6 A: the policy decides
    assert evse.pilot_offer().allowed_current_a is None  # pause
    evse.config = replace(config, below_minimum=BelowMinimumPolicy.KEEP_MINIMUM)
    assert evse.pilot_offer() == expected()
    assert evse.pilot_offer().allowed_current_a == pytest.approx(6.0)
    evse.interrupted_until = datetime(2030, 1, 1, tzinfo=UTC)
    evse.interruption = PilotLine.E
    assert evse.pilot_offer().line is PilotLine.E
    evse.interrupted_until = None
    assert evse.pilot_offer() == expected()
    assert evse.pilot_offer().line is PilotLine.NORMAL


def test_loop_clock_now_follows_virtual_time() -> None:
    async def main() -> list[tuple[datetime, datetime]]:
        start = datetime(2026, 12, 8, 1, 2, 3, 456_789, tzinfo=UTC)
        clock = LoopClock(start=start)
        seen = [(clock.now(), start)]
        for pause in (0.0, 0.0004, 1.5, 5.0, 3600.25, 0.000001):
            await asyncio.sleep(pause)
            seen.append((clock.now(), start + timedelta(seconds=clock.monotonic())))
            seen.append((clock.now(), start + timedelta(seconds=clock.monotonic())))
        return seen

    for got, wanted in run_virtual(main()):
        assert got == wanted


def test_a_step_at_the_instant_of_the_catch_up_changes_nothing() -> None:
    """What the station loop relies on when it skips its step after a catch-up step at the
    same instant: stepping again sends nothing, moves no deadline, changes no pilot."""

    async def main() -> None:
        clock = LoopClock(start=datetime(2026, 12, 8, 12, tzinfo=UTC))
        config = StationConfig(meter_interval_s=5, wake_up_after_s=30.0)
        station = SimulatedStation(config, clock=clock)
        await station.plug_in(1)
        station.core.start_transaction(1, id_token="TAG", now=clock.now())
        station._step()
        queued_at_start = station._queue.qsize()
        for _ in range(40):
            deadline = station.core.next_deadline()
            assert deadline is not None
            await asyncio.sleep((deadline - clock.now()).total_seconds())
            caught_up = station._catch_up()
            assert caught_up is not None
            at, found = caught_up
            assert at == clock.now()
            queued = station._queue.qsize()
            vehicle = station.vehicle(1)
            assert vehicle is not None
            reading, offer = vehicle.latest, station.core.pilot_offer(1)
            station._step()
            assert station._queue.qsize() == queued
            assert vehicle.latest == reading
            assert station.core.pilot_offer(1) == offer
            assert found == (station.core.next_deadline(), station._next_boundary(clock.now()))
        assert station._queue.qsize() > queued_at_start  # the steps did send samples

    run_virtual(main())


def _series_reference(log: ObservationLog) -> list[tuple[str, list[tuple[datetime, float]]]]:
    wanted = [
        ("Current.Offered", None),
        *(("Current.Import", p) for p in ("L1", "L2", "L3")),
        *(("Current.Export", p) for p in ("L1", "L2", "L3")),
        ("Power.Active.Import", None),
        ("Power.Active.Export", None),
    ]
    out = []
    for measurand, phase in wanted:
        found = [
            (s.t, s.value) for s in log.samples if (s.measurand, s.phase) == (measurand, phase)
        ]
        if found:
            out.append((measurand, sorted(found, key=lambda p: p[0])))
    return out


def test_series_groups_samples_as_one_scan_per_series_did() -> None:
    rng = random.Random(3)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    log = ObservationLog()
    kinds = [
        ("Current.Offered", None),
        ("Current.Import", "L1"),
        ("Current.Import", "L3"),
        ("Current.Export", "L2"),
        ("Power.Active.Import", None),
        ("Energy.Active.Import.Register", None),
    ]
    for _ in range(400):
        measurand, phase = rng.choice(kinds)
        t = base + timedelta(seconds=rng.randrange(50))  # ties: the order must hold
        log.samples.append(MeterSample(t, 1, measurand, phase, rng.uniform(0, 32)))
    got = [(s.quantity, [(p.t, p.value) for p in s.samples]) for s in log.series()]
    wanted = _series_reference(log)
    assert [points for _, points in got] == [points for _, points in wanted]


def test_meter_samples_reads_units_phases_and_any_mapping() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    meter_value = [
        {
            "timestamp": "2026-01-01T00:00:01.000Z",
            "sampledValue": [
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                MappingProxyType({"value": 16.0, "measurand": "Current.Import", "phase": "L2-N"}),
                {
                    "value": 11.5,
                    "measurand": "Energy.Active.Import.Register",
                    "unitOfMeasure": {"unit": "kWh"},
                },
                {
                    "value": 230.0,
                    "measurand": "Voltage",
                    "unitOfMeasure": MappingProxyType({"unit": "V"}),
                },
                {"value": "NaN"},
                {"value": "x"},
                "not a sampled value",
            ],
        }
    ]
    rejected: list[tuple[int | None, str]] = []
    samples = meter_samples(meter_value, evse=2, at=at, frame=9, rejected=rejected)
    when = at + timedelta(seconds=1)
    assert samples == [
        MeterSample(when, 2, "Power.Active.Import", None, 7200.0, 9),
        MeterSample(when, 2, "Current.Import", "L2", 16.0, 9),
        MeterSample(when, 2, "Energy.Active.Import.Register", None, 11500.0, 9),
        MeterSample(when, 2, "Voltage", None, 230.0, 9),
    ]
    assert rejected == [(9, "Energy.Active.Import.Register value 'NaN'")]
