"""A run: cases one after another on one DUT connection, each result stored as it is judged.

:func:`run_cases` takes the cases, a :class:`~harness.runner.targets.DutProvider` and an
open :class:`~harness.results.RunWriter`. Per case it

1. decides applicability (:func:`~harness.scenario.selects` with the capability declaration,
   the vehicle's facts — the provider's simulated vehicle, else the declaration's
   ``vehicle:`` section — and the OCPP version the DUT connected with) — NOT_APPLICABLE
   with every reason; parameters with ``from_vehicle`` take the vehicle's fact unless given
   explicitly (:func:`~harness.scenario.with_vehicle_facts`);
2. makes sure the DUT is connected (after a disconnection: the provider restarts the
   simulated station, or waits a bounded time for the real one) — INCONCLUSIVE if not;
3. resets the DUT (:mod:`harness.runner.reset`: stop every transaction, unplug in
   simulation, wait until idle, clear the profiles if the case uses them), traced into the
   case's own trace — a reset that cannot reach idle makes the case INCONCLUSIVE naming what
   is busy; a request the declaration promises answered "not supported" makes it FAIL;
4. runs the :class:`~harness.runner.engine.CaseEngine` and writes the
   :class:`~harness.results.CaseResult` at once (in the file before the next case: a crash
   of the harness loses nothing judged; fsynced within 0.2 s, its trace before it).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.clock import Clock
from harness.results import (
    CaseInfo,
    CaseResult,
    CheckResult,
    DeviceKind,
    DeviceRef,
    Interruption,
    Level,
    OutsideTrace,
    Requirement,
    RunStorageError,
    RunStoreError,
    RunWriter,
)
from harness.runner.endpoint import CsmsEndpoint
from harness.runner.engine import CaseEngine, StepObserver
from harness.runner.operator import Operator
from harness.runner.progress import WaitProgress
from harness.runner.reset import ResetProblem, reset
from harness.runner.stall import StallMonitor
from harness.runner.targets import DutProvider
from harness.scenario import (
    Capabilities,
    Case,
    Environment,
    selects,
    with_vehicle_facts,
)
from harness.transport import OcppSubprotocol

if TYPE_CHECKING:
    from harness.runner.labmeter import LabMeter

__all__ = ["ConnectedCallback", "PlannedCase", "RunOptions", "reset", "run_cases"]


@dataclass(frozen=True, slots=True)
class PlannedCase:
    """A case with its resolved parameters."""

    case: Case
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Timing of a run (clock seconds)."""

    connect_timeout_s: float | None = 120.0
    """How long to wait for the DUT's first connection; ``None``: for ever."""
    reconnect_timeout_s: float | None = 120.0
    """How long to wait for the DUT to come back after a disconnection. If it does not, the
    case is INCONCLUSIVE saying so, and so are the following cases unless a connection is
    already waiting when each begins (the run is not held again: it ends with its summary)."""
    boot_wait_s: float = 10.0
    """How long to wait for a BootNotification after a connection opens."""
    reset_timeout_s: float = 60.0
    """How long a reset may take (stop transactions, clear profiles)."""
    heartbeat_interval_s: int = 300


ResultCallback = Callable[[CaseResult], None]
ConnectedCallback = Callable[[CsmsEndpoint], Awaitable[None] | None]
"""Called each time the DUT's connection is set up (after its BootNotification, or after
``boot_wait_s`` without one): a lab reads ``endpoint.observations.boot`` to show the
station's vendor, model and firmware, and may refine the provider's devices. A coroutine
is awaited before the first case runs (it may talk to the station, e.g. to cross-check
the declaration against what the station advertises)."""


@dataclass(frozen=True, slots=True)
class _Hooks:
    on_connected: ConnectedCallback | None
    wait_progress: WaitProgress | None
    secrets: tuple[str, ...]
    on_step: StepObserver | None = None


class _Dut:
    """The current connection and its engine."""

    def __init__(self, endpoint: CsmsEndpoint, engine: CaseEngine) -> None:
        assert engine.endpoint is endpoint
        self.engine = engine

    @property
    def endpoint(self) -> CsmsEndpoint:
        """The connection the engine runs on (a ``reconnect`` step moves it to a new one)."""
        return self.engine.endpoint

    async def close(self) -> None:
        await self.endpoint.close()
        if self.engine.stall_monitor is not None:
            await self.engine.stall_monitor.stop()


async def run_cases(
    planned: Sequence[PlannedCase],
    *,
    provider: DutProvider,
    writer: RunWriter,
    clock: Clock,
    operator: Operator,
    capabilities: Capabilities,
    options: RunOptions | None = None,
    on_result: ResultCallback | None = None,
    extra_devices: Sequence[DeviceRef] = (),
    lab_meter: LabMeter | None = None,
    on_connected: ConnectedCallback | None = None,
    wait_progress: WaitProgress | None = None,
    secrets: Sequence[str] = (),
    on_step: StepObserver | None = None,
) -> list[CaseResult]:
    """Run ``planned`` cases against the DUT from ``provider``; return the results (also
    written to ``writer`` one by one). Never raises for the DUT's faults; raises
    :class:`~harness.results.RunStorageError` when the run folder cannot be written (full
    disk, read-only folder): what was written before stays readable.

    ``lab_meter`` (started by the caller) judges ``expect_settled`` on current and power;
    ``on_connected`` sees every new DUT connection (see :data:`ConnectedCallback`);
    ``wait_progress`` is told the time left during ``wait`` steps
    (:mod:`harness.runner.progress`); ``secrets`` (configured passwords) are hidden wherever
    they appear in a trace; ``on_step`` is told of each step as it starts.
    """
    hooks = _Hooks(on_connected, wait_progress, tuple(secrets), on_step)
    opts = options or RunOptions()
    results: list[CaseResult] = []
    dut: _Dut | None = None
    connected_once = False
    gave_up: str | None = None  # why the last wait for a connection ended without one
    outside: OutsideTrace | None = None
    if provider.environment is Environment.LAB:  # a real peer: keep what it sends between cases
        outside = writer.outside_trace(secrets=hooks.secrets)
    attach = getattr(provider, "record_events", None)
    if attach is not None:
        attach(writer.record_event)
    facts = provider.vehicle_facts or capabilities.vehicle
    try:
        for planned_item in planned:
            item, case = planned_item, planned_item.case
            wall0 = time.perf_counter()  # wall time of the case, for the report only
            applicability = selects(
                case, capabilities, environment=provider.environment, vehicle=facts
            )
            values, notes = with_vehicle_facts(case, item.parameters, facts)
            item = PlannedCase(case, values)
            if dut is None or dut.endpoint.closed:
                if dut is not None:
                    await dut.close()
                timeout_s = opts.reconnect_timeout_s if connected_once else opts.connect_timeout_s
                if gave_up is not None:
                    timeout_s = 0.0  # only a connection already waiting
                dut = await _connect(
                    provider,
                    clock,
                    operator,
                    capabilities,
                    opts,
                    timeout_s,
                    hooks,
                    lab_meter,
                    outside=outside,
                )
                if dut is not None:
                    gave_up = None
                elif gave_up is None:
                    what = "reconnect" if connected_once else "connect"
                    bound = "" if timeout_s is None else f" within {timeout_s:g} s"
                    gave_up = f"the DUT did not {what}{bound}"
                    with contextlib.suppress(RunStoreError, OSError):
                        writer.record_event(
                            "no_connection", at=clock.now(), case=case.id, reason=gave_up
                        )
                connected_once = connected_once or dut is not None
            if _other_variant_runs(planned_item, planned, dut):
                continue
            if dut is not None:
                version = str(dut.endpoint.version)
            else:
                version = (applicability.versions or tuple(map(str, case.ocpp_versions)))[0]
            info = case_info(item, provider, extra_devices, version)
            reasons = list(applicability.reasons)
            if (
                dut is not None
                and not reasons
                and str(dut.endpoint.version) not in {str(v) for v in case.ocpp_versions}
            ):
                reasons.append(
                    f"applies to OCPP {', '.join(map(str, case.ocpp_versions))}; the DUT "
                    f"connected with OCPP {dut.endpoint.version}"
                )
            if reasons:
                result = CaseResult.not_applicable(info, reason="; ".join(reasons), at=clock.now())
            elif dut is None:
                now = clock.now()
                result = CaseResult(
                    info,
                    now,
                    now,
                    time.perf_counter() - wall0,
                    interruption=Interruption.inconclusive(
                        gave_up or "the DUT did not connect (or reconnect) in time"
                    ),
                )
            else:
                try:
                    result = await _run_one(
                        item, info, dut, writer, clock, opts, wall0, hooks.secrets, notes
                    )
                except Exception as exc:  # a harness defect: ERROR for this case, go on
                    result = _error(info, exc, clock, wall0)
            if dut is not None and dut.endpoint.storage_error is not None:
                raise dut.endpoint.storage_error  # frames were lost: stop, say so
            try:
                writer.write_result(result)
            except RunStorageError:
                raise  # the run folder cannot be written: nothing more can be kept
            except RunStoreError as exc:  # e.g. a check cites evidence that is not there
                result = _error(info, exc, clock, wall0)
                writer.write_result(result)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if dut is not None:
            await dut.close()
        await provider.close()
    return results


def _other_variant_runs(
    item: PlannedCase, planned: Sequence[PlannedCase], dut: _Dut | None
) -> bool:
    """True when ``item`` is one of several cases with its id (one per OCPP version, e.g. the
    1.6 and the 2.0.1 VP-04) and another of them is the one for this DUT: the one for the
    version the DUT connected with, else (no such case, or no DUT) the first. Only one of
    them is reported, so a result key (case id × devices) is written once."""
    same = [p for p in planned if p.case.id == item.case.id]
    if len(same) < 2:
        return False
    if dut is not None:
        version = str(dut.endpoint.version)
        fits = [p for p in same if version in {str(v) for v in p.case.ocpp_versions}]
        if fits:
            return fits[0] is not item
    return same[0] is not item


def _error(info: CaseInfo, exc: Exception, clock: Clock, wall0: float) -> CaseResult:
    now = clock.now()
    return CaseResult.harness_error(
        info, exc, started_at=now, finished_at=now, wall_duration_s=time.perf_counter() - wall0
    )


def case_info(
    item: PlannedCase,
    provider: DutProvider,
    extra: Sequence[DeviceRef],
    version: str,
) -> CaseInfo:
    """What the results say about ``item`` run on ``provider``'s devices (plus ``extra``)
    with the DUT speaking OCPP ``version``."""
    case = item.case
    devices = provider.devices or (DeviceRef(DeviceKind.STATION, "DUT", "not connected"),)
    return CaseInfo(
        case_id=case.id,
        title=case.title,
        suite=case.suite,
        category=case.category or "",
        ocpp_version=OcppSubprotocol.of(version),
        devices=(*devices, *extra),
        parameters=dict(item.parameters),
    )


async def _connect(
    provider: DutProvider,
    clock: Clock,
    operator: Operator,
    capabilities: Capabilities,
    opts: RunOptions,
    timeout_s: float | None,
    hooks: _Hooks,
    lab_meter: LabMeter | None = None,
    *,
    outside: OutsideTrace | None = None,
) -> _Dut | None:
    transport = await provider.connect(timeout_s=timeout_s)
    if transport is None:
        return None
    endpoint = CsmsEndpoint(transport, clock=clock, heartbeat_interval_s=opts.heartbeat_interval_s)
    endpoint.outside = outside  # the boot and whatever comes between cases
    endpoint.start()
    monitor: StallMonitor | None = None
    if 1.0 < clock.speed < float("inf"):
        monitor = StallMonitor(speed=clock.speed)
        monitor.start()
    engine = CaseEngine(
        endpoint,
        stall_monitor=monitor,
        clock=clock,
        operator=operator,
        control=provider.control,
        capabilities=capabilities,
        lab_meter=lab_meter,
        wait_progress=hooks.wait_progress,
    )
    engine.on_step = hooks.on_step

    async def reconnect(timeout_s: float) -> CsmsEndpoint | None:
        # A ``reconnect`` step: the DUT's next connection (not started: the engine gives it
        # the case's trace first).
        again = await provider.connect(timeout_s=timeout_s)
        if again is None:
            return None
        return CsmsEndpoint(again, clock=clock, heartbeat_interval_s=opts.heartbeat_interval_s)

    engine.reconnect = reconnect
    # A station that was already booted need not send BootNotification again; a connection
    # that closes meanwhile ends the wait (the next case takes the next connection).
    booted: asyncio.Future[Any] = asyncio.ensure_future(endpoint.observations.booted.wait())
    closed: asyncio.Future[Any] = endpoint.closed_waiter()
    try:
        with contextlib.suppress(TimeoutError):
            await clock.wait_for(
                asyncio.wait({booted, closed}, return_when=asyncio.FIRST_COMPLETED),
                opts.boot_wait_s,
            )
    finally:
        booted.cancel()
        closed.cancel()
    if hooks.on_connected is not None:
        outcome = hooks.on_connected(endpoint)
        if inspect.isawaitable(outcome):  # e.g. reading what the station advertises
            await outcome
    return _Dut(endpoint, engine)


async def _run_one(
    item: PlannedCase,
    info: CaseInfo,
    dut: _Dut,
    writer: RunWriter,
    clock: Clock,
    opts: RunOptions,
    wall0: float,
    secrets: tuple[str, ...],
    notes: Sequence[str] = (),
) -> CaseResult:
    started = clock.now()
    sink = writer.trace_sink(info.key, secrets=secrets)
    dut.endpoint.set_trace(sink)
    try:
        problem = await reset(
            dut.endpoint,
            dut.engine,
            clock=clock,
            timeout_s=opts.reset_timeout_s,
            case=item.case,
        )
    except Exception as exc:
        dut.endpoint.set_trace(None)
        return CaseResult.harness_error(
            info,
            exc,
            started_at=started,
            finished_at=clock.now(),
            wall_duration_s=time.perf_counter() - wall0,
        )
    if problem is not None:
        dut.endpoint.set_trace(None)
        if problem.declared is not None:
            return CaseResult(
                info,
                started,
                clock.now(),
                time.perf_counter() - wall0,
                checks=(_declared_check(item.case, problem),),
            )
        return CaseResult(
            info,
            started,
            clock.now(),
            time.perf_counter() - wall0,
            interruption=Interruption.inconclusive(
                f"the reset before the case failed: {problem.reason}"
            ),
        )
    outcome = await dut.engine.run(item.case, parameters=item.parameters, notes=notes)
    dut.endpoint.set_trace(None)
    interruption = outcome.interruption
    return CaseResult(
        info,
        started,
        clock.now(),
        time.perf_counter() - wall0,
        checks=outcome.checks,
        steps=outcome.steps,
        interruption=interruption,
        measurement_source=outcome.measurement_source,
        series=outcome.series,
    )


def _declared_check(case: Case, problem: ResetProblem) -> CheckResult:
    """The FAIL of a DUT that answered a reset request it declares supported with "not
    supported" (judged against the case's first requirement, at MUST)."""
    first = case.requirements[0] if case.requirements else None
    requirement = Requirement(
        first.id if first else case.id, Level.MUST, first.text if first else case.title
    )
    return CheckResult.failed(
        requirement,
        expected=f"an answer to {problem.action} (the reset before the case): {problem.declared}",
        actual=problem.reason,
        frames=problem.frames,
    )
