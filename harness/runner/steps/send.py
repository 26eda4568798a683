"""``send``, ``set_profile``, ``clear_profile``: the harness sends a CALL, the answer is judged.

The answer is matched against ``expect`` (or a CALLERROR against ``expect_call_error``); what
``store`` names is kept for later steps. An accepted SetChargingProfile, ClearChargingProfile
or remote start updates the profile mirror (the oracle's view of the DUT). A "not supported"
answer to a request the declaration promises is FAIL at MUST (:mod:`harness.runner.declared`);
the DUT closing the connection fails the step and stops the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.runner.declared import declared_unsupported
from harness.runner.endpoint import CallOutcome
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.verdicts import CaseRecord, short_json
from harness.scenario import (
    ClearProfileStep,
    SendStep,
    SetProfileStep,
    describe,
    match,
    resolve_number,
    substitute,
)
from harness.versions import OcppVersion

__all__ = ["declared", "record_limits", "run_send"]


async def run_send(
    step: SendStep | SetProfileStep | ClearProfileStep, record: CaseRecord, host: StepHost
) -> None:
    """Run one ``send`` (or ``set_profile`` / ``clear_profile``, sent as the CALL they stand
    for in the DUT's version)."""
    kind = step.kind
    if isinstance(step, SetProfileStep | ClearProfileStep):
        sent = step.as_send(OcppVersion(str(host.endpoint.version)))
    else:
        kind, sent = "send", step
    variables = record.variables
    payload = substitute(sent.payload, variables=variables, now=host.clock.now())
    timeout_s = resolve_number(sent.timeout_s, variables=variables)
    record.note(f"{kind}: {sent.action} {short_json(payload, 200)}")
    outcome = await host.endpoint.call(sent.action, payload, timeout_s=timeout_s)
    expected = _expected_answer(sent, record)
    if outcome.payload is not None and outcome.payload.get("status") == "Accepted":
        _mirror(host, sent.action, payload)
    if outcome.failure is not None:
        host.judge(sent, ok=False, expected=expected, actual=outcome.detail, frames=outcome.frames)
        if outcome.failure == "closed":
            raise StopCase
        return
    cited = declared(host, sent.action, outcome)
    if outcome.error_code is not None:
        ok = sent.expect_call_error is not None and outcome.error_code in {
            str(c) for c in sent.expect_call_error
        }
        actual = f"CALLERROR {outcome.error_code}" + (
            f" ({outcome.error_description})" if outcome.error_description else ""
        )
        host.judge(
            sent, ok=ok, expected=expected, actual=actual, frames=outcome.frames, declared=cited
        )
        return
    _judge_payload(sent, record, host, outcome, expected, cited)


def declared(host: StepHost, action: str, outcome: CallOutcome) -> str | None:
    """The declaration field the DUT's "not supported" answer breaks, cited (or ``None``)."""
    return declared_unsupported(
        action,
        error_code=outcome.error_code,
        payload=outcome.payload,
        capabilities=host.capabilities,
        version=str(host.endpoint.version),
    )


def _judge_payload(
    step: SendStep,
    record: CaseRecord,
    host: StepHost,
    outcome: CallOutcome,
    expected: str,
    cited: str | None = None,
) -> None:
    answer = outcome.payload or {}
    if step.expect is None and step.expect_call_error is not None:
        host.judge(
            step,
            ok=False,
            expected=expected,
            actual=f"CALLRESULT {short_json(answer)}",
            frames=outcome.frames,
        )
        return
    if step.expect is not None:
        result = match(step.expect, answer, variables=record.variables)
        if not result.matched:
            actual = (
                f"{short_json(answer)} — at {result.path}: expected {result.expected}, "
                f"got {result.actual}"
            )
            host.judge(
                step,
                ok=False,
                expected=expected,
                actual=actual,
                frames=outcome.frames,
                declared=cited,
            )
            return
    stored = record.store(step.store, answer)
    if stored is not None:
        host.judge(step, ok=False, expected=expected, actual=stored, frames=outcome.frames)
        return
    host.judge(step, ok=True, expected=expected, actual=short_json(answer), frames=outcome.frames)


def _expected_answer(step: SendStep, record: CaseRecord) -> str:
    parts = []
    if step.expect is not None:
        parts.append(f"{step.action} answered with {describe(step.expect, record.variables)}")
    elif step.expect_call_error is None:
        parts.append(f"a valid answer to {step.action}")
    if step.expect_call_error is not None:
        codes = ", ".join(str(c) for c in step.expect_call_error)
        parts.append(f"CALLERROR one of [{codes}]")
    return " or ".join(parts)


def _mirror(host: StepHost, action: str, payload: Mapping[str, Any]) -> None:
    mirror = host.mirror
    if action == "SetChargingProfile":
        mirror.accepted_set(payload)
    elif action == "ClearChargingProfile":
        mirror.accepted_clear(payload)
    elif action in {"RemoteStartTransaction", "RequestStartTransaction"}:
        mirror.accepted_start(payload)
    else:
        return
    record_limits(host)


def record_limits(host: StepHost) -> None:
    """Log the mirror's limit and setpoint of every EVSE now (the plotted ``limit`` series)."""
    now = host.clock.now()
    observations = host.endpoint.observations
    for evse in host.mirror.context().evse_ids:
        instant = host.mirror.limit_at(evse_id=evse, at=now)
        limit, setpoint = instant.current_a, instant.setpoint_w
        observations.record_limit(now, evse, None if limit is None else float(limit), "A")
        observations.record_setpoint(now, evse, None if setpoint is None else float(setpoint))
