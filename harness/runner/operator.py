"""Who does what a scenario cannot do by protocol: the operator and the simulated vehicle.

* :class:`Operator` answers ``prompt`` steps (and, in a lab, ``vehicle`` steps turned into
  prompts). :class:`AutoOperator` acknowledges everything (simulation);
  :class:`TerminalOperator` asks on the terminal (a lab); :class:`NoOperator` answers nothing
  (an unattended lab run: a case that needs an answer is INCONCLUSIVE, never judged).
* :class:`SimulationControl` is what a simulated target offers for ``vehicle`` steps.
  :class:`VehiclesStayPluggedIn` is the one of an unattended lab run against a station whose
  vehicles are plugged in for the whole run (``ocpp-harness simulate`` plugs one into every
  EVSE at boot): plugging in and unplugging are then nothing to do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TextIO, runtime_checkable

__all__ = [
    "AutoOperator",
    "NoOperator",
    "OfflineTaker",
    "Operator",
    "SimulationControl",
    "TerminalOperator",
    "VehiclesStayPluggedIn",
    "WakeUpRecord",
    "WakeUpRecorder",
]


class Operator(Protocol):
    """Answers operator prompts. ``yes_no`` prompts return the answer; ack prompts ``True``;
    ``None`` means nobody answered (no operator, end of input): the case cannot be judged."""

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        """Show ``message``; return ``True`` for an acknowledgement or a yes, ``False`` for a
        no, ``None`` when there is no answer."""
        ...


class AutoOperator:
    """Acknowledges every prompt and answers yes (simulation: nothing to do by hand)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        """Every message shown, in order (tests read it)."""

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        self.asked.append(message)
        return True


class NoOperator:
    """Nobody is at the terminal (``run --target listen --unattended``): every prompt goes
    unanswered, so a case that needs an operator's answer is INCONCLUSIVE, never PASS/FAIL."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        """Every message that would have been shown, in order."""

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        self.asked.append(message)
        return None


class TerminalOperator:
    """Asks on a terminal: Enter acknowledges; ``y``/``n`` answers a yes/no prompt."""

    def __init__(self, *, stdin: TextIO, stdout: TextIO) -> None:
        self._in = stdin
        self._out = stdout

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        suffix = " [y/n] " if yes_no else " [Enter] "
        # On a terminal the answer's echo ends the prompt's line; from a pipe nothing does,
        # so the prompt ends its own line there (never sharing one with a verdict line).
        interactive = getattr(self._in, "isatty", lambda: False)()
        end = "" if interactive else "\n"
        while True:
            self._out.write(f"\n>>> {message}{suffix}{end}")
            self._out.flush()
            line = await asyncio.to_thread(self._in.readline)
            if not line:  # end of input: no operator
                return None
            answer = line.strip().lower()
            if not yes_no:
                return True
            if answer in {"y", "yes"}:
                return True
            if answer in {"n", "no"}:
                return False


class SimulationControl(Protocol):
    """The vehicle side of a simulated target (``vehicle`` steps)."""

    async def plug_in(self, *, evse: int) -> None:
        """Plug the vehicle in at ``evse``."""
        ...

    async def unplug(self, *, evse: int) -> None:
        """Unplug the vehicle from ``evse``."""
        ...

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        """Set the vehicle's state of charge."""
        ...

    async def wake(self, *, evse: int) -> None:
        """Wake a sleeping vehicle."""
        ...

    async def set_external_limit(self, *, evse: int, limit_a: float | None) -> None:
        """An external system (EMS) limits ``evse`` to ``limit_a`` per phase, or lifts its
        limit (``None``), outside OCPP."""
        ...


@dataclass(frozen=True, slots=True)
class WakeUpRecord:
    """What a simulated station did to wake its vehicle: the methods it tried, in order
    (``pilot_toggle``, ``state_f``), and the one after which the vehicle drew: ``"none"``
    when it needed none, ``None`` when nothing woke it."""

    tried: tuple[str, ...]
    woken_by: str | None


@runtime_checkable
class Renegotiator(Protocol):
    """A simulation control whose ISO 15118 vehicle can ask to renegotiate its schedule
    (``vehicle`` steps with ``renegotiate``); without one, the operator is asked."""

    async def renegotiate(self, *, evse: int) -> bool:
        """The vehicle at ``evse`` asks to renegotiate; False when it cannot (it does not
        talk ISO 15118, or no transaction runs)."""
        ...


@runtime_checkable
class OfflineTaker(Protocol):
    """A simulation control whose station can lose its connection to the CSMS and work
    offline (``offline`` steps); without one, the operator is asked."""

    async def go_offline(self) -> bool:
        """The station loses its connection and works offline until it connects again;
        False when it cannot."""
        ...

    async def present_token(self, *, evse: int, id_token: str) -> bool:
        """A driver presents ``id_token`` at ``evse``; False when no transaction starts."""
        ...


@runtime_checkable
class WakeUpRecorder(Protocol):
    """A simulation control that can tell how its station woke the vehicle
    (``expect_wake_up`` steps); without one, the operator is asked."""

    async def wake_up_record(self, *, evse: int, since: datetime) -> WakeUpRecord:
        """What the station did at ``evse`` since ``since`` to wake the vehicle."""
        ...


class VehiclesStayPluggedIn:
    """The vehicle side of an unattended lab run: the station's vehicles are plugged in for
    the whole run (``ocpp-harness simulate`` plugs one into every EVSE at boot and leaves it
    there), so ``plug_in`` and ``unplug`` steps have nothing to do; each is recorded in
    :attr:`skipped`. ``set_soc`` never reaches it (a lab run makes such a case
    NOT_APPLICABLE) and ``wake`` is nothing to do either (the vehicle is not asleep)."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    async def plug_in(self, *, evse: int) -> None:
        self.skipped.append(f"plug_in at EVSE {evse}")

    async def unplug(self, *, evse: int) -> None:
        self.skipped.append(f"unplug at EVSE {evse}")

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        raise RuntimeError("an unattended lab run cannot set a vehicle's state of charge")

    async def wake(self, *, evse: int) -> None:
        self.skipped.append(f"wake at EVSE {evse}")

    async def set_external_limit(self, *, evse: int, limit_a: float | None) -> None:
        raise RuntimeError(
            "an unattended lab run cannot set an external limit (the case needs an operator)"
        )
