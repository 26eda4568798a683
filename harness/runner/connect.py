"""``--target connect URL``: the harness plays charging stations against a CSMS under test.

:func:`run_cases_connect` runs ``dut_role: csms`` cases: per case it decides applicability
(:func:`~harness.scenario.selects` with the CSMS's declaration), opens a fresh WebSocket
connection to ``URL`` (whose last path segment is the station id) with the case's OCPP version,
runs the :class:`~harness.runner.station_role.StationCaseEngine` with every frame in the case's
trace, closes the connection and writes the result at once. A CSMS that cannot be reached or
refuses the connection makes the case INCONCLUSIVE. :func:`run_connect` is the command: it
creates the run store, prints progress and the recap, and returns the exit status.

Time is real (a real network peer answers in real time), so the clock is a
:class:`~harness.clock.ScaledClock` at speed 1: keep the cases' ``within_s`` short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from harness.clock import Clock, ScaledClock
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
from harness.runner.run import PlannedCase
from harness.runner.station_role import (
    StationCaseEngine,
    StationEndpoint,
    StationState,
    declaration_from_parameters,
)
from harness.scenario import Capabilities, DutRole, Environment, selects
from harness.smartcharging import OcppVersion
from harness.transport import OcppSubprotocol, TransportError, connect_ocpp

__all__ = ["csms_capabilities", "run_cases_connect", "run_connect"]

_SUBPROTOCOL = {
    "1.6": OcppSubprotocol.V16,
    "2.0.1": OcppSubprotocol.V201,
    "2.1": OcppSubprotocol.V21,
}


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


async def run_cases_connect(
    planned: Sequence[PlannedCase],
    *,
    url: str,
    writer: RunWriter,
    clock: Clock,
    operator: Operator,
    capabilities: Capabilities,
    open_timeout_s: float = 10.0,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run ``planned`` cases against the CSMS at ``url``; each result is written at once.
    Never raises for the CSMS's faults."""
    results: list[CaseResult] = []
    csms = DeviceRef(DeviceKind.CSMS, url, capabilities.name or url)
    for item in planned:
        wall0 = time.perf_counter()
        case = item.case
        applicability = selects(case, capabilities, environment=Environment.LAB)
        version = (applicability.versions or tuple(map(str, case.ocpp_versions)))[0]
        info = CaseInfo(
            case_id=case.id,
            title=case.title,
            suite=case.suite,
            category=case.category or "",
            ocpp_version=_SUBPROTOCOL[version],
            devices=(csms,),
            parameters=dict(item.parameters),
        )
        if applicability.reasons:
            result = CaseResult.not_applicable(
                info, reason="; ".join(applicability.reasons), at=clock.now()
            )
        else:
            try:
                result = await _run_one(
                    item, info, url, version, writer, clock, operator, wall0, open_timeout_s
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
            url, subprotocols=(_SUBPROTOCOL[version],), open_timeout_s=open_timeout_s
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
        endpoint, clock=clock, operator=operator, station_id=transport.station_id
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
) -> int:
    """``ocpp-harness run --target connect URL``: run, print, report; the exit status."""
    from harness.runner import cli  # the shared progress/recap printing

    wall0 = time.perf_counter()
    csms_cases = [p for p in planned if p.case.dut_role is DutRole.CSMS]
    for item in csms_cases:
        try:
            declaration_from_parameters(item.parameters)
        except ValueError as exc:  # bad input: exit 2 before anything runs
            raise cli.InputProblem(f"{item.case.id}: {exc}") from None
    versions = sorted({str(v) for p in csms_cases for v in p.case.ocpp_versions}) or ["1.6"]
    caps = capabilities or csms_capabilities(versions)
    clock = ScaledClock(speed=1.0, start=datetime.now(UTC))
    manifest = Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=f"connect {url}",
        ocpp_versions=tuple(_SUBPROTOCOL[v] for v in versions),
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
            on_result=cli._Progress(len(planned), strict=strict),
        )
        writer.finish(finished_at=clock.now())
    return cli._finish(results, writer.run_dir, strict=strict, wall_s=time.perf_counter() - wall0)
