"""IEC 61851-1 pilot: duty-cycle table at its boundaries, the station's inverse, the state table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.iec61851 import (
    PILOT_MEANING,
    PILOT_VOLTAGE_V,
    VEHICLE_TRANSITIONS,
    BelowMinimumPolicy,
    DutyBand,
    PilotEvent,
    PilotState,
    PilotTransitionError,
    current_to_duty,
    duty_band,
    duty_for_limit,
    duty_to_current_a,
    next_vehicle_state,
    vehicle_state_diagram,
)


@pytest.mark.parametrize(
    ("duty", "expected_a"),
    [
        (0.0, None),
        (2.99, None),  # < 3 %: fault
        (3.0, None),  # 3–7 %: digital
        (5.0, None),
        (7.0, None),
        (7.01, None),  # 7–8 %: no charging
        (7.99, None),
        (8.0, 6.0),  # 8–10 %: 6 A
        (9.5, 6.0),
        (10.0, 6.0),  # 10–85 %: × 0.6
        (16.0 / 0.6, 16.0),
        (50.0, 30.0),
        (85.0, 51.0),
        (85.01, 52.525),  # 85–96 %: (d − 64) × 2.5
        (90.0, 65.0),
        (96.0, 80.0),
        (96.5, 80.0),  # 96–97 %: 80 A
        (97.0, 80.0),
        (97.01, None),  # > 97 %: no charging allowed
        (100.0, None),
    ],
)
def test_duty_to_current_follows_the_table(duty: float, expected_a: float | None) -> None:
    got = duty_to_current_a(duty)
    if expected_a is None:
        assert got is None
    else:
        assert got == pytest.approx(expected_a)


@pytest.mark.parametrize(
    ("duty", "band"),
    [
        (2.9, DutyBand.FAULT),
        (3.0, DutyBand.DIGITAL),
        (7.0, DutyBand.DIGITAL),
        (7.5, DutyBand.NO_CHARGING),
        (8.0, DutyBand.CURRENT),
        (97.0, DutyBand.CURRENT),
        (97.5, DutyBand.NO_CHARGING),
        (100.0, DutyBand.NO_CHARGING),
    ],
)
def test_duty_bands_tell_digital_from_no_charging(duty: float, band: DutyBand) -> None:
    assert duty_band(duty) is band


@pytest.mark.parametrize("duty", [-0.1, 100.1])
def test_duty_outside_0_to_100_is_rejected(duty: float) -> None:
    with pytest.raises(ValueError, match="0–100 %"):
        duty_to_current_a(duty)


@pytest.mark.parametrize(
    ("current_a", "duty"),
    [(6.0, 10.0), (16.0, 26.6667), (32.0, 53.3333), (51.0, 85.0), (60.0, 88.0), (80.0, 96.0)],
)
def test_current_to_duty_known_points(current_a: float, duty: float) -> None:
    assert current_to_duty(current_a) == pytest.approx(duty, abs=1e-4)


@pytest.mark.parametrize("current_a", [5.99, 0.0, 80.01])
def test_current_to_duty_refuses_what_cannot_be_signalled(current_a: float) -> None:
    with pytest.raises(ValueError, match="6–80 A"):
        current_to_duty(current_a)


def _in_table_gap(current_a: float, *, slack_a: float = 0.0) -> bool:
    # The station formula for 51–52.5 A lands at 84.4–85 %, which the vehicle reads as ×0.6.
    return 51.0 < current_a <= 52.5 + slack_a


def test_table_gap_edge_is_read_conservatively() -> None:
    assert current_to_duty(52.5) == pytest.approx(85.0)
    assert duty_to_current_a(current_to_duty(52.5)) == pytest.approx(51.0)


@given(st.floats(min_value=6.0, max_value=80.0))
def test_vehicle_reads_back_what_the_station_signals(current_a: float) -> None:
    read = duty_to_current_a(current_to_duty(current_a))
    assert read is not None
    if _in_table_gap(current_a):
        assert current_a - 1.5 <= read <= current_a  # never more than intended
    else:
        assert read == pytest.approx(current_a, abs=1e-9)


@given(st.floats(min_value=6.0, max_value=80.0))
def test_inverse_holds_with_duty_rounded_to_a_tenth_of_a_percent(current_a: float) -> None:
    duty = round(current_to_duty(current_a), 1)
    read = duty_to_current_a(duty)
    assert read is not None
    tolerance = 0.1 * 0.6 / 2 + 1e-9 if current_a <= 51.0 else 0.1 * 2.5 / 2 + 1e-9
    if _in_table_gap(current_a, slack_a=0.05 * 2.5):  # rounding can land on 85.0 %
        assert current_a - 1.5 - tolerance <= read <= current_a + tolerance
    else:
        assert abs(read - current_a) <= tolerance


@given(st.floats(min_value=8.0, max_value=97.0))
def test_station_inverse_of_a_read_current_reproduces_it(duty: float) -> None:
    current = duty_to_current_a(duty)
    assert current is not None
    assert duty_to_current_a(current_to_duty(current)) == pytest.approx(current, abs=1.5)


@given(st.floats(min_value=6.0, max_value=80.0), st.floats(min_value=6.0, max_value=80.0))
def test_more_current_never_means_less_duty(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert current_to_duty(low) <= current_to_duty(high)


def test_below_minimum_policy_pause_or_keep_six_amps() -> None:
    for limit in (0.0, 3.0, 5.99):
        assert duty_for_limit(limit, below_minimum=BelowMinimumPolicy.PAUSE) == 100.0
        assert (
            duty_to_current_a(duty_for_limit(limit, below_minimum=BelowMinimumPolicy.PAUSE)) is None
        )
        keep = duty_for_limit(limit, below_minimum=BelowMinimumPolicy.KEEP_MINIMUM)
        assert duty_to_current_a(keep) == pytest.approx(6.0)
    assert duty_for_limit(16.0, below_minimum=BelowMinimumPolicy.PAUSE) == pytest.approx(
        26.6667, abs=1e-4
    )
    assert duty_for_limit(120.0, below_minimum=BelowMinimumPolicy.PAUSE) == pytest.approx(96.0)
    with pytest.raises(ValueError, match="≥ 0 A"):
        duty_for_limit(-1.0, below_minimum=BelowMinimumPolicy.PAUSE)


def test_every_state_has_a_voltage_and_a_meaning() -> None:
    assert set(PILOT_VOLTAGE_V) == set(PilotState) == set(PILOT_MEANING)
    assert PILOT_VOLTAGE_V[PilotState.C] == 6.0
    assert PILOT_VOLTAGE_V[PilotState.F] == -12.0


def test_vehicle_transition_table() -> None:
    assert next_vehicle_state(PilotState.A, PilotEvent.PLUG_IN) is PilotState.B
    assert next_vehicle_state(PilotState.B, PilotEvent.REQUEST_ENERGY) is PilotState.C
    assert next_vehicle_state(PilotState.B, PilotEvent.REQUEST_ENERGY_VENTILATED) is PilotState.D
    assert next_vehicle_state(PilotState.C, PilotEvent.STOP_REQUEST) is PilotState.B
    assert next_vehicle_state(PilotState.D, PilotEvent.UNPLUG) is PilotState.A
    assert PilotState.E not in VEHICLE_TRANSITIONS  # imposed by the station, not a vehicle move


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (PilotState.A, PilotEvent.REQUEST_ENERGY),
        (PilotState.A, PilotEvent.UNPLUG),
        (PilotState.B, PilotEvent.PLUG_IN),
        (PilotState.C, PilotEvent.REQUEST_ENERGY),
        (PilotState.F, PilotEvent.UNPLUG),
    ],
)
def test_illegal_move_names_state_and_event(state: PilotState, event: PilotEvent) -> None:
    with pytest.raises(PilotTransitionError) as caught:
        next_vehicle_state(state, event)
    assert f"pilot state {state}" in str(caught.value)
    assert str(event) in str(caught.value)
    assert caught.value.state is state
    assert caught.value.event is event


def test_state_diagram_is_generated_from_the_table() -> None:
    diagram = vehicle_state_diagram().splitlines()
    assert diagram[0] == "stateDiagram-v2"
    edges = [line.strip() for line in diagram if "-->" in line]
    expected = [
        f"{state} --> {target}: {event}"
        for state, moves in VEHICLE_TRANSITIONS.items()
        for event, target in moves.items()
    ]
    assert edges == expected
    assert "    B --> C: request_energy" in diagram
