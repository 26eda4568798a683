"""The step kinds of the harness as CSMS, one module each (see :mod:`harness.runner.stepping`).

Each is a handler ``async (step, record, host)``: ``record`` is the running case's
:class:`~harness.runner.verdicts.CaseRecord`, ``host`` the engine as a
:class:`~harness.runner.step_host.StepHost`. :func:`csms_role_kinds` is the registry the
:class:`~harness.runner.engine.CaseEngine` runs (``repeat`` is the walker's own:
:class:`~harness.runner.stepping.StepWalker`).
"""

from __future__ import annotations

from harness.runner.fuzz_step import run_fuzz
from harness.runner.meter_values_step import run_meter_values
from harness.runner.settled_step import run_settled
from harness.runner.step_host import StepHost
from harness.runner.stepping import StepKinds
from harness.runner.steps.composite import run_composite
from harness.runner.steps.expect_request import run_expect_request
from harness.runner.steps.offline import run_offline
from harness.runner.steps.prompt import run_prompt
from harness.runner.steps.reconnect import run_reconnect
from harness.runner.steps.send import run_send
from harness.runner.steps.vehicle import run_external_limit, run_vehicle, run_wake_up
from harness.runner.steps.wait import run_wait
from harness.scenario import (
    ClearProfileStep,
    CompareCompositeStep,
    ExpectMeterValuesStep,
    ExpectRequestStep,
    ExpectSettledStep,
    ExpectWakeUpStep,
    ExternalLimitStep,
    FuzzStep,
    OfflineStep,
    PromptStep,
    ReconnectStep,
    SendStep,
    SetProfileStep,
    VehicleStep,
    WaitStep,
)

__all__ = ["csms_role_kinds"]


def csms_role_kinds() -> StepKinds[StepHost]:
    """Step class → handler for the harness as CSMS (a new registry each call)."""
    return StepKinds(
        {
            SendStep: run_send,
            SetProfileStep: run_send,
            ClearProfileStep: run_send,
            ExpectRequestStep: run_expect_request,
            WaitStep: run_wait,
            VehicleStep: run_vehicle,
            ExternalLimitStep: run_external_limit,
            PromptStep: run_prompt,
            ExpectSettledStep: run_settled,
            ExpectWakeUpStep: run_wake_up,
            CompareCompositeStep: run_composite,
            FuzzStep: run_fuzz,
            ExpectMeterValuesStep: run_meter_values,
            ReconnectStep: run_reconnect,
            OfflineStep: run_offline,
        },
        role="the harness as CSMS (dut_role: station)",
    )
