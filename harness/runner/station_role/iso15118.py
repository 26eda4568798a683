"""What the station role needs for the ISO 15118 cases at the OCPP level (K15–K17).

The station forwards what its EV negotiates over ISO 15118: the charging needs
(NotifyEVChargingNeeds, a plain ``send`` step) and the schedule the EV proposes in reply to
the CSMS's (NotifyEVChargingSchedule, the ``ev_schedule`` step: :func:`ev_schedule_send`
builds the ``send`` step the engine runs). The CSMS then must not renegotiate without cause
(the ``expect_no_request`` step: :func:`run_expect_no_request`, a step handler that sees the
engine only as a :class:`StepHost`; :func:`unasked_requests` finds what the CSMS sent
unasked).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from harness.clock import Clock
from harness.runner.station_role.endpoint import CsmsRequest, StationEndpoint
from harness.runner.verdicts import CaseRecord
from harness.scenario import (
    EvScheduleStep,
    ExpectNoRequestStep,
    SendStep,
    Step,
    SubstitutionError,
    describe,
    match,
    resolve_number,
    substitute,
)

__all__ = [
    "StepHost",
    "ev_schedule_send",
    "exceeding",
    "run_expect_no_request",
    "unasked_requests",
]


class StepHost(Protocol):
    """What a step handler here needs of the station-role engine."""

    @property
    def endpoint(self) -> StationEndpoint:
        """The connection to the CSMS under test."""

    @property
    def clock(self) -> Clock:
        """The run's clock."""

    def judge(
        self, step: Step, *, ok: bool, expected: str, actual: str, frames: tuple[int, ...] = ()
    ) -> None:
        """Record a judged step; stops the case when a precondition is not met."""


def exceeding(limit: float, factor: float) -> float:
    """The EV's limit for a period the CSMS limited to ``limit``: the same with ``factor``
    1 or less, else ``max(limit × factor, limit + 1)`` (above it, in its own unit, also for
    a limit of 0), to one decimal."""
    if factor <= 1:
        return limit
    return round(max(limit * factor, limit + 1), 1)


def ev_schedule_send(
    step: EvScheduleStep, *, variables: Mapping[str, Any], now: datetime
) -> SendStep:
    """The NotifyEVChargingSchedule the station sends for ``step``: its payload resolved and
    every period's limit scaled (:func:`exceeding`), as a ``send`` step with the same
    requirement, level, expectation and timeout.

    Raises :class:`SubstitutionError` when the payload's ``chargingSchedule`` is not a
    charging schedule (an earlier step stored something else: a defect of the case, or the
    CSMS's answer lacked it).
    """
    payload: dict[str, Any] = substitute(step.payload, variables=variables, now=now)
    factor = resolve_number(step.factor, variables=variables)
    schedule = payload.get("chargingSchedule")
    periods = schedule.get("chargingSchedulePeriod") if isinstance(schedule, Mapping) else None
    if not isinstance(periods, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("limit"), int | float) for p in periods
    ):
        raise SubstitutionError(
            "ev_schedule: payload.chargingSchedule must be a charging schedule with "
            f"chargingSchedulePeriod limits, got {schedule!r}"
        )
    assert isinstance(schedule, Mapping)
    payload["chargingSchedule"] = {
        **schedule,
        "chargingSchedulePeriod": [
            {**period, "limit": exceeding(float(period["limit"]), factor)} for period in periods
        ],
    }
    return SendStep(
        kind="send",
        action="NotifyEVChargingSchedule",
        payload=payload,
        expect=step.expect,
        timeout_s=step.timeout_s,
        requirement=step.requirement,
        level=step.level,
        note=step.note,
        precondition=step.precondition,
    )


async def run_expect_no_request(
    step: ExpectNoRequestStep, record: CaseRecord, host: StepHost
) -> None:
    """Run one ``expect_no_request`` step: wait ``within_s``, then judge what the CSMS sent
    unasked since the last request a step claimed (:func:`unasked_requests`)."""
    variables = record.variables
    within_s = resolve_number(step.within_s, variables=variables)
    record.note(f"expect_no_request: {step.action} within {within_s:g} s")
    await host.clock.sleep(within_s)
    requests = host.endpoint.all_requests
    unasked = unasked_requests(step, requests, claimed=host.endpoint.delivered, variables=variables)
    what = step.action + (f" matching {describe(step.expect, variables)}" if step.expect else "")
    sent = "; ".join(f"{r.action} {_short(r.payload)}" for r in unasked)
    # Evidence: what it sent unasked; else its last request (the wire log around it).
    cited = unasked or requests[-1:]
    host.judge(
        step,
        ok=not unasked,
        expected=f"the CSMS sends no {what} unasked after the last request a step asked for "
        f"(watched {within_s:g} s)",
        actual=f"it sent {sent}" if unasked else f"no {what}",
        frames=tuple(i for r in cited for i in r.frames),
    )


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unasked_requests(
    step: ExpectNoRequestStep,
    requests: Sequence[CsmsRequest],
    *,
    claimed: Collection[str],
    variables: Mapping[str, Any],
) -> list[CsmsRequest]:
    """The requests of ``step.action`` among ``requests`` (in order of arrival) that came
    after the last one whose message id is in ``claimed`` (the last request a step asked
    for), are not claimed themselves, and match ``step.expect`` when given. What came before
    (a default profile a CSMS sends after a boot, say) is not what the step is about."""
    last = max((i for i, r in enumerate(requests) if r.message_id in claimed), default=-1)
    return [
        r
        for r in requests[last + 1 :]
        if r.action == step.action
        and r.message_id not in claimed
        and (step.expect is None or match(step.expect, r.payload, variables=variables).matched)
    ]
