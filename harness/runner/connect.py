"""``--target connect URL``: the harness plays charging stations against a CSMS under test.

:func:`run_cases_connect` runs ``dut_role: csms`` cases: per case it decides applicability
(:func:`~harness.scenario.selects` with the CSMS's declaration), opens a fresh WebSocket
connection to ``URL`` (whose last path segment is the station id) with the case's OCPP version,
runs the :class:`~harness.runner.station_role.StationCaseEngine` with every frame in the case's
trace, closes the connection and writes the result at once. A CSMS that cannot be reached or
refuses the connection makes the case INCONCLUSIVE. :func:`run_connect` is the command: it
creates the run store, prints progress and the recap, and returns the exit status.

Isolation: the identity parameters (:data:`IDENTITY_PARAMETERS`: ``id_tag``, ``id_token``,
``transaction_id``) are patterns (:mod:`harness.identities`) expanded per case, so every case
presents its own token and transaction id; at the end of a case the station ends the
transactions it started and reports its connectors Available (the engine's wind-down);
``case_pause_s`` waits between cases (a CSMS may need a moment after a station left before
it takes the same station id again).

Time is real (a real network peer answers in real time), so the clock is a
:class:`~harness.clock.ScaledClock` at speed 1: keep the cases' ``within_s`` short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from harness.clock import Clock, ScaledClock
from harness.identities import expand, run_tag, token_problem
from harness.results import (
    CaseInfo,
    CaseResult,
    DeviceKind,
    DeviceRef,
    Interruption,
    Manifest,
    RunStore,
    RunStoreError,
    RunWriter,
    new_run_id,
)
from harness.runner.operator import Operator, TerminalOperator
from harness.runner.output import InputProblem, Progress, finish_run
from harness.runner.run import PlannedCase
from harness.runner.station_role import (
    StationCaseEngine,
    StationEndpoint,
    StationState,
    declaration_from_parameters,
)
from harness.runner.station_role.engine import TRIGGER_QUIET_S
from harness.scenario import Capabilities, DutRole, Environment, selects
from harness.transport import OcppSubprotocol, TransportError, connect_ocpp
from harness.versions import OcppVersion

__all__ = [
    "IDENTITY_PARAMETERS",
    "case_identities",
    "csms_capabilities",
    "run_cases_connect",
    "run_connect",
]

IDENTITY_PARAMETERS = ("id_tag", "id_token", "transaction_id")
"""Case parameters that are identity patterns (see :mod:`harness.identities`)."""


def csms_capabilities(versions: Sequence[str]) -> Capabilities:
    """The declaration assumed for a CSMS when none is given: ``versions``, smart charging
    with every purpose, kind and unit (the cases then say what the CSMS must do)."""
    return Capabilities.model_validate(
        {
            "name": "CSMS under test (no declaration given)",
            "ocpp_versions": list(versions),
            "role": "csms",
            "smart_charging": True,
            "purposes": ["station_max", "tx_default", "tx"],
            "profile_kinds": ["absolute", "recurring", "relative"],
            "units": ["A", "W"],
        }
    )


def case_identities(
    parameters: Mapping[str, Any], *, version: str, case: int, station_id: str, run: str
) -> dict[str, Any]:
    """``parameters`` with the identity patterns expanded for case number ``case`` (1...) of
    the run ``run`` (:func:`harness.identities.run_tag`) on ``station_id``.

    Raises :class:`ValueError` naming the parameter for a bad pattern, or a token that is not
    valid for OCPP ``version`` (an ``id_token`` is ISO14443: 8 or 14 hex digits).
    """
    out = dict(parameters)
    for name in IDENTITY_PARAMETERS:
        if name not in out:
            continue
        try:
            value = expand(str(out[name]), station_id=station_id, evse=1, case=case, run=run)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        if name != "transaction_id":
            token_type = "ISO14443" if name == "id_token" else "Central"
            problem = token_problem(value, token_type, version=version)
            if problem is not None:
                raise ValueError(f"{name}: {problem}")
        elif len(value) > 36:
            raise ValueError(f"{name}: {value!r} is longer than 36 characters")
        out[name] = value
    return out


def _station_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


async def run_cases_connect(
    planned: Sequence[PlannedCase],
    *,
    url: str,
    writer: RunWriter,
    clock: Clock,
    operator: Operator,
    capabilities: Capabilities,
    open_timeout_s: float = 10.0,
    case_pause_s: float = 0.0,
    trigger_quiet_s: float = TRIGGER_QUIET_S,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run ``planned`` cases against the CSMS at ``url``; each result is written at once.
    ``case_pause_s``: clock seconds to wait between two cases that connected;
    ``trigger_quiet_s``: how long the CSMS must be quiet before a trigger. Never raises
    for the CSMS's faults."""
    results: list[CaseResult] = []
    csms = DeviceRef(DeviceKind.CSMS, url, capabilities.name or url)
    run = run_tag(clock.now())
    station_id = _station_id(url)
    connected_before = False
    for number, item in enumerate(planned, start=1):
        wall0 = time.perf_counter()
        case = item.case
        applicability = selects(case, capabilities, environment=Environment.LAB)
        version = (applicability.versions or tuple(map(str, case.ocpp_versions)))[0]
        identity_problem: str | None = None
        try:
            parameters = case_identities(
                item.parameters, version=version, case=number, station_id=station_id, run=run
            )
        except ValueError as exc:  # run_connect refuses this as bad input before running
            parameters, identity_problem = dict(item.parameters), str(exc)
        item = PlannedCase(case, parameters)
        info = CaseInfo(
            case_id=case.id,
            title=case.title,
            suite=case.suite,
            category=case.category or "",
            ocpp_version=OcppSubprotocol.of(version),
            devices=(csms,),
            parameters=dict(item.parameters),
        )
        if applicability.reasons:
            result = CaseResult.not_applicable(
                info, reason="; ".join(applicability.reasons), at=clock.now()
            )
        elif identity_problem is not None:
            now = clock.now()
            result = CaseResult(
                info,
                now,
                now,
                time.perf_counter() - wall0,
                interruption=Interruption.inconclusive(f"identity parameters: {identity_problem}"),
            )
        else:
            if connected_before and case_pause_s > 0:
                await clock.sleep(case_pause_s)
            connected_before = True
            try:
                result = await _run_one(
                    item,
                    info,
                    url,
                    version,
                    writer,
                    clock,
                    operator,
                    wall0,
                    open_timeout_s,
                    trigger_quiet_s,
                )
            except Exception as exc:  # a harness defect: ERROR for this case, go on
                now = clock.now()
                result = CaseResult.harness_error(
                    info,
                    exc,
                    started_at=now,
                    finished_at=now,
                    wall_duration_s=time.perf_counter() - wall0,
                )
        try:
            writer.write_result(result)
        except RunStoreError as exc:  # e.g. a check cites evidence that is not there
            now = clock.now()
            result = CaseResult.harness_error(
                info,
                exc,
                started_at=now,
                finished_at=now,
                wall_duration_s=time.perf_counter() - wall0,
            )
            writer.write_result(result)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


async def _run_one(
    item: PlannedCase,
    info: CaseInfo,
    url: str,
    version: str,
    writer: RunWriter,
    clock: Clock,
    operator: Operator,
    wall0: float,
    open_timeout_s: float,
    trigger_quiet_s: float,
) -> CaseResult:
    started = clock.now()
    try:
        declaration = declaration_from_parameters(item.parameters)
    except ValueError as exc:
        return CaseResult(
            info,
            started,
            clock.now(),
            time.perf_counter() - wall0,
            interruption=Interruption.inconclusive(f"station parameters: {exc}"),
        )
    try:
        transport = await connect_ocpp(
            url, subprotocols=(OcppSubprotocol.of(version),), open_timeout_s=open_timeout_s
        )
    except TransportError as exc:  # HandshakeRefused is a TransportError too
        return CaseResult(
            info,
            started,
            clock.now(),
            time.perf_counter() - wall0,
            interruption=Interruption.inconclusive(
                f"could not connect to the CSMS at {url} with OCPP {version}: {exc}"
            ),
        )
    sink = writer.trace_sink(info.key)
    state = StationState(OcppVersion(version), declaration)
    endpoint = StationEndpoint(transport, clock=clock, state=state, sink=sink)
    endpoint.start()
    engine = StationCaseEngine(
        endpoint,
        clock=clock,
        operator=operator,
        station_id=transport.station_id,
        trigger_quiet_s=trigger_quiet_s,
    )
    try:
        outcome = await engine.run(item.case, parameters=item.parameters)
    finally:
        await endpoint.close()
    return CaseResult(
        info,
        started,
        clock.now(),
        time.perf_counter() - wall0,
        checks=outcome.checks,
        steps=outcome.steps,
        interruption=outcome.interruption,
        measurement_source=outcome.measurement_source,
    )


async def run_connect(
    planned: list[PlannedCase],
    *,
    url: str,
    capabilities: Capabilities | None,
    out: Path,
    strict: bool,
    operator: Operator | None = None,
    case_pause_s: float = 0.0,
) -> int:
    """``ocpp-harness run --target connect URL``: run, print, report; the exit status.
    ``case_pause_s``: seconds between cases (``--case-pause``)."""
    wall0 = time.perf_counter()
    csms_cases = [p for p in planned if p.case.dut_role is DutRole.CSMS]
    for item in csms_cases:
        try:
            declaration_from_parameters(item.parameters)
            for version in item.case.ocpp_versions:
                case_identities(
                    item.parameters,
                    version=str(version),
                    case=1,
                    station_id=_station_id(url),
                    run="000000000000",
                )
        except ValueError as exc:  # bad input: exit 2 before anything runs
            raise InputProblem(f"{item.case.id}: {exc}") from None
    versions = sorted({str(v) for p in csms_cases for v in p.case.ocpp_versions}) or ["1.6"]
    caps = capabilities or csms_capabilities(versions)
    clock = ScaledClock(speed=1.0, start=datetime.now(UTC))
    manifest = Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=f"connect {url}",
        ocpp_versions=tuple(OcppSubprotocol.of(v) for v in versions),
        options={"strict": strict},
        devices=(DeviceRef(DeviceKind.CSMS, url, caps.name or url),),
    )
    with RunStore.create(out, manifest) as writer:
        click.echo(f"Run {manifest.run_id}: {len(planned)} case(s) as a station against {url}")
        results = await run_cases_connect(
            planned,
            url=url,
            writer=writer,
            clock=clock,
            operator=operator or TerminalOperator(stdin=sys.stdin, stdout=sys.stdout),
            capabilities=caps,
            case_pause_s=case_pause_s,
            on_result=Progress(len(planned), strict=strict),
        )
        writer.finish(finished_at=clock.now())
    return finish_run(results, writer.run_dir, strict=strict, wall_s=time.perf_counter() - wall0)
