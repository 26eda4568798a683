"""The lab's CSMS: real stations connect, each runs the chosen suites on its own connection.

:class:`LabServer` listens with :func:`~harness.transport.serve_ocpp` (with a security
profile's TLS context and admission check if given) and, for each station id that connects,
starts one run: :func:`~harness.runner.run.run_cases` with a provider that hands the run that
station's connections only. Stations run in parallel, each in its own task.

Results: **one run folder per station**, ``OUT/<run id>-<station id>/`` with its own
manifest, traces, results and report (HTML + JUnit). A station is one DUT with its own
capability declaration, OCPP version and pace; separate folders keep every report a plain
single-DUT report, and a station that finishes early has its report at once.

A station that disconnects during its run gets the run's reconnection window
(``RunOptions.reconnect_timeout_s``); a station that connects again after its run finished is
served idly (default answers; its frames go to ``OUT/serve-<id>-idle.jsonl``) until it
leaves. Two connections with the same
station id at once: the newer **replaces** the older, as in ``listen``
(:class:`~harness.runner.targets.ConnectionSlots`): the old one is closed with 1008, the case
on it ends INCONCLUSIVE naming that, and the run goes on with the new one; the status board
follows the newest connection.

Refused handshakes (401, 404) and replaced connections are recorded in the station's run
folder (``events.jsonl``) when it has one, and always in ``OUT/serve-events.jsonl``; failed
authentication is slowed down per station id and address (see
:mod:`harness.transport.ws_server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.clock import Clock
from harness.lab.observer import LabObserver
from harness.lab.status import StationState, StatusBoard, boot_info
from harness.results import (
    CaseResult,
    DeviceKind,
    DeviceRef,
    EventLog,
    Manifest,
    OutsideTrace,
    RunStorageError,
    RunStore,
    RunStoreError,
    Summary,
    new_run_id,
)
from harness.results.manifest import check_name
from harness.runner.endpoint import CsmsEndpoint
from harness.runner.operator import Operator, SimulationControl, VehiclesStayPluggedIn
from harness.runner.output import finish_run
from harness.runner.progress import format_duration
from harness.runner.run import PlannedCase, RunOptions, run_cases
from harness.runner.targets import ConnectionSlots, EventRecorder, next_open
from harness.scenario import Capabilities, Environment, Step, VehicleFacts
from harness.security import SecurityProfile, serve_options
from harness.transport import (
    HandshakeRequest,
    OcppServer,
    OcppSubprotocol,
    Refused,
    Transport,
    serve_ocpp,
)

__all__ = ["LabPlan", "LabServer", "Refusal", "StationRun"]

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LabPlan:
    """What every station runs, and where results go."""

    planned: Sequence[PlannedCase]
    capabilities: Callable[[str], Capabilities | None]
    """The capability declaration of a station id (``None``: the station is not served)."""
    out: Path
    strict: bool = False
    options: RunOptions = field(
        default_factory=lambda: RunOptions(connect_timeout_s=None, reconnect_timeout_s=120.0)
    )
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Passwords to hide in traces (and logs)."""
    station_limit: int | None = None
    """Finish after this many stations' runs are complete (``None``: serve until stopped)."""
    unattended: bool = False
    """Nobody is at the stations (``serve --unattended``): their vehicles stay plugged in
    (:class:`~harness.runner.operator.VehiclesStayPluggedIn`), so a case that needs a hand
    (plug, unplug, an external limit) is INCONCLUSIVE, never judged."""


class _StationProvider:
    """A :class:`~harness.runner.targets.DutProvider` for one station id on the lab server."""

    environment = Environment.LAB
    control: SimulationControl | None = None
    vehicle_facts: VehicleFacts | None = None  # a lab declares its vehicle, if at all

    def __init__(
        self,
        station_id: str,
        target: str,
        clock: Clock,
        control: SimulationControl | None = None,
    ) -> None:
        self.station_id = station_id
        self.control = control
        self.target = target
        self.clock = clock
        self.queue: asyncio.Queue[Transport] = asyncio.Queue()
        self.devices: tuple[DeviceRef, ...] = (
            DeviceRef(DeviceKind.STATION, station_id, station_id),
        )

        self.record: EventRecorder | None = None

        self.taken: Transport | None = None
        """The connection the run took last."""

    async def connect(self, *, timeout_s: float | None) -> Transport | None:
        self.taken = await next_open(self.queue, self.clock, timeout_s)
        return self.taken

    def record_events(self, record: EventRecorder) -> None:
        """Where this station's events go (its run folder); called by the run."""
        self.record = record

    async def close(self) -> None:
        """Nothing to stop: the server belongs to :class:`LabServer`."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A connection refused at the door: by the admission check (``layer`` ``"HTTP 401"``,
    the station id known) or during the TLS handshake (``"TLS"``, the OpenSSL reason, e.g.
    ``PEER_DID_NOT_RETURN_A_CERTIFICATE``; the id is not known yet). Never holds a password."""

    station_id: str | None
    layer: str
    reason: str
    at: datetime


@dataclass(slots=True)
class StationRun:
    """One station's run: its task, and its results once done."""

    station_id: str
    provider: _StationProvider
    task: asyncio.Task[list[CaseResult]] | None = None
    results: list[CaseResult] = field(default_factory=list)
    run_dir: Path | None = None
    done: bool = False
    storage_error: str | None = None
    """Why its run folder could not be written (full disk, read-only folder); ``None``: it was."""


class LabServer:
    """Serves stations and runs :class:`LabPlan` on each (see the module docstring).

    ``operators(station_id)`` gives each run its operator (e.g.
    :meth:`harness.lab.operators.MqttDesk.operator`); ``echo`` prints a line (the status
    table, countdowns, one line per verdict). ``security`` is the CSMS side of a security
    profile (default: profile 0); each refused station is shown and kept in
    :attr:`refusals`. ``observer`` (e.g. the web console's hub) is told of every change as it
    happens (see :class:`~harness.lab.observer.LabObserver`).
    """

    def __init__(
        self,
        plan: LabPlan,
        *,
        clock: Clock,
        operators: Callable[[str], Operator],
        echo: Echo,
        host: str = "127.0.0.1",
        port: int = 0,
        security: SecurityProfile | None = None,
        observer: LabObserver | None = None,
    ) -> None:
        self.plan = plan
        self.observer = observer
        self.clock = clock
        self.board = StatusBoard()
        self.runs: dict[str, StationRun] = {}
        self._operators = operators
        self._echo = echo
        self._host, self._port = host, port
        self.security = security or SecurityProfile()
        self.refusals: list[Refusal] = []
        """Every station refused at the door (HTTP 401, or a failed TLS handshake)."""
        self._options = serve_options(self.security, on_tls_failure=self._tls_failed)
        admission = self._options["authorize_handshake"]
        self._options["authorize_handshake"] = lambda request: self._admit(admission, request)
        self._options["on_refused"] = self._record_refusal
        self._slots = ConnectionSlots()
        self._events: EventLog | None = None
        self._idle_frames: OutsideTrace | None = None
        self._server: OcppServer | None = None
        self._done = asyncio.Event()
        scheme = "wss" if self._options.get("ssl") is not None else "ws"
        self.url = f"{scheme}://{host}:{port}"

    async def start(self) -> OcppServer:
        """Start listening (``port`` 0 picks a free one: read :attr:`url`)."""
        server = serve_ocpp(self._handle, host=self._host, port=self._port, **self._options)
        await server.start()
        self._server = server
        self.url = f"{self.url.rsplit(':', 1)[0]}:{server.port}"
        return server

    async def wait_done(self) -> None:
        """Return once ``station_limit`` runs are complete (never, without a limit)."""
        await self._done.wait()
        runs = [r.task for r in self.runs.values() if r.task is not None]
        await asyncio.gather(*runs, return_exceptions=True)

    async def close(self) -> None:
        """Stop listening and cancel runs still going (their results so far are on disk)."""
        for run in self.runs.values():
            if run.task is not None and not run.task.done():
                run.task.cancel()
                with contextlib.suppress(BaseException):
                    await run.task
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self._events is not None:
            self._events.close()
            self._events = None
        if self._idle_frames is not None:
            with contextlib.suppress(RunStoreError):
                self._idle_frames.close()
            self._idle_frames = None

    def run_dir(self, station_id: str) -> Path | None:
        """The run folder of ``station_id``'s run (``None``: no run, or not created yet)."""
        run = self.runs.get(station_id)
        return None if run is None else run.run_dir

    def summaries(self) -> dict[str, Summary]:
        """Each finished station's verdict summary."""
        return {
            sid: Summary.of((r.verdict for r in run.results), strict=self.plan.strict)
            for sid, run in self.runs.items()
            if run.done
        }

    def storage_errors(self) -> dict[str, str]:
        """Each finished station whose run folder could not be written, with the one-line
        reason (the command then exits :attr:`~harness.exitcodes.ExitCode.STORAGE`)."""
        return {
            sid: run.storage_error
            for sid, run in self.runs.items()
            if run.done and run.storage_error is not None
        }

    # ------------------------------------------------------------ connections

    def _admit(
        self, admission: Callable[[HandshakeRequest], Any], request: HandshakeRequest
    ) -> Any:
        """The profile's admission check, with each refusal shown and recorded."""
        reason = admission(request)
        if isinstance(reason, str):
            self._refused(Refusal(request.station_id, "HTTP 401", reason, self.clock.now()))
        return reason

    def _tls_failed(self, reason: str) -> None:
        # Before HTTP: the station id is not known yet.
        self._refused(Refusal(None, "TLS", reason, self.clock.now()))

    def _event(self, station_id: str | None, event: str, **fields: Any) -> None:
        """Record ``event`` in ``OUT/serve-events.jsonl`` and the station's run folder."""
        at = self.clock.now()
        try:
            if self._events is None:
                self.plan.out.mkdir(parents=True, exist_ok=True)
                self._events = EventLog(
                    self.plan.out / "serve-events.jsonl", secrets=self.plan.secrets
                )
            self._events.append(event, at=at, station_id=station_id, **fields)
        except (OSError, RunStoreError) as exc:
            self._echo(f"warning: cannot record {event}: {exc}")
        run = self.runs.get(station_id) if station_id is not None else None
        if run is not None and run.provider.record is not None and not run.done:
            with contextlib.suppress(OSError, RunStoreError):
                run.provider.record(event, at=at, station_id=station_id, **fields)

    def _idle_trace(self) -> OutsideTrace | None:
        """``OUT/serve-<id>-idle.jsonl``: the frames of stations served after their run
        (opened on first use, one per server; ``None`` if it cannot be written)."""
        if self._idle_frames is None:
            name = f"serve-{new_run_id(started_at=self.clock.now())}-idle.jsonl"
            try:
                self.plan.out.mkdir(parents=True, exist_ok=True)
                self._idle_frames = OutsideTrace(self.plan.out / name, secrets=self.plan.secrets)
            except (OSError, RunStoreError) as exc:
                self._echo(f"warning: cannot record idle connections: {exc}")
        return self._idle_frames

    def _record_refusal(self, refused: Refused) -> None:
        kind = "auth_failed" if refused.status == 401 else "station_refused"
        self._event(
            refused.station_id,
            kind,
            remote=refused.remote,
            status=refused.status,
            reason=refused.reason,
            delay_s=refused.delay_s,
            failures=refused.failures,
        )

    def _refused(self, refusal: Refusal) -> None:
        self.refusals.append(refusal)
        who = refusal.station_id or "a station"
        self._echo(f"[{who}] refused ({refusal.layer}): {refusal.reason}")

    async def _handle(self, transport: Transport) -> None:
        sid = transport.station_id
        status = self.board.station(sid)

        def replaced(reason: str) -> None:
            self._echo(f"[{sid}] {reason}")
            self._event(sid, "connection_replaced", reason=reason)

        await self._slots.take(transport, on_replaced=replaced)
        status.connected = True
        status.ocpp = transport.subprotocol.version.value
        try:
            run = self.runs.get(sid)
            if run is not None and run.done:
                self._echo(f"[{sid}] connected again after its run: served idly")
                self._show()
                await self._idle(transport)
                return
            if run is None:
                caps = self.plan.capabilities(sid)
                if caps is None:
                    self._echo(f"[{sid}] refused: no capability declaration for this station")
                    await transport.close(
                        code=1008, reason="no capability declaration for this station"
                    )
                    return
                control = VehiclesStayPluggedIn() if self.plan.unattended else None
                provider = _StationProvider(sid, f"serve {self.url}", self.clock, control)
                run = StationRun(sid, provider)
                self.runs[sid] = run
                run.task = asyncio.create_task(self._run(run, caps), name=f"lab-{sid}")
            elif status.state is StationState.WAITING:
                status.state = StationState.RUNNING
            self._show()
            await run.provider.queue.put(transport)
            while not transport.closed and not run.done:
                await self.clock.sleep(0.5)
            if not transport.closed and run.provider.taken is not transport:
                # queued behind a connection the run ended on: never left unanswered
                self._echo(f"[{sid}] its run ended before it took this connection: served idly")
                await self._idle(transport)
        finally:
            if self._slots.release(transport):  # not replaced by a newer connection
                status.connected = False
                run = self.runs.get(sid)
                if run is not None and not run.done:
                    status.state = StationState.WAITING
                self._show()

    async def _idle(self, transport: Transport) -> None:
        endpoint = CsmsEndpoint(transport, clock=self.clock)
        endpoint.outside = self._idle_trace()
        endpoint.start()
        try:
            await _closed(transport, self.clock)
        finally:
            await endpoint.close()

    def _show(self) -> None:
        self._echo(self.board.table())
        if self.observer is not None:
            for status in self.board.stations.values():
                self.observer.station_changed(status)

    # ------------------------------------------------------------------ runs

    async def _run(self, run: StationRun, caps: Capabilities) -> list[CaseResult]:
        sid = run.station_id
        status = self.board.station(sid)
        planned = list(self.plan.planned)
        status.planned = len(planned)
        status.state = StationState.RUNNING
        status.case = planned[0].case.id if planned else ""
        wall0 = time.perf_counter()
        manifest = self._manifest(sid, caps)
        try:
            with RunStore.create(self.plan.out, manifest, secrets=self.plan.secrets) as writer:
                run.run_dir = writer.run_dir
                status.run_dir = str(writer.run_dir)

                def connected(endpoint: CsmsEndpoint) -> None:
                    info = boot_info(endpoint.observations.boot)
                    status.boot = info
                    attributes: dict[str, Any] = {
                        k: v for k, v in (("firmware", info.firmware), ("serial", info.serial)) if v
                    }
                    label = " ".join(p for p in (info.vendor, info.model) if p) or sid
                    run.provider.devices = (DeviceRef(DeviceKind.STATION, sid, label, attributes),)
                    if (observer := self.observer) is not None:
                        endpoint.observations.observers.append(
                            lambda item: observer.observed(sid, item)
                        )
                    self._show()

                def judged(result: CaseResult) -> None:
                    verdict = result.verdict
                    status.verdicts[verdict] = status.verdicts.get(verdict, 0) + 1
                    following = planned[status.finished] if status.finished < len(planned) else None
                    status.case = following.case.id if following else ""
                    self._echo(
                        f"[{sid}] {result.info.case_id}: {verdict.value}"
                        + (f" — {result.reason}" if result.reason else "")
                    )
                    if self.observer is not None:
                        self.observer.judged(sid, result)
                        self.observer.station_changed(status)

                def waiting(remaining_s: float, total_s: float) -> None:
                    self._echo(
                        f"[{sid}] {status.case or '-'}: wait {format_duration(remaining_s)} "
                        f"left of {format_duration(total_s)}"
                    )
                    if self.observer is not None:
                        self.observer.waiting(sid, remaining_s, total_s)

                def step(case_id: str, number: int, step: Step, values: Mapping[str, Any]) -> None:
                    if self.observer is not None:
                        self.observer.step_started(sid, case_id, number, step, values)

                run.results = await run_cases(
                    planned,
                    provider=run.provider,
                    writer=writer,
                    clock=self.clock,
                    operator=self._operators(sid),
                    capabilities=caps,
                    options=self.plan.options,
                    on_result=judged,
                    on_connected=connected,
                    wait_progress=waiting,
                    secrets=self.plan.secrets,
                    on_step=step,
                )
                writer.finish(finished_at=self.clock.now(), devices=run.provider.devices)
        except RunStorageError as exc:
            run.storage_error = str(exc)  # "cannot write the run folder: PATH: REASON"
            self._echo(f"[{sid}] {exc}")
        except RunStoreError as exc:
            self._echo(f"[{sid}] cannot write the run folder: {exc}")
        finally:
            run.done = True
            status.state = StationState.DONE
            status.case = ""
            self._finished(run, wall_s=time.perf_counter() - wall0)
        return run.results

    def _manifest(self, sid: str, caps: Capabilities) -> Manifest:
        run_id = new_run_id(started_at=self.clock.now())
        with contextlib.suppress(RunStoreError):
            run_id = check_name(f"{run_id}-{sid}", "run id")
        versions = tuple(OcppSubprotocol.of(v) for v in caps.ocpp_versions)
        options: dict[str, Any] = {
            "strict": self.plan.strict,
            "station": sid,
            "unattended": self.plan.unattended,
            "capabilities": {
                "name": caps.name,
                "declared": caps.model_dump(mode="json", exclude_none=True),
            },
        }
        return Manifest(
            run_id=run_id,
            started_at=self.clock.now(),
            target=f"serve {self.url}",
            ocpp_versions=versions,
            options=options,
        )

    def _finished(self, run: StationRun, *, wall_s: float) -> None:
        sid = run.station_id

        def echo(line: str) -> None:  # every line names its station; blank lines stay blank
            self._echo(f"[{sid}] {line}" if line else "")

        # The run's own lines (recap, summary, run folder, reports) as `run` prints them.
        # Unlike `run`, serve leaves the traces plain (uncompacted), as it always has.
        finish_run(
            run.results,
            run.run_dir,
            strict=self.plan.strict,
            wall_s=wall_s,
            echo=echo,
            warn=echo,
            compact=False,
        )
        self._show()
        limit = self.plan.station_limit
        if limit is not None and sum(r.done for r in self.runs.values()) >= limit:
            self._done.set()


async def _closed(transport: Transport, clock: Clock) -> None:
    """Return once ``transport`` is closed (checked twice a second of clock time)."""
    while not transport.closed:
        await clock.sleep(0.5)
