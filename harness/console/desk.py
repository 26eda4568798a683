"""Operator prompts answered wherever the operator is: browser, terminal or MQTT.

:class:`ConsoleDesk` gives each station's run an :class:`~harness.runner.operator.Operator`
that shows every prompt on all its channels at once — the console's browsers (through
:class:`~harness.console.hub.ConsoleHub`), the terminal (:class:`TerminalChannel`), an MQTT
operator app (:class:`MqttChannel`) — takes the first answer, and withdraws the prompt from
the others. A channel that cannot answer (the terminal's input has ended, the broker is lost)
drops out; when none is left, the prompt has no answer (``None``: the case is INCONCLUSIVE).

Every answer is recorded in the station's run folder, one JSON line per prompt in
``operator-answers.jsonl``::

    {"id": "CP1-1", "station": "CP1", "message": "Plug the vehicle in at EVSE 1",
     "response": "ack", "asked_at": "2026-12-07T21:00:00Z", "answered_at": "...",
     "answer": true, "by": "browser", "where": "127.0.0.1 (Mozilla/5.0 ...)"}

``by`` is ``browser``, ``terminal`` or ``mqtt`` (``nobody`` when no channel answered);
``where`` says which browser (its address and user agent), ``stdin``, or the broker's URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO

from harness.console.hub import ConsoleHub
from harness.lab.operators import MqttDesk
from harness.logs import get_logger
from harness.runner.operator import Operator

__all__ = ["ANSWERS_FILE", "AnswerChannel", "ConsoleDesk", "MqttChannel", "TerminalChannel"]

ANSWERS_FILE = "operator-answers.jsonl"
"""The file in a run folder where every operator answer is recorded."""


class AnswerChannel(Protocol):
    """One way to reach the operator."""

    name: str
    """``terminal`` or ``mqtt`` (recorded as ``by``)."""
    where: str
    """Where the answer came from (recorded as ``where``)."""

    async def ask(
        self, station_id: str, prompt_id: str, message: str, *, yes_no: bool
    ) -> bool | None:
        """Show the prompt; the answer, or ``None`` when this channel cannot answer. May be
        cancelled (the prompt was answered elsewhere)."""
        ...


class TerminalChannel:
    """The terminal: one prompt at a time, each naming its station; Enter acknowledges,
    ``y``/``n`` answers a question. Lines are read by one daemon thread, so a prompt answered
    elsewhere leaves no read pending that would swallow the next line; lines typed ahead are
    taken by the following prompts (``yes "" | ocpp-harness serve`` works)."""

    name = "terminal"
    where = "stdin"

    def __init__(self, *, stdin: TextIO, stdout: TextIO) -> None:
        self._in = stdin
        self._out = stdout
        self._lines: asyncio.Queue[str | None] | None = None
        self._ended = False
        self._lock = asyncio.Lock()

    @property
    def ended(self) -> bool:
        """Whether the input has ended (the terminal no longer answers)."""
        return self._ended

    def _start(self) -> asyncio.Queue[str | None]:
        if self._lines is None:
            loop = asyncio.get_running_loop()
            lines: asyncio.Queue[str | None] = asyncio.Queue()

            def read() -> None:
                while True:
                    try:
                        line = self._in.readline()
                    except (OSError, ValueError):
                        line = ""
                    with contextlib.suppress(RuntimeError):  # the loop has closed
                        loop.call_soon_threadsafe(lines.put_nowait, line or None)
                    if not line:
                        return

            threading.Thread(target=read, name="console-stdin", daemon=True).start()
            self._lines = lines
        return self._lines

    async def ask(
        self, station_id: str, prompt_id: str, message: str, *, yes_no: bool
    ) -> bool | None:
        suffix = " [y/n] " if yes_no else " [Enter] "
        async with self._lock:
            while not self._ended:
                self._out.write(f"\n>>> [{station_id}] {message}{suffix}")
                self._out.flush()
                line = await self._start().get()
                if line is None:
                    self._ended = True
                    break
                answer = line.strip().lower()
                if not yes_no:
                    return True
                if answer in {"y", "yes"}:
                    return True
                if answer in {"n", "no"}:
                    return False
        return None


class MqttChannel:
    """An operator app over MQTT (see :class:`harness.lab.operators.MqttDesk`)."""

    name = "mqtt"

    def __init__(self, desk: MqttDesk) -> None:
        self._desk = desk
        self.where = desk.settings.url

    async def ask(
        self, station_id: str, prompt_id: str, message: str, *, yes_no: bool
    ) -> bool | None:
        # The desk numbers prompts per station from 1, as ConsoleDesk does: same ids.
        return await self._desk.ask(station_id, message, yes_no=yes_no)


class _StationOperator:
    def __init__(self, desk: ConsoleDesk, station_id: str) -> None:
        self._desk = desk
        self._station = station_id

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        return await self._desk.ask(self._station, message, yes_no=yes_no)


class ConsoleDesk:
    """Asks on every channel and in the browsers at once (see the module docstring).

    ``hub``: the console's (``None``: no browser); ``run_dir(station_id)``: the station's run
    folder, where answers are recorded (``None``: not created yet, the answer is only
    logged); ``echo`` prints a line (who answered, when it was not the terminal).
    """

    def __init__(
        self,
        *,
        channels: Sequence[AnswerChannel],
        hub: ConsoleHub | None,
        now: Callable[[], datetime],
        run_dir: Callable[[str], Path | None],
        echo: Callable[[str], None],
    ) -> None:
        self._channels = tuple(channels)
        self._hub = hub
        self._now = now
        self._run_dir = run_dir
        self._echo = echo
        self._counter: dict[str, int] = {}
        self._log = get_logger("console.operator")

    def operator(self, station_id: str) -> Operator:
        """The operator for ``station_id``'s run."""
        return _StationOperator(self, station_id)

    async def ask(self, station_id: str, message: str, *, yes_no: bool) -> bool | None:
        """Ask everywhere; the first answer (``None``: nobody can answer)."""
        number = self._counter.get(station_id, 0) + 1
        self._counter[station_id] = number
        prompt_id = f"{station_id}-{number}"
        asked_at = self._now()
        tasks: dict[asyncio.Future[object], AnswerChannel] = {
            asyncio.ensure_future(c.ask(station_id, prompt_id, message, yes_no=yes_no)): c
            for c in self._channels
        }
        waiting: set[asyncio.Future[object]] = set(tasks)
        browser: asyncio.Future[tuple[bool, str]] | None = None
        if self._hub is not None:
            browser = self._hub.open_prompt(station_id, prompt_id, message, yes_no=yes_no).answer
            waiting.add(browser)  # type: ignore[arg-type]
        answer: bool | None = None
        by, where = "nobody", ""
        try:
            while waiting and by == "nobody":
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    if by != "nobody":
                        break
                    if future is browser:
                        if not future.cancelled():
                            answer, where = browser.result()
                            by = "browser"
                        continue
                    channel = tasks[future]
                    try:
                        got = future.result()
                    except Exception as exc:  # a channel's failure is not the operator's answer
                        self._log.error(
                            "operator_channel_failed", channel=channel.name, error=str(exc)
                        )
                        continue
                    if isinstance(got, bool):
                        answer, by, where = got, channel.name, channel.where
        finally:
            for future in waiting:
                future.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)  # MQTT clears its prompt
            if self._hub is not None:
                self._hub.close_prompt(prompt_id, answer=answer, by=by)
        if by != "terminal":
            said = "no answer" if answer is None else _said(answer, yes_no=yes_no)
            self._echo(f"[{station_id}] {message}: {said} ({by}{', ' + where if where else ''})")
        self._record(
            {
                "id": prompt_id,
                "station": station_id,
                "message": message,
                "response": "yes_no" if yes_no else "ack",
                "asked_at": _stamp(asked_at),
                "answered_at": _stamp(self._now()),
                "answer": answer,
                "by": by,
                "where": where,
            }
        )
        return answer

    def _record(self, entry: dict[str, object]) -> None:
        folder = self._run_dir(str(entry["station"]))
        if folder is None:
            self._log.warning("operator_answer_not_recorded", reason="no run folder", **entry)
            return
        try:
            with (folder / ANSWERS_FILE).open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError as exc:
            self._log.error("operator_answer_not_recorded", reason=str(exc), **entry)


def _said(answer: bool, *, yes_no: bool) -> str:
    if yes_no:
        return "yes" if answer else "no"
    return "done" if answer else "cannot be done"


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
