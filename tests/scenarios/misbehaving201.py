"""A scripted misbehaving 2.0.1 station: the built-in simulated station, with one request of
the harness rewritten before the station sees it, or the station's answer to it rewritten
before the harness sees it.

This puts a defect exactly where an official case looks (a station that accepts a profile
for an EVSE it does not have, that ignores validFrom, that keeps the old profile when one
with the same id arrives) without adding a fault to the simulator for each: the station is
otherwise the real one, so everything else it does stays conforming.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.runner.operator import SimulationControl
from harness.runner.simstation import builtin_factory
from harness.runner.targets import SimSpec, SimStation, StationFactory
from harness.transport import DelegatingTransport, Transport

Payload = dict[str, Any]


@dataclass
class Misbehaviour:
    """What the station does wrong for a CALL ``action`` whose payload ``when`` selects:
    ``request`` rewrites the CALL's payload before the station handles it; ``answer`` rewrites
    the station's CALLRESULT payload (given the original request). ``hits`` counts the CALLs
    selected, so that a test can show the misbehaviour took place."""

    action: str
    when: Callable[[Payload], bool] = lambda _payload: True
    request: Callable[[Payload], Payload] | None = None
    answer: Callable[[Payload, Payload], Payload] | None = None
    hits: int = field(default=0, init=False)


class _Rewriting(DelegatingTransport):
    """A :class:`~harness.transport.Transport` between the harness and the station that
    applies a :class:`Misbehaviour` to the frames passing through."""

    def __init__(self, inner: Transport, misbehaviour: Misbehaviour) -> None:
        super().__init__(inner)
        self._m = misbehaviour
        self._selected: dict[str, Payload] = {}

    async def recv(self) -> str:
        text = await self._inner.recv()
        frame = _frame(text)
        if frame is None or frame[0] != 2 or frame[2] != self._m.action:
            return text
        payload = frame[3]
        if not self._m.when(payload):
            return text
        self._m.hits += 1
        self._selected[frame[1]] = payload
        if self._m.request is None:
            return text
        return json.dumps([2, frame[1], frame[2], self._m.request(json.loads(json.dumps(payload)))])

    async def send(self, text: str) -> None:
        frame = _frame(text)
        if frame is not None and frame[0] == 3 and frame[1] in self._selected:
            request = self._selected.pop(frame[1])
            if self._m.answer is not None:
                text = json.dumps([3, frame[1], self._m.answer(request, frame[2])])
        await self._inner.send(text)


def _frame(text: str) -> list[Any] | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame if isinstance(frame, list) and len(frame) >= 3 else None


class _Station:
    def __init__(self, inner: SimStation, misbehaviour: Misbehaviour) -> None:
        self._inner = inner
        self._misbehaviour = misbehaviour

    @property
    def control(self) -> SimulationControl:
        return self._inner.control

    async def serve(self, transport: Transport) -> None:
        await self._inner.serve(_Rewriting(transport, self._misbehaviour))

    async def stop(self) -> None:
        await self._inner.stop()


def misbehaving_factory(misbehaviour: Misbehaviour) -> StationFactory:
    """A factory of built-in simulated stations that all misbehave as ``misbehaviour`` says."""
    inner = builtin_factory()

    def factory(spec: SimSpec) -> SimStation:
        return _Station(inner(spec), misbehaviour)

    return factory
