"""The station's wake-up escalation (pilot toggle, state F) against the sleeping archetypes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulators.station import StationConfig
from simulators.station.wakeup import WakeUpMethod
from tests.simulators.station.helpers import T0, Session, tx_profile

ESCALATION = StationConfig(
    wake_up=(WakeUpMethod.PILOT_TOGGLE, WakeUpMethod.STATE_F), wake_up_after_s=30.0
)


def _after_long_pause(config: StationConfig, archetype: str) -> Session:
    """Charging at 16 A, a 40 min pause at 0 A (the archetypes sleep after 30 min), then 16 A
    again and 3 min for the station to try its wake-ups."""
    s = Session.start(config, archetype=archetype)
    s.core.set_charging_profile(1, tx_profile(s.tx, 16), now=s.now)
    s.run(20)
    assert s.current_a() == pytest.approx((16.0, 16.0, 16.0))
    s.core.set_charging_profile(1, tx_profile(s.tx, 0), now=s.now)
    s.run(40 * 60, dt_s=5.0)
    s.core.set_charging_profile(1, tx_profile(s.tx, 16), now=s.now)
    s.run(180)
    return s


@pytest.mark.parametrize(
    ("archetype", "woken_by", "tried"),
    [
        ("bev_3ph_16a", None, ()),  # resumes by itself: the station tries nothing
        ("needs_pilot_toggle_to_wake", WakeUpMethod.PILOT_TOGGLE, ("pilot_toggle",)),
        ("sleeps_after_long_pause", WakeUpMethod.STATE_F, ("pilot_toggle", "state_f")),
    ],
)
def test_the_escalation_records_what_woke_the_vehicle(
    archetype: str, woken_by: WakeUpMethod | None, tried: tuple[str, ...]
) -> None:
    s = _after_long_pause(ESCALATION, archetype)
    assert s.current_a() == pytest.approx((16.0, 16.0, 16.0))
    episode = s.core.wake_up_episode(1, since=T0)
    if woken_by is None:
        assert episode is None
        return
    assert episode is not None
    assert episode.woken_by is woken_by
    assert tuple(str(m) for m, _ in episode.tried) == tried


def test_a_vehicle_that_needs_an_unplug_stays_asleep_through_every_method() -> None:
    s = _after_long_pause(ESCALATION, "never_wakes_without_unplug")
    assert s.current_a() == (0.0, 0.0, 0.0)
    episode = s.core.wake_up_episode(1, since=T0)
    assert episode is not None
    assert episode.woken_by is None
    assert [m for m, _ in episode.tried] == [WakeUpMethod.PILOT_TOGGLE, WakeUpMethod.STATE_F]


def test_a_station_without_wake_up_leaves_a_sleeping_vehicle_asleep() -> None:
    s = _after_long_pause(replace(ESCALATION, wake_up=()), "needs_pilot_toggle_to_wake")
    assert s.current_a() == (0.0, 0.0, 0.0)
    assert s.core.wake_up_episode(1, since=T0) is None


def test_state_f_alone_does_not_wake_a_vehicle_that_needs_a_toggle() -> None:
    config = replace(ESCALATION, wake_up=(WakeUpMethod.STATE_F,))
    s = _after_long_pause(config, "needs_pilot_toggle_to_wake")
    assert s.current_a() == (0.0, 0.0, 0.0)


def test_bad_wake_up_configuration_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"StationConfig\.wake_up: expected methods among"):
        StationConfig(wake_up=("knock",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wake_up_after_s: expected a duration > 0 s"):
        StationConfig(wake_up_after_s=0)
