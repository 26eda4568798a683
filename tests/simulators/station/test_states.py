"""The connector transition table: every legal move, illegal moves, and the OCPP mappings."""

from __future__ import annotations

import pytest

from simulators.station import (
    CHARGING_STATE_2X,
    STATUS_16,
    TRANSITIONS,
    ConnectorEvent,
    ConnectorState,
    StatusTransitionError,
    status_2x,
)
from simulators.station.states import energy_state, next_state

S, E = ConnectorState, ConnectorEvent

LEGAL = [(s, e, n) for s, moves in TRANSITIONS.items() for e, n in moves.items()]


@pytest.mark.parametrize(("state", "event", "expected"), LEGAL)
def test_every_legal_move(state: S, event: E, expected: S) -> None:
    assert next_state(1, state, event) is expected


def test_table_covers_every_state_and_reaches_every_state() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {n for _, _, n in LEGAL} == set(S)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.AVAILABLE, E.UNPLUG),
        (S.AVAILABLE, E.START_TRANSACTION),
        (S.CHARGING, E.PLUG_IN),
        (S.FINISHING, E.ENERGY_FLOWING),
        (S.FAULTED, E.START_TRANSACTION),
        (S.UNAVAILABLE, E.RESERVE),
    ],
)
def test_illegal_move_names_evse_state_and_event(state: S, event: E) -> None:
    with pytest.raises(StatusTransitionError) as info:
        next_state(2, state, event)
    text = str(info.value)
    assert f"EVSE 2: connector in state {state} does not accept event {event}" in text
    assert "allowed there: " in text
    assert (info.value.state, info.value.event) == (state, event)


def test_energy_state_from_pilot_and_vehicle() -> None:
    assert energy_state(allowed=False, drawing=False) is E.EVSE_SUSPENDED
    assert energy_state(allowed=False, drawing=True) is E.EVSE_SUSPENDED
    assert energy_state(allowed=True, drawing=False) is E.EV_SUSPENDED
    assert energy_state(allowed=True, drawing=True) is E.ENERGY_FLOWING


def test_mappings_to_16_and_2x() -> None:
    assert set(STATUS_16) == set(S)
    assert set(CHARGING_STATE_2X) == set(S)
    assert STATUS_16[S.SUSPENDED_EVSE] == "SuspendedEVSE"
    occupied = {S.PREPARING, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING}
    for state in S:
        expected = "Occupied" if state in occupied else state.value
        assert status_2x(state, plugged=True) == expected
    assert status_2x(S.PREPARING, plugged=False) == "Available"
    assert CHARGING_STATE_2X[S.SUSPENDED_EV] == "SuspendedEV"
    assert CHARGING_STATE_2X[S.FINISHING] == "EVConnected"


def test_mermaid_diagram_has_one_arrow_per_legal_move() -> None:
    from simulators.station.states import mermaid_diagram

    text = mermaid_diagram()
    assert text.startswith("stateDiagram-v2\n")
    arrows = [line for line in text.splitlines() if "-->" in line]
    assert len(arrows) == len(LEGAL)
    assert "    Charging --> SuspendedEVSE: evse_suspended" in arrows
