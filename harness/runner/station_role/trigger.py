"""The ``trigger`` step: make the CSMS under test act, by a hook command or the operator.

:func:`make_csms_act` runs the hook (see :mod:`harness.runner.station_role.hooks`) when one is
given, else asks the operator, and says how it went; the engine turns a failure into
INCONCLUSIVE (the CSMS was never told to act, so nothing about it can be concluded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.clock import Clock
from harness.runner.operator import Operator
from harness.runner.station_role.hooks import parse_hook, run_hook

__all__ = ["TriggerOutcome", "hook_environment", "make_csms_act"]


@dataclass(frozen=True, slots=True)
class TriggerOutcome:
    """How a trigger went: ``ok``, lines for the step log, and why it failed."""

    ok: bool
    log: tuple[str, ...]
    reason: str = ""


def hook_environment(
    *,
    station_id: str,
    case_id: str,
    ocpp_version: str,
    message: str,
    variables: Mapping[str, Any],
) -> dict[str, str]:
    """The variables a hook command gets: ``OCPP_HARNESS_STATION_ID``, ``_CASE_ID``,
    ``_OCPP_VERSION``, ``_MESSAGE`` and every case variable as ``OCPP_HARNESS_VAR_<NAME>``."""
    env = {
        "OCPP_HARNESS_STATION_ID": station_id,
        "OCPP_HARNESS_CASE_ID": case_id,
        "OCPP_HARNESS_OCPP_VERSION": ocpp_version,
        "OCPP_HARNESS_MESSAGE": message,
    }
    for name, value in variables.items():
        env[f"OCPP_HARNESS_VAR_{name.upper()}"] = str(value)
    return env


async def make_csms_act(
    *,
    message: str,
    hook: str,
    timeout_s: float,
    clock: Clock,
    operator: Operator,
    station_id: str,
    env: Mapping[str, str],
) -> TriggerOutcome:
    """Run ``hook`` (a command line) or, when it is blank, ask ``operator`` to do
    ``message`` for the station; at most ``timeout_s`` clock seconds either way."""
    if not hook.strip():
        log = [f"trigger (operator): {message}"]
        try:
            done = await clock.wait_for(
                operator.ask(f"[station {station_id}] {message}", yes_no=False), timeout_s
            )
        except TimeoutError:
            done = False
        if not done:
            log.append("the operator did not confirm")
            return TriggerOutcome(False, tuple(log), "the operator did not confirm the trigger")
        log.append("the operator confirmed")
        return TriggerOutcome(True, tuple(log))
    log = [f"trigger (hook): {message}"]
    try:
        command = parse_hook(hook)
    except ValueError as exc:
        reason = f"the hook {hook!r} is not a valid command line: {exc}"
        return TriggerOutcome(False, (*log, reason), reason)
    result = await run_hook(command, clock=clock, timeout_s=timeout_s, env=env)
    log.append(result.describe())
    return TriggerOutcome(result.ok, tuple(log), "" if result.ok else result.describe())
