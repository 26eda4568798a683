"""The console for ``run --target listen``: one station, one run, the same page as ``serve``.

:class:`ListenConsole` holds the station's :class:`~harness.lab.status.StationStatus` (the
station id is known once it connects) and gives :func:`~harness.runner.run.run_cases` the
callbacks that feed the hub, and an operator that asks in the browser and on the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.clock import Clock
from harness.console.cli import ConsoleSettings, report_url, start_console
from harness.console.desk import ConsoleDesk, TerminalChannel
from harness.console.hub import ConsoleHub
from harness.console.web import ConsoleServer
from harness.lab.status import StationState, StationStatus, boot_info
from harness.results import CaseResult
from harness.runner.endpoint import CsmsEndpoint
from harness.runner.operator import Operator
from harness.scenario import Step

__all__ = ["ListenConsole"]


class _Operator:
    def __init__(self, console: ListenConsole) -> None:
        self._console = console

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        return await self._console.desk.ask(self._console.station_id, message, yes_no=yes_no)


class ListenConsole:
    """Feeds the console from one ``run --target listen`` (use :meth:`start`, then pass
    :attr:`operator` and the callbacks to ``run_cases``, then :meth:`close`)."""

    def __init__(
        self,
        hub: ConsoleHub,
        desk: ConsoleDesk,
        *,
        planned: Sequence[str],
        run_dir: Callable[[], Path | None],
    ) -> None:
        self.hub = hub
        self.desk = desk
        self.server: ConsoleServer | None = None
        self._planned = tuple(planned)
        self._run_dir = run_dir
        self.station_id = "station"
        """The station's id once it has connected."""
        self.status = StationStatus(self.station_id, planned=len(planned))

    @classmethod
    async def start(
        cls,
        settings: ConsoleSettings,
        *,
        clock: Clock,
        planned: Sequence[str],
        run_dir: Callable[[], Path | None],
        terminal: TerminalChannel | None,
        echo: Callable[[str], None],
    ) -> ListenConsole:
        """Start the console (its address printed with ``echo``). ``terminal``: also ask
        there (``None``: only in the browser)."""

        def folder(_: str) -> Path | None:
            return run_dir()

        hub = ConsoleHub(now=clock.now, report_url=lambda sid: report_url(folder, sid))
        desk = ConsoleDesk(
            channels=[terminal] if terminal is not None else [],
            hub=hub,
            now=clock.now,
            run_dir=folder,
            echo=echo,
        )
        console = cls(hub, desk, planned=planned, run_dir=run_dir)
        console.server = await start_console(hub, settings, run_dir=folder, echo=echo)
        return console

    async def close(self) -> None:
        """Show the end of the run, then stop the console."""
        self.status.state = StationState.DONE
        self.status.case = ""
        self.hub.station_changed(self.status)
        if self.server is not None:
            await self.server.close()

    @property
    def operator(self) -> Operator:
        """Asks in the browser and on the terminal; the first answer counts."""
        return _Operator(self)

    def connected(self, endpoint: CsmsEndpoint) -> None:
        """``run_cases``' ``on_connected``."""
        sid = endpoint.station_id
        if sid != self.station_id:
            self.station_id = sid
            self.status.station_id = sid
        self.status.connected = True
        self.status.ocpp = str(endpoint.version)
        self.status.boot = boot_info(endpoint.observations.boot)
        if self.status.state is not StationState.DONE:
            self.status.state = StationState.RUNNING
        endpoint.observations.observers.append(lambda item: self.hub.observed(sid, item))
        endpoint.closed_waiter().add_done_callback(lambda _: self._disconnected())
        self.hub.station_changed(self.status)

    def _disconnected(self) -> None:
        self.status.connected = False
        if self.status.state is StationState.RUNNING:
            self.status.state = StationState.WAITING
        self.hub.station_changed(self.status)

    def step(self, case_id: str, number: int, step: Step, variables: Mapping[str, Any]) -> None:
        """``run_cases``' ``on_step``."""
        if self.status.case != case_id:
            self.status.case = case_id
            self.hub.station_changed(self.status)
        self.hub.step_started(self.station_id, case_id, number, step, variables)

    def waiting(self, remaining_s: float, total_s: float) -> None:
        """``run_cases``' ``wait_progress``."""
        self.hub.waiting(self.station_id, remaining_s, total_s)

    def judged(self, result: CaseResult) -> None:
        """Call from ``run_cases``' ``on_result``."""
        verdict = result.verdict
        self.status.verdicts[verdict] = self.status.verdicts.get(verdict, 0) + 1
        self.hub.judged(self.station_id, result)
        self.hub.station_changed(self.status)
