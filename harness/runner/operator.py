"""Who does what a scenario cannot do by protocol: the operator and the simulated vehicle.

* :class:`Operator` answers ``prompt`` steps (and, in a lab, ``vehicle`` steps turned into
  prompts). :class:`AutoOperator` acknowledges everything (simulation);
  :class:`TerminalOperator` asks on the terminal (a lab).
* :class:`SimulationControl` is what a simulated target offers for ``vehicle`` steps.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, TextIO

__all__ = ["AutoOperator", "Operator", "SimulationControl", "TerminalOperator"]


class Operator(Protocol):
    """Answers operator prompts. ``yes_no`` prompts return the answer; ack prompts ``True``."""

    async def ask(self, message: str, *, yes_no: bool) -> bool:
        """Show ``message``; return ``True`` for an acknowledgement or a yes."""
        ...


class AutoOperator:
    """Acknowledges every prompt and answers yes (simulation: nothing to do by hand)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        """Every message shown, in order (tests read it)."""

    async def ask(self, message: str, *, yes_no: bool) -> bool:
        self.asked.append(message)
        return True


class TerminalOperator:
    """Asks on a terminal: Enter acknowledges; ``y``/``n`` answers a yes/no prompt."""

    def __init__(self, *, stdin: TextIO, stdout: TextIO) -> None:
        self._in = stdin
        self._out = stdout

    async def ask(self, message: str, *, yes_no: bool) -> bool:
        suffix = " [y/n] " if yes_no else " [Enter] "
        while True:
            self._out.write(f"\n>>> {message}{suffix}")
            self._out.flush()
            line = await asyncio.to_thread(self._in.readline)
            if not line:  # end of input: no operator
                return False
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
