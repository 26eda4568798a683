"""``compare_composite``: GetCompositeSchedule, judged against the oracle's composite of the
profiles the DUT accepted (the mirror), within the case's time and value tolerances."""

from __future__ import annotations

from decimal import Decimal

from harness.runner.endpoint_base import plain_json
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.steps.send import declared
from harness.runner.verdicts import CaseRecord, short_json
from harness.scenario import CompareCompositeStep, resolve_int, resolve_number
from harness.scenario.model import OUR_SOURCE
from harness.smartcharging import compare_composite, parse_composite_response
from harness.smartcharging.judge import schedule_text
from harness.versions import OcppVersion

__all__ = [
    "DEFAULT_TIME_TOLERANCE_S",
    "TIME_DEVIATION_PARAMETER",
    "run_composite",
]

DEFAULT_TIME_TOLERANCE_S = 1.0
"""The max time deviation of composite checks when a case gives no ``max_time_deviation``
parameter (the OCA documents' <Configured max time deviation>); never below 1 s, the
resolution of startPeriod and duration."""
TIME_DEVIATION_PARAMETER = "max_time_deviation"
"""How far a composite schedule's start and period starts may be off (clock seconds)."""


async def run_composite(step: CompareCompositeStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``compare_composite`` step."""
    variables = record.variables
    evse = resolve_int(step.evse, variables=variables)
    duration = int(resolve_number(step.duration_s, variables=variables))
    tolerance = resolve_number(step.tolerance, variables=variables)
    version = OcppVersion(str(host.endpoint.version))
    key = "connectorId" if version is OcppVersion.V16 else "evseId"
    payload = {key: evse, "duration": duration, "chargingRateUnit": step.unit}
    record.note(f"compare_composite: GetCompositeSchedule {short_json(payload)}")
    clock = host.clock
    sent_at = clock.now()
    outcome = await host.endpoint.call("GetCompositeSchedule", payload, timeout_s=30.0)
    received_at = clock.now()
    base = f"GetCompositeSchedule of EVSE {evse} over {duration} s in {step.unit}"
    if outcome.payload is None:
        actual = outcome.detail if outcome.failure else f"CALLERROR {outcome.error_code}"
        host.judge(
            step,
            ok=False,
            expected=f"{base} answered with the oracle's schedule",
            actual=actual,
            frames=outcome.frames,
            declared=declared(host, "GetCompositeSchedule", outcome),
        )
        if outcome.failure == "closed":
            raise StopCase
        return
    answer = plain_json(outcome.payload)
    start = sent_at
    try:
        reported = parse_composite_response(answer, version)
    except Exception:  # a malformed answer: compare_composite reports it
        reported = None
    tol = _time_deviation_s(record, host)
    if reported is not None and (
        (sent_at - reported.schedule_start).total_seconds() <= tol
        and (reported.schedule_start - received_at).total_seconds() <= tol
    ):
        start = reported.schedule_start  # the instant the DUT computed it for
    default_limit = _default_limit(host, step.unit)
    expected = host.mirror.composite(
        evse_id=evse,
        start=start,
        duration_s=duration,
        unit=step.unit,
        default_limit=default_limit,
    )
    case = record.case
    unlimited = (
        default_limit is None
        and version is not OcppVersion.V21
        and any(p.limit is None for p in expected.periods)
    )
    if unlimited and case.source != OUR_SOURCE:
        # The OCA documents expect "the local limit of the Charging Station" where no
        # profile limits (e.g. TC_067_CS step 12): a configured value, never "none".
        record.unjudgeable(
            step,
            expected=f"{base}: {schedule_text(expected)}",
            reason=(
                f"{case.source} expects the station's local limit where no profile limits; "
                "the declaration does not give it: add max_current_a to the capability "
                "declaration"
            ),
            frames=outcome.frames,
        )
        return
    alternative = host.mirror.composite(
        evse_id=evse,
        start=start,
        duration_s=duration,
        unit=step.unit,
        default_limit=default_limit,
        tx_default_resumes=True,
    )
    comparison = compare_composite(
        expected,
        answer,
        version=version,
        time_tolerance_s=tol,
        precision=Decimal(str(tolerance)) if tolerance > 0 else None,
        alternative=None if alternative == expected else alternative,
        any_limit_where_unlimited=unlimited,
    )
    actual = comparison.actual_text
    if comparison.differences:
        actual += " — " + "; ".join(d.describe() for d in comparison.differences)
    if comparison.reading is not None:
        actual += f" — {comparison.reading}"
    wanted = comparison.expected_text
    if unlimited:
        wanted += (
            " — where no profile limits (→ none) any limit the station reports is "
            "accepted: the declaration gives no max_current_a, and a composite may carry "
            "the station's own limits (1.6 §5.7, 2.0.1 K08)"
        )
    host.judge(step, ok=comparison.ok, expected=wanted, actual=actual, frames=outcome.frames)


def _time_deviation_s(record: CaseRecord, host: StepHost) -> float:
    """The case's ``max_time_deviation`` parameter, else the engine's; at least 1 s."""
    value = record.variables.get(TIME_DEVIATION_PARAMETER)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(float(value), 1.0)
    return max(float(host.time_tolerance_s), 1.0)


def _default_limit(host: StepHost, unit: str) -> Decimal | None:
    caps = host.capabilities
    if caps is None or caps.max_current_a is None:
        return None
    amps = Decimal(str(caps.max_current_a))
    return amps if unit == "A" else amps * 230 * caps.supply_phases
