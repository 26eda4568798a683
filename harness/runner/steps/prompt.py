"""``prompt``: a question to the operator, the same in both roles. An acknowledgement that
does not come, or a yes/no nobody answers, makes the step INCONCLUSIVE and stops the case
(never a FAIL); "no" to a yes/no question fails it."""

from __future__ import annotations

from typing import Protocol

from harness.clock import Clock
from harness.runner.operator import Operator
from harness.runner.stepping import StopCase
from harness.runner.verdicts import CaseRecord
from harness.scenario import PromptResponse, PromptStep, Step, resolve_number, substitute

__all__ = ["PromptHost", "ask", "run_prompt"]


class PromptHost(Protocol):
    """What a prompt needs of either role's engine."""

    @property
    def clock(self) -> Clock:
        """The run's clock."""

    @property
    def operator(self) -> Operator:
        """Whoever answers prompts."""

    def judge(self, step: Step, *, ok: bool, expected: str, actual: str) -> None:
        """Record a judged step (may stop the case)."""


async def ask(
    host: PromptHost, message: str, *, yes_no: bool, timeout_s: float | None
) -> bool | None:
    """The operator's answer; ``None`` when nobody answered (in time)."""
    try:
        return await host.clock.wait_for(host.operator.ask(message, yes_no=yes_no), timeout_s)
    except TimeoutError:
        return None


async def run_prompt(step: PromptStep, record: CaseRecord, host: PromptHost) -> None:
    """Run one ``prompt`` step."""
    variables = record.variables
    message = str(substitute(step.message, variables=variables, now=host.clock.now()))
    timeout_s = (
        None if step.timeout_s is None else resolve_number(step.timeout_s, variables=variables)
    )
    yes_no = step.response is PromptResponse.YES_NO
    record.note(f"prompt: {message}")
    answer = await ask(host, message, yes_no=yes_no, timeout_s=timeout_s)
    if not yes_no:
        if not answer:
            record.unjudgeable(
                step,
                expected="the operator acknowledges",
                reason=f"no acknowledgement of: {message}",
            )
            raise StopCase
        return
    if answer is None:  # nobody answered: not a "no" (that would be a FAIL)
        record.unjudgeable(
            step,
            expected=f"the operator answers yes to: {message}",
            reason=f"no operator answered: {message}",
        )
        raise StopCase
    host.judge(
        step,
        ok=answer,
        expected=f"the operator answers yes to: {message}",
        actual="yes" if answer else "no",
    )
