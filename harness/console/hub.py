"""The console's event stream: what happens in the lab, as JSON events, to every browser.

:class:`ConsoleHub` is a :class:`~harness.lab.observer.LabObserver`: the lab server tells it
of stations, steps, waits, verdicts and observations; it turns each into a JSON-ready event
(a ``dict`` with a ``type``), keeps what a browser that connects later needs to catch up
(:meth:`ConsoleHub.subscribe` starts with that snapshot), and hands every new event to every
subscriber's queue. Nothing here does I/O.

Events (all carry ``station``)::

    {"type": "station", "connected": true, "ocpp": "1.6", "vendor": ..., "model": ...,
     "firmware": ..., "state": "running", "case": "LAB_01", "planned": 2, "finished": 1,
     "tally": "1 PASS", "report": "/runs/CP1/report/index.html" | null}
    {"type": "step", "case": "LAB_01", "number": 3, "kind": "wait", "detail": "wait 1 s"}
    {"type": "wait", "remaining_s": 50.0, "total_s": 60.0}
    {"type": "verdict", "case": "LAB_01", "verdict": "PASS", "reason": ""}
    {"type": "point", "evse": 1, "series": "L1", "t": 1796000000.5, "v": 15.9}
    {"type": "band", "evse": 1, "t0": ..., "t1": null, "relation": "near", "scale": 1.0,
     "tolerance": 1.0, "rel_tolerance": 0.0, "quantity": "current", "uses_limit": true,
     "cap": 6.0 | null}

A band is where the case expects the measured current while its ``expect_settled`` step
runs (``t0``..``t1``; ``t1`` null while it runs): the target is the least of the limit in
force (when ``uses_limit``) and ``cap``, times ``scale``; ``near`` is target ± max(tolerance,
rel_tolerance × target), ``at_or_below`` up to that, ``at_least`` from that.
    {"type": "prompt", "id": "CP1-1", "message": "Plug ...", "response": "ack" | "yes_no"}
    {"type": "answered", "id": "CP1-1", "answer": true, "by": "browser"}

``point`` series: ``limit`` (the limit the harness set, A), ``offered`` (Current.Offered),
``L1``-``L3`` (Current.Import per phase, from MeterValues), ``lab L1``-``lab L3`` (from the lab
meter). ``t`` is seconds since the epoch (the clock's time of the sample). A station's points
and band restart with each case.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.lab.status import StationStatus
from harness.results import CaseResult, MeasurementSource
from harness.runner.observations import LimitRecord, MeterSample
from harness.scenario import (
    ExpectSettledStep,
    PromptStep,
    Quantity,
    SendStep,
    Step,
    VehicleStep,
    WaitStep,
    resolve_int,
    resolve_number,
)

__all__ = ["ConsoleHub", "Event", "PendingPrompt"]

Event = dict[str, Any]

MAX_POINTS = 20_000
"""Points kept per station for late subscribers (the oldest are dropped first)."""


@dataclass(slots=True)
class PendingPrompt:
    """A prompt shown in the browser, waiting for its answer."""

    station_id: str
    prompt_id: str
    message: str
    yes_no: bool
    answer: asyncio.Future[tuple[bool, str]]
    """Set with ``(answer, where)`` when answered in the browser."""


@dataclass(slots=True)
class _Station:
    status: Event | None = None
    case: str = ""
    step: Event | None = None
    wait: Event | None = None
    verdicts: list[Event] = field(default_factory=list)
    points: list[Event] = field(default_factory=list)
    band: Event | None = None


def _epoch(t: datetime) -> float:
    return t.timestamp()


def _detail(step: Step, variables: Mapping[str, Any]) -> str:
    """One line saying what a step does."""
    note = getattr(step, "note", None)
    match step:
        case PromptStep():
            return step.message
        case VehicleStep():
            try:
                return (
                    f"vehicle {step.action} at EVSE {resolve_int(step.evse, variables=variables)}"
                )
            except (ValueError, TypeError, KeyError):
                return f"vehicle {step.action}"
        case WaitStep():
            try:
                return f"wait {resolve_number(step.duration_s, variables=variables):g} s"
            except (ValueError, TypeError, KeyError):
                return "wait"
        case SendStep():
            return f"{step.action}" + (f": {note}" if note else "")
        case ExpectSettledStep():
            target = str(step.target)
            with contextlib.suppress(ValueError, TypeError, KeyError):
                cap = f"{step.target.evaluate(limit=None, variables=variables):g}"
                target = f"min(limit, {cap})" if step.target.uses_limit else cap
            return f"{step.quantity} settles {step.relation} {target}"
    action = getattr(step, "action", None)
    return str(note or action or step.kind)


class ConsoleHub:
    """Collects the lab's events and fans them out (see the module docstring).

    ``report_url(station_id)`` gives the link of a station's report once it is written
    (``None`` before); ``now`` is the run's clock (for a band's start).
    """

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        report_url: Callable[[str], str | None] = lambda _: None,
    ) -> None:
        self._now = now
        self._report_url = report_url
        self._stations: dict[str, _Station] = {}
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.prompts: dict[str, PendingPrompt] = {}
        """Prompts open in the browser, by prompt id."""

    # ------------------------------------------------------------ subscribers

    def subscribe(self) -> asyncio.Queue[Event]:
        """A queue that gets the snapshot now and every event from now on."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for event in self.snapshot():
            queue.put_nowait(event)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        """Stop feeding ``queue``."""
        self._subscribers.discard(queue)

    def snapshot(self) -> list[Event]:
        """The events that bring a new browser up to date, in order."""
        out: list[Event] = []
        for s in self._stations.values():
            out.extend(e for e in (s.status, s.step, s.wait) if e is not None)
            out.extend(s.verdicts)
            if s.band is not None:
                out.append(s.band)
            out.extend(s.points)
        for p in self.prompts.values():
            out.append(self._prompt_event(p))
        return out

    def _emit(self, event: Event) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    def _station(self, station_id: str) -> _Station:
        return self._stations.setdefault(station_id, _Station())

    # ------------------------------------------------------------ lab events

    def station_changed(self, status: StationStatus) -> None:
        """A station's line changed (connected, booted, case, state, verdict tally)."""
        sid = status.station_id
        event: Event = {
            "type": "station",
            "station": sid,
            "connected": status.connected,
            "ocpp": status.ocpp,
            "vendor": status.boot.vendor,
            "model": status.boot.model,
            "firmware": status.boot.firmware,
            "state": status.state.value,
            "case": status.case,
            "planned": status.planned,
            "finished": status.finished,
            "tally": status.tally(),
            "report": self._report_url(sid),
        }
        station = self._station(sid)
        if station.status == event:
            return
        station.status = event
        self._emit(event)

    def step_started(
        self, station_id: str, case_id: str, number: int, step: Step, variables: Mapping[str, Any]
    ) -> None:
        """A step starts: show it; a new case restarts the plot; ``expect_settled`` on a
        current opens the expected band until the next step."""
        station = self._station(station_id)
        now = _epoch(self._now())
        if case_id != station.case:
            station.case = case_id
            station.points.clear()
            station.band = None
            self._emit({"type": "case", "station": station_id, "case": case_id})
        if station.band is not None and station.band["t1"] is None:
            station.band = {**station.band, "t1": now}
            self._emit(station.band)
        station.wait = None
        event: Event = {
            "type": "step",
            "station": station_id,
            "case": case_id,
            "number": number,
            "kind": step.kind,
            "detail": _detail(step, variables),
        }
        station.step = event
        self._emit(event)
        if isinstance(step, ExpectSettledStep) and step.quantity in {
            Quantity.CURRENT,
            Quantity.CURRENT_OFFERED,
        }:
            try:
                cap: float | None = step.target.evaluate(limit=None, variables=variables)
            except (ValueError, TypeError, KeyError):
                cap = None  # the target is the limit alone
            try:
                band: Event = {
                    "type": "band",
                    "station": station_id,
                    "case": case_id,
                    "evse": resolve_int(step.evse, variables=variables),
                    "t0": now,
                    "t1": None,
                    "quantity": step.quantity.value,
                    "relation": step.relation.value,
                    "uses_limit": step.target.uses_limit,
                    "cap": cap,
                    "scale": resolve_number(step.scale, variables=variables),
                    "tolerance": resolve_number(step.tolerance, variables=variables),
                    "rel_tolerance": resolve_number(step.rel_tolerance, variables=variables),
                }
            except (ValueError, TypeError, KeyError):
                return  # the engine reports the bad parameter; the plot has no band
            station.band = band
            self._emit(band)

    def waiting(self, station_id: str, remaining_s: float, total_s: float) -> None:
        """A countdown tick of a ``wait`` step."""
        event: Event = {
            "type": "wait",
            "station": station_id,
            "remaining_s": remaining_s,
            "total_s": total_s,
        }
        self._station(station_id).wait = event
        self._emit(event)

    def judged(self, station_id: str, result: CaseResult) -> None:
        """A case's verdict."""
        event: Event = {
            "type": "verdict",
            "station": station_id,
            "case": result.info.case_id,
            "verdict": result.verdict.value,
            "reason": result.reason or "",
        }
        self._station(station_id).verdicts.append(event)
        self._emit(event)

    def observed(self, station_id: str, item: MeterSample | LimitRecord) -> None:
        """A sample or a limit: a point of the EVSE's plot (currents in A only)."""
        if isinstance(item, LimitRecord):
            if item.unit != "A":
                return
            series, value = "limit", item.limit
        else:
            if item.measurand == "Current.Offered" and item.phase is None:
                series = "offered"
            elif item.measurand == "Current.Import" and item.phase in {"L1", "L2", "L3"}:
                series = str(item.phase)
            else:
                return
            if item.source is MeasurementSource.LAB_METER:
                series = f"lab {series}"
            value = item.value
        event: Event = {
            "type": "point",
            "station": station_id,
            "evse": item.evse,
            "series": series,
            "t": _epoch(item.t),
            "v": value,
        }
        points = self._station(station_id).points
        points.append(event)
        if len(points) > MAX_POINTS:
            del points[: len(points) - MAX_POINTS]
        self._emit(event)

    # ---------------------------------------------------------------- prompts

    def open_prompt(
        self, station_id: str, prompt_id: str, message: str, *, yes_no: bool
    ) -> PendingPrompt:
        """Show a prompt in every browser; its :attr:`PendingPrompt.answer` is set when one
        answers (:meth:`answer`)."""
        prompt = PendingPrompt(
            station_id,
            prompt_id,
            message,
            yes_no,
            asyncio.get_running_loop().create_future(),
        )
        self.prompts[prompt_id] = prompt
        self._emit(self._prompt_event(prompt))
        return prompt

    def close_prompt(self, prompt_id: str, *, answer: bool | None, by: str) -> None:
        """The prompt is answered (``by`` whom) or given up: remove it from every browser."""
        prompt = self.prompts.pop(prompt_id, None)
        if prompt is None:
            return
        if not prompt.answer.done():
            prompt.answer.cancel()
        self._emit(
            {
                "type": "answered",
                "station": prompt.station_id,
                "id": prompt_id,
                "answer": answer,
                "by": by,
            }
        )

    def answer(self, prompt_id: str, answer: bool, *, where: str) -> bool:
        """A browser answers; ``False`` if no such prompt is open (answered elsewhere)."""
        prompt = self.prompts.get(prompt_id)
        if prompt is None or prompt.answer.done():
            return False
        prompt.answer.set_result((answer, where))
        return True

    @staticmethod
    def _prompt_event(prompt: PendingPrompt) -> Event:
        return {
            "type": "prompt",
            "station": prompt.station_id,
            "id": prompt.prompt_id,
            "message": prompt.message,
            "response": "yes_no" if prompt.yes_no else "ack",
        }
