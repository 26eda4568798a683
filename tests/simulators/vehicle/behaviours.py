"""One demonstration per catalogue behaviour: drive the archetype, assert what it claims.

Each check raises ``AssertionError`` when the archetype does not behave as claimed. The
well-behaved check runs the vehicle programme's cases in miniature (VP-02, VP-05, VP-07,
VP-08, VP-09, VP-10), so a misbehaving archetype must fail it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import pytest

from simulators.iec61851 import PilotState
from simulators.vehicle import (
    Archetype,
    Behaviour,
    IdleReason,
    PilotLine,
    PilotOffer,
    Vehicle,
    VehicleKind,
)
from tests.simulators.vehicle.drive import (
    PAUSE,
    drawing,
    draws_at,
    interrupt,
    offer,
    run,
    seconds_until,
)

SIX_HOURS_S = 6 * 3600.0
QUARTER_S = 15 * 60.0


def plugged(
    archetype: Archetype, limit_a: float | None, *, phases: int = 3, seed: int = 0
) -> Vehicle:
    """A fresh vehicle at 10 % SoC (randomness seeded), plugged into a station at ``limit_a``."""
    vehicle = Vehicle(archetype.params, soc_percent=10.0, rng=random.Random(seed))
    vehicle.set_pilot(offer(limit_a, phases=phases))
    vehicle.plug_in()
    return vehicle


def settles(vehicle: Vehicle, limit_a: float, *, within_s: float = 30.0) -> bool:
    """VP-01/VP-02 'settled': every phase within 1 A of min(limit, vehicle max), held 10 s."""
    p = vehicle.params
    expected = min(limit_a, p.max_current_a)
    condition = draws_at(expected, phases=p.phases)
    return seconds_until(vehicle, condition, within_s=within_s, hold_s=10.0) is not None


def resumes(vehicle: Vehicle, *, within_s: float = 60.0) -> bool:
    """VP-04: drawing (≥ 5 A) again within ``within_s``."""
    return seconds_until(vehicle, drawing, within_s=within_s) is not None


def check_well_behaved(archetype: Archetype, *, seed: int = 0) -> None:
    p = archetype.params
    # VP-02 step up: start at 6 A, then 10 A, then 16 A
    vehicle = plugged(archetype, 6.0, seed=seed)
    for limit in (6.0, 10.0, 16.0):
        vehicle.set_pilot(offer(limit))
        assert settles(vehicle, limit), f"did not settle at {limit} A within 30 s"
    # VP-08 fluctuating: every 15 min through 16, 8, 12, 6, 16, 10 A
    for limit in (16.0, 8.0, 12.0, 6.0, 16.0, 10.0):
        vehicle.set_pilot(offer(limit))
        assert settles(vehicle, limit), f"fluctuating: did not settle at {limit} A"
        run(vehicle, QUARTER_S, dt_s=30.0)
        assert draws_at(min(limit, p.max_current_a), phases=p.phases)(vehicle.reading())
    # VP-09 intermittent: 0 A / 16 A every 15 min, 4 cycles
    for cycle in range(4):
        vehicle.set_pilot(offer(PAUSE))
        run(vehicle, QUARTER_S, dt_s=30.0)
        vehicle.set_pilot(offer(16.0))
        assert resumes(vehicle), f"intermittent: no resume in cycle {cycle + 1}"
        run(vehicle, QUARTER_S, dt_s=30.0)
    # VP-05 long pause
    vehicle = plugged(archetype, 16.0, seed=seed)
    run(vehicle, 600)
    vehicle.set_pilot(offer(PAUSE))
    run(vehicle, SIX_HOURS_S, dt_s=60.0)
    vehicle.set_pilot(offer(16.0))
    assert resumes(vehicle), "did not resume after a 6 h pause"
    # VP-07 long delayed start
    vehicle = plugged(archetype, PAUSE, seed=seed)
    run(vehicle, SIX_HOURS_S, dt_s=60.0)
    vehicle.set_pilot(offer(16.0))
    assert resumes(vehicle), "did not start after a 6 h delay"
    # VP-10 phase switch: three → one → three (one-phase vehicles stay on L1 throughout)
    vehicle = plugged(archetype, 16.0, seed=seed)
    run(vehicle, 60)
    vehicle.set_pilot(offer(16.0, phases=1))
    on_one = draws_at(16.0, phases=1)
    assert seconds_until(vehicle, on_one, within_s=60, hold_s=10.0) is not None
    vehicle.set_pilot(offer(16.0, phases=3))
    assert settles(vehicle, 16.0, within_s=60.0), "did not return to its phases"


def check_sleeps_after_pause(archetype: Archetype) -> None:
    p = archetype.params
    assert p.sleep_after_pause_s is not None
    assert p.sleep_after_pause_s < SIX_HOURS_S
    # a pause shorter than its threshold: resumes
    vehicle = plugged(archetype, 16.0)
    run(vehicle, 600)
    vehicle.set_pilot(offer(PAUSE))
    run(vehicle, p.sleep_after_pause_s / 2)
    vehicle.set_pilot(offer(16.0))
    assert resumes(vehicle), "did not resume after a pause shorter than its threshold"
    # a 6 h pause: stays asleep when current returns
    vehicle.set_pilot(offer(PAUSE))
    run(vehicle, SIX_HOURS_S, dt_s=60.0)
    vehicle.set_pilot(offer(16.0))
    assert not resumes(vehicle, within_s=600.0), "resumed after a 6 h pause"
    reading = vehicle.reading()
    assert not reading.awake
    assert reading.idle_reason is IdleReason.ASLEEP
    assert reading.pilot_state is PilotState.B
    # a too-short interruption does not wake it; one of wake_interrupt_s does (if it wakes
    # on interruptions at all)
    interrupt(vehicle, seconds=p.wake_interrupt_s / 2, then=offer(16.0))
    assert not resumes(vehicle, within_s=60.0), "woke on a too-short interruption"
    if not p.wakes_on_interrupt:
        interrupt(vehicle, seconds=p.wake_interrupt_s * 2, then=offer(16.0))
        assert not resumes(vehicle, within_s=60.0), "woke on an interruption"
    # a pilot toggle (PWM off for 3 s, then on) wakes only a vehicle that claims it
    vehicle.set_pilot(offer(PAUSE))
    run(vehicle, 3.0)
    vehicle.set_pilot(offer(16.0))
    if p.wakes_on_pilot_toggle:
        assert resumes(vehicle), "did not wake after a pilot toggle"
    else:
        assert not resumes(vehicle, within_s=60.0), "woke on a pilot toggle"
    if p.wakes_on_interrupt:
        interrupt(vehicle, seconds=p.wake_interrupt_s, then=offer(16.0))
        assert resumes(vehicle), "did not wake after a pilot interruption"
    # unplugging and replugging wakes it as well
    vehicle.set_pilot(offer(PAUSE))
    run(vehicle, SIX_HOURS_S, dt_s=60.0)
    vehicle.unplug()
    vehicle.set_pilot(offer(16.0))
    vehicle.plug_in()
    assert resumes(vehicle), "did not start after a replug"


def check_delayed_start_fails(archetype: Archetype) -> None:
    p = archetype.params
    assert p.start_deadline_s is not None
    vehicle = plugged(archetype, PAUSE)
    run(vehicle, SIX_HOURS_S, dt_s=60.0)
    vehicle.set_pilot(offer(16.0))
    assert not resumes(vehicle, within_s=600.0), "started after a 6 h delay"
    assert vehicle.reading().idle_reason is IdleReason.START_DEADLINE_MISSED
    vehicle.unplug()
    vehicle.plug_in()
    assert resumes(vehicle), "did not start after a replug"
    vehicle = plugged(archetype, PAUSE)
    run(vehicle, p.start_deadline_s / 2)
    vehicle.set_pilot(offer(16.0))
    assert resumes(vehicle), "did not start when current came within its deadline"


def check_needs_start_current(archetype: Archetype) -> None:
    p = archetype.params
    assert p.start_current_a > 6.0
    vehicle = plugged(archetype, 6.0)
    reading = run(vehicle, 300)
    assert not drawing(reading), "started at 6 A"
    assert reading.idle_reason is IdleReason.BELOW_START_CURRENT
    assert reading.pilot_state is PilotState.B
    vehicle.set_pilot(offer(8.0))
    assert settles(vehicle, 8.0), "did not start at 8 A"
    vehicle.set_pilot(offer(6.0))
    assert settles(vehicle, 6.0), "once running, did not continue at 6 A"


def check_stays_on_one_phase(archetype: Archetype) -> None:
    assert archetype.params.phases == 3
    vehicle = plugged(archetype, 16.0)
    assert settles(vehicle, 16.0)
    vehicle.set_pilot(offer(16.0, phases=1))
    on_one = draws_at(16.0, phases=1)
    assert seconds_until(vehicle, on_one, within_s=30, hold_s=10.0) is not None
    vehicle.set_pilot(offer(16.0, phases=3))
    reading = run(vehicle, 600)
    assert draws_at(16.0, phases=1)(reading), "returned to three phases by itself"
    interrupt(vehicle, seconds=archetype.params.wake_interrupt_s, then=offer(16.0, phases=3))
    assert settles(vehicle, 16.0, within_s=60.0), "no three phases after an on/off cycle"


def check_slow_ramp(archetype: Archetype) -> None:
    vehicle = plugged(archetype, 6.0)
    assert settles(vehicle, 6.0, within_s=120.0)
    run(vehicle, 60)
    vehicle.set_pilot(offer(16.0))
    took = seconds_until(vehicle, draws_at(16.0, phases=archetype.params.phases), within_s=300)
    assert took is not None, "never reached the higher limit"
    assert 20.0 <= took <= 120.0, f"reached the higher limit in {took} s, not tens of seconds"


def check_one_phase_hybrid(archetype: Archetype) -> None:
    p = archetype.params
    assert p.kind is VehicleKind.PHEV
    assert p.battery_capacity_wh <= 20_000
    vehicle = plugged(archetype, 32.0, phases=3)
    reading = run(vehicle, 120)
    assert reading.current_a[1:] == (0.0, 0.0), "drew on L2/L3"
    assert 0 < reading.current_a[0] <= 16.0
    assert reading.power_w <= 230.0 * 16.0 + 1e-6


def check_gives_up_after_changes(archetype: Archetype) -> None:
    limit = archetype.params.gives_up_after_changes
    assert limit is not None
    vehicle = plugged(archetype, 16.0)
    assert settles(vehicle, 16.0)
    for change in range(1, limit):
        level = 8.0 if change % 2 else 16.0
        vehicle.set_pilot(offer(level))
        assert settles(vehicle, level), f"did not follow change {change}"
    vehicle.set_pilot(offer(8.0 if limit % 2 else 16.0))
    assert not drawing(run(vehicle, 30)), f"still drawing after change {limit}"
    assert not resumes(vehicle, within_s=600.0), f"still following after change {limit}"
    assert vehicle.reading().idle_reason is IdleReason.GAVE_UP
    interrupt(vehicle, seconds=archetype.params.wake_interrupt_s, then=offer(16.0))
    assert settles(vehicle, 16.0, within_s=60.0), "did not recover after an interruption"


def check_bidirectional(archetype: Archetype) -> None:
    p = archetype.params
    assert p.bidirectional
    vehicle = Vehicle(p, soc_percent=80.0, rng=random.Random(0))
    vehicle.set_pilot(PilotOffer(duty_percent=5.0, hlc_current_a=16.0, line=PilotLine.NORMAL))
    vehicle.plug_in()
    run(vehicle, 60)
    refused = vehicle.set_discharge(power_w=p.max_discharge_power_w + 1)
    assert not refused.accepted
    assert vehicle.set_discharge(power_w=3680.0).accepted
    reading = run(vehicle, 60)
    assert abs(reading.power_w + 3680.0) <= 0.05 * 3680.0, f"exports {reading.power_w} W"
    assert all(c < 0 for c in reading.current_a[: p.phases])
    exported = reading.energy_exported_wh
    reading = run(vehicle, 600)
    assert reading.energy_exported_wh - exported == pytest.approx(3680.0 / 6, rel=0.01)
    assert vehicle.set_discharge(power_w=0.0).accepted
    assert draws_at(16.0, phases=p.phases)(run(vehicle, 60)), "no import after discharge"
    # at its minimum state of charge it stops exporting
    low = Vehicle(p, soc_percent=p.min_soc_percent + 0.5, rng=random.Random(0))
    low.set_pilot(PilotOffer(duty_percent=5.0, hlc_current_a=16.0))
    low.plug_in()
    assert low.set_discharge(power_w=p.max_discharge_power_w).accepted
    reading = run(low, 3600, dt_s=10.0)
    assert reading.current_a == (0.0, 0.0, 0.0)
    assert reading.idle_reason is IdleReason.MIN_SOC
    assert abs(reading.soc_percent - p.min_soc_percent) < 0.01
    assert not low.set_discharge(power_w=1000.0).accepted


def check_unreliable_resume(archetype: Archetype) -> None:
    p = archetype.params
    assert 0 < p.resume_failure_probability < 1
    cycles = 60

    def outcomes(seed: int) -> list[bool]:
        vehicle = plugged(archetype, 16.0, seed=seed)
        resumed: list[bool] = []
        for _ in range(cycles):
            run(vehicle, 300, dt_s=60.0)
            vehicle.set_pilot(offer(PAUSE))
            run(vehicle, 20 * 60, dt_s=60.0)
            vehicle.set_pilot(offer(16.0))
            resumed.append(resumes(vehicle))
            if not resumed[-1]:
                assert vehicle.reading().idle_reason is IdleReason.ASLEEP
                interrupt(vehicle, seconds=p.wake_interrupt_s, then=offer(16.0))
                assert resumes(vehicle), "did not wake after a pilot interruption"
        return resumed

    first = outcomes(1)
    assert first == outcomes(1), "same seed, different outcomes"
    rate = first.count(False) / cycles
    expected = p.resume_failure_probability
    assert expected / 2 <= rate <= expected * 2, f"failed to resume in {rate:.0%} of pauses"


CHECKS: Mapping[Behaviour, Callable[[Archetype], None]] = {
    Behaviour.WELL_BEHAVED: check_well_behaved,
    Behaviour.SLEEPS_AFTER_PAUSE: check_sleeps_after_pause,
    Behaviour.DELAYED_START_FAILS: check_delayed_start_fails,
    Behaviour.NEEDS_START_CURRENT: check_needs_start_current,
    Behaviour.STAYS_ON_ONE_PHASE: check_stays_on_one_phase,
    Behaviour.SLOW_RAMP: check_slow_ramp,
    Behaviour.ONE_PHASE_HYBRID: check_one_phase_hybrid,
    Behaviour.GIVES_UP_AFTER_CHANGES: check_gives_up_after_changes,
    Behaviour.BIDIRECTIONAL: check_bidirectional,
    Behaviour.UNRELIABLE_RESUME: check_unreliable_resume,
}
