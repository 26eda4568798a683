"""``expect_request``: the DUT must send ``action`` within ``within_s``, matching ``expect``.

The request is answered with the step's ``respond_with`` (else the default answer). A step
that directly follows another is *armed* before that one runs (:func:`arm_request`): its
request may arrive meanwhile. With ``skip_unmatched`` the step takes only a request that
matches (others are answered by default and named in a failure). Limits reported with more
digits than the one-decimal rule allows fail the step; what ``store`` names is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from harness.runner.endpoint import Received, Waiter
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.verdicts import CaseRecord, short_json
from harness.scenario import ExpectRequestStep, describe, match, resolve_number, substitute
from harness.smartcharging import ONE_DIGIT_RULE, limit_digit_problems
from harness.versions import OcppVersion

__all__ = ["arm_request", "run_expect_request"]


def arm_request(step: ExpectRequestStep, record: CaseRecord, host: StepHost) -> Waiter:
    """Wait for the request ``step`` expects, to be answered with its ``respond_with``."""

    def respond(_: Any) -> dict[str, Any] | None:
        if step.respond_with is None:
            return None
        built: dict[str, Any] = substitute(
            step.respond_with, variables=record.variables, now=host.clock.now()
        )
        return built

    return host.endpoint.arm(step.action, respond, accepts=_filter(step, record))


def _filter(
    step: ExpectRequestStep, record: CaseRecord
) -> Callable[[Mapping[str, Any]], bool] | None:
    """With ``skip_unmatched``: the requests the step takes (those matching ``expect``)."""
    expect = step.expect
    if not step.skip_unmatched or expect is None:
        return None

    def accepts(payload: Mapping[str, Any]) -> bool:
        return match(expect, payload, variables=record.variables).matched

    return accepts


async def run_expect_request(step: ExpectRequestStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``expect_request`` step."""
    endpoint = host.endpoint
    within_s = resolve_number(step.within_s, variables=record.variables)
    expected = f"the DUT sends {step.action} within {within_s:g} s" + (
        f", matching {describe(step.expect, record.variables)}" if step.expect else ""
    )
    record.note(f"expect_request: {step.action} within {within_s:g} s")
    waiter = host.take_armed(step)
    early: Received | None = None
    if waiter is None:
        early = endpoint.take_unclaimed(step.action, accepts=_filter(step, record))
        if early is None:
            waiter = arm_request(step, record, host)
    received = early
    if waiter is not None:
        try:
            got = await _wait_or_closed(host, waiter.future, endpoint.patience_s(within_s))
        finally:
            endpoint.disarm(waiter)
        if got is None:
            gone = endpoint.closed
            actual = (
                f"the DUT closed the connection before sending {step.action}"
                if gone
                else f"no {step.action} within {within_s:g} s"
            )
            if waiter.passed_over:
                actual += (
                    f" that matched ({len(waiter.passed_over)} passed over, the last: "
                    f"{short_json(waiter.passed_over[-1])})"
                )
            host.judge(step, ok=False, expected=expected, actual=actual)
            if gone:
                raise StopCase
            return
        received = got
    assert received is not None
    frames = endpoint.frames_of(received.message_id)
    if step.expect is not None:
        result = match(step.expect, received.payload, variables=record.variables)
        if not result.matched:
            actual = (
                f"{short_json(received.payload)} — at {result.path}: expected "
                f"{result.expected}, got {result.actual}"
            )
            host.judge(step, ok=False, expected=expected, actual=actual, frames=frames)
            return
    digits = limit_digit_problems(received.payload, OcppVersion(str(endpoint.version)))
    if digits:
        shown = "; ".join(f"{path}: {value}" for path, value in digits[:5])
        host.judge(
            step,
            ok=False,
            expected=f"{expected}, every limit with {ONE_DIGIT_RULE}",
            actual=f"{step.action} reports limits with more digits — {shown}",
            frames=frames,
        )
        return
    missing = record.store(step.store, received.payload)
    if missing is not None:
        host.judge(step, ok=False, expected=expected, actual=missing, frames=frames)
        return
    if step.respond_with is not None and received.answered_by_default:
        # The request came before the harness was ready to give the scenario's answer:
        # the DUT was answered otherwise, so what follows would not test the case.
        record.unjudgeable(
            step,
            expected=expected,
            reason=(
                f"{step.action} arrived before the step and got the default answer "
                f"{short_json(received.response)}, not the scenario's"
            ),
            frames=frames,
        )
        raise StopCase
    host.judge(
        step,
        ok=True,
        expected=expected,
        actual=f"{step.action} {short_json(received.payload)}",
        frames=frames,
    )


async def _wait_or_closed(
    host: StepHost, future: asyncio.Future[Received], timeout_s: float
) -> Received | None:
    """The future's result, or ``None`` on timeout or when the connection closes."""
    closed = host.endpoint.closed_waiter()

    async def first() -> None:
        pending: set[asyncio.Future[Any]] = {future, closed}
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    try:
        await host.clock.wait_for(first(), timeout_s)
    except TimeoutError:
        pass
    finally:
        closed.cancel()
    return future.result() if future.done() else None
