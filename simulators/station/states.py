"""Connector/EVSE status as a transition table, and its mappings to OCPP 1.6 and 2.x.

The core moves a connector only through :data:`TRANSITIONS` (state → event → next state);
anything else is a :class:`StatusTransitionError` naming the EVSE, the state and the event —
a defect of whoever drove the core (an adapter or a test), never of the device under test.

The states are OCPP 1.6's ChargePointStatus, which is the finer of the two versions; 2.x's
ConnectorStatus and TransactionEvent chargingState are derived with :func:`status_2x` and
:data:`CHARGING_STATE_2X`. The three "energy" states of a running transaction (Charging,
SuspendedEV, SuspendedEVSE) are not chosen by callers: the core derives them from the pilot
it drives and the vehicle's reading (:func:`energy_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CHARGING_STATE_2X",
    "ENERGY_STATES",
    "STATUS_16",
    "TRANSITIONS",
    "ConnectorEvent",
    "ConnectorState",
    "StatusTransitionError",
    "energy_state",
    "mermaid_diagram",
    "next_state",
    "status_2x",
]


class ConnectorState(StrEnum):
    """Protocol-neutral connector status (values are OCPP 1.6 ChargePointStatus names)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"  # plugged in (or authorized) without a transaction yet
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"  # allowed to draw, the vehicle does not
    SUSPENDED_EVSE = "SuspendedEVSE"  # the station allows no current (limit 0 / paused)
    FINISHING = "Finishing"  # transaction stopped, cable still plugged in
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ConnectorEvent(StrEnum):
    """What happens to a connector."""

    PLUG_IN = "plug_in"
    UNPLUG = "unplug"
    AUTHORIZE = "authorize"  # an id token is presented (or a remote start) before plug-in
    AUTHORIZATION_ENDED = "authorization_ended"  # a pending start timed out or was cancelled
    START_TRANSACTION = "start_transaction"
    STOP_TRANSACTION = "stop_transaction"  # stopped while the cable stays in
    ENERGY_FLOWING = "energy_flowing"
    EV_SUSPENDED = "ev_suspended"
    EVSE_SUSPENDED = "evse_suspended"
    RESERVE = "reserve"
    RESERVATION_ENDED = "reservation_ended"  # cancelled or expired
    MAKE_UNAVAILABLE = "make_unavailable"
    MAKE_AVAILABLE = "make_available"
    FAULT = "fault"
    FAULT_CLEARED = "fault_cleared"


S, E = ConnectorState, ConnectorEvent

ENERGY_STATES = frozenset({S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE})
"""The states of a running transaction with the cable plugged in."""

_ENERGY_MOVES = {
    E.ENERGY_FLOWING: S.CHARGING,
    E.EV_SUSPENDED: S.SUSPENDED_EV,
    E.EVSE_SUSPENDED: S.SUSPENDED_EVSE,
    E.STOP_TRANSACTION: S.FINISHING,
    E.UNPLUG: S.AVAILABLE,  # the transaction ends with the cable (StopTxOnEVSideDisconnect)
    E.FAULT: S.FAULTED,
}

TRANSITIONS: Mapping[ConnectorState, Mapping[ConnectorEvent, ConnectorState]] = MappingProxyType(
    {
        S.AVAILABLE: MappingProxyType(
            {
                E.PLUG_IN: S.PREPARING,
                E.AUTHORIZE: S.PREPARING,
                E.RESERVE: S.RESERVED,
                E.MAKE_UNAVAILABLE: S.UNAVAILABLE,
                E.FAULT: S.FAULTED,
            }
        ),
        S.PREPARING: MappingProxyType(
            {
                E.START_TRANSACTION: S.SUSPENDED_EVSE,  # energy state derived right after
                E.UNPLUG: S.AVAILABLE,
                E.AUTHORIZATION_ENDED: S.AVAILABLE,
                E.PLUG_IN: S.PREPARING,  # the cable arrives for a pending start
                E.MAKE_UNAVAILABLE: S.UNAVAILABLE,
                E.FAULT: S.FAULTED,
            }
        ),
        S.CHARGING: MappingProxyType(_ENERGY_MOVES),
        S.SUSPENDED_EV: MappingProxyType(_ENERGY_MOVES),
        S.SUSPENDED_EVSE: MappingProxyType(_ENERGY_MOVES),
        S.FINISHING: MappingProxyType(
            {
                E.UNPLUG: S.AVAILABLE,
                E.START_TRANSACTION: S.SUSPENDED_EVSE,  # a new transaction, same cable
                E.MAKE_UNAVAILABLE: S.UNAVAILABLE,
                E.FAULT: S.FAULTED,
            }
        ),
        S.RESERVED: MappingProxyType(
            {
                E.PLUG_IN: S.PREPARING,
                E.AUTHORIZE: S.PREPARING,
                E.RESERVATION_ENDED: S.AVAILABLE,
                E.MAKE_UNAVAILABLE: S.UNAVAILABLE,
                E.FAULT: S.FAULTED,
            }
        ),
        S.UNAVAILABLE: MappingProxyType(
            {
                E.MAKE_AVAILABLE: S.AVAILABLE,
                E.PLUG_IN: S.UNAVAILABLE,
                E.UNPLUG: S.UNAVAILABLE,
                E.FAULT: S.FAULTED,
            }
        ),
        S.FAULTED: MappingProxyType(
            {
                E.FAULT_CLEARED: S.AVAILABLE,
                E.PLUG_IN: S.FAULTED,
                E.UNPLUG: S.FAULTED,
            }
        ),
    }
)
"""Connector status: state → event → next state. Anything not listed is illegal.

After FAULT_CLEARED or MAKE_AVAILABLE with a cable plugged in, the core follows with a
PLUG_IN (Available → Preparing), so the table stays free of hidden conditions.
"""


class StatusTransitionError(Exception):
    """An event the connector's current state does not allow (the caller's misuse)."""

    def __init__(self, evse_id: int, state: ConnectorState, event: ConnectorEvent) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[state])) or "none"
        super().__init__(
            f"EVSE {evse_id}: connector in state {state} does not accept event {event!s}; "
            f"allowed there: {allowed}"
        )
        self.evse_id = evse_id
        self.state = state
        self.event = event


def next_state(evse_id: int, state: ConnectorState, event: ConnectorEvent) -> ConnectorState:
    """The state after ``event``; raises :class:`StatusTransitionError` when illegal."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise StatusTransitionError(evse_id, state, event) from None


def mermaid_diagram() -> str:
    """The transition table as a Mermaid state diagram (the table is the documentation)."""
    lines = ["stateDiagram-v2"]
    for state, moves in TRANSITIONS.items():
        for event, target in moves.items():
            lines.append(f"    {state.value} --> {target.value}: {event.value}")
    return "\n".join(lines) + "\n"


def energy_state(*, allowed: bool, drawing: bool) -> ConnectorEvent:
    """The energy event for a running transaction.

    ``allowed``: the pilot lets the vehicle draw (or discharge); ``drawing``: the vehicle
    transfers power. Not allowed → SuspendedEVSE; allowed but idle → SuspendedEV.
    """
    if not allowed:
        return E.EVSE_SUSPENDED
    return E.ENERGY_FLOWING if drawing else E.EV_SUSPENDED


STATUS_16: Mapping[ConnectorState, str] = MappingProxyType({s: s.value for s in S})
"""OCPP 1.6 StatusNotification ``status`` (ChargePointStatus) of each state."""

_STATUS_2X: Mapping[ConnectorState, str] = MappingProxyType(
    {
        S.AVAILABLE: "Available",
        S.PREPARING: "Occupied",
        S.CHARGING: "Occupied",
        S.SUSPENDED_EV: "Occupied",
        S.SUSPENDED_EVSE: "Occupied",
        S.FINISHING: "Occupied",
        S.RESERVED: "Reserved",
        S.UNAVAILABLE: "Unavailable",
        S.FAULTED: "Faulted",
    }
)


def status_2x(state: ConnectorState, *, plugged: bool) -> str:
    """OCPP 2.x StatusNotification ``connectorStatus`` (ConnectorStatusEnumType).

    2.x says Occupied when a cable is connected; a Preparing connector that is only
    authorized (waiting for the cable) is still Available there.
    """
    if state is S.PREPARING and not plugged:
        return "Available"
    return _STATUS_2X[state]


CHARGING_STATE_2X: Mapping[ConnectorState, str] = MappingProxyType(
    {
        S.AVAILABLE: "Idle",
        S.PREPARING: "EVConnected",
        S.CHARGING: "Charging",
        S.SUSPENDED_EV: "SuspendedEV",
        S.SUSPENDED_EVSE: "SuspendedEVSE",
        S.FINISHING: "EVConnected",
        S.RESERVED: "Idle",
        S.UNAVAILABLE: "Idle",
        S.FAULTED: "Idle",
    }
)
"""OCPP 2.x TransactionEvent ``transactionInfo.chargingState`` (ChargingStateEnumType)."""
