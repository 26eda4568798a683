"""The scenario language: YAML case files in, validated typed :class:`Case` objects out.

Public API::

    from harness.scenario import (load_cases, load_capabilities, parse_param_options,
                                  resolve_parameters, selects)

    cases = load_cases(["scenarios/ocpp16"])            # ScenarioLoadError lists every problem
    dut = load_capabilities("labs/acme-wallbox.yaml")
    overrides = parse_param_options(["pause_s=6h"])     # or load_lab_parameters(path)
    for case in cases:
        applicability = selects(case, dut)              # .runnable, .reasons, .versions
        if applicability.runnable:
            params = resolve_parameters(case, overrides)  # {"pause_s": 21600.0, ...}
            # with the vehicle known (simulation, or a lab's ``vehicle:`` declaration):
            # selects(case, dut, vehicle=facts); with_vehicle_facts(case, params, facts)

A runner walks ``case.steps`` (``match step: case SendStep(): ...``), turns
``SetProfileStep``/``ClearProfileStep`` into sends with ``step.as_send(version)``, fills
payloads with :func:`substitute`, numbers with :func:`resolve_number`, judges answers with
:func:`match`, saves ``store`` values with :func:`extract`, and takes each step's level
from ``case.step_level(step)``.

See :mod:`.steps` for the step kinds, :mod:`.matchers` for matchers, :mod:`.values` for the
``${...}`` syntax, :mod:`.capabilities` for declarations and needs, :mod:`.parameters` for
overrides, and ``scenarios/schema/*.schema.json`` for the published schemas.
"""

from __future__ import annotations

from harness.scenario.applicability import Applicability, selects
from harness.scenario.capabilities import (
    Capabilities,
    ChargingRateUnit,
    Environment,
    Measurand,
    Need,
    OperationMode,
    ProfileKind,
    ProfilePurpose,
    load_capabilities,
)
from harness.scenario.checks import check_case, check_raw_case
from harness.scenario.errors import Problem, ScenarioLoadError, SourceLocation
from harness.scenario.fields import LIMIT, DutRole, LimitRef, Target
from harness.scenario.loader import (
    LoadedCase,
    LoadResult,
    collect_cases,
    load_case_file,
    load_cases,
)
from harness.scenario.matchers import Matcher, MatchResult, describe, match, parse_matcher
from harness.scenario.model import (
    Case,
    ParameterSpec,
    ParamType,
    ParamValue,
    Requirement,
)
from harness.scenario.parameters import (
    ParameterOverrides,
    ResolvedParameters,
    check_overrides,
    load_lab_parameters,
    parse_param_options,
    resolve_parameters,
    with_vehicle_facts,
)
from harness.scenario.schema import capabilities_json_schema, scenario_json_schema
from harness.scenario.steps import (
    CallErrorCode,
    ClearProfileStep,
    CompareCompositeStep,
    EvScheduleStep,
    ExpectMeterValuesStep,
    ExpectNoRequestStep,
    ExpectProfileStep,
    ExpectRequestStep,
    ExpectSettledStep,
    ExpectWakeUpStep,
    ExternalLimitStep,
    FuzzStep,
    Level,
    Mutation,
    OfflineStep,
    ProfileAction,
    ProfilePurposeName,
    PromptResponse,
    PromptStep,
    Quantity,
    ReconnectStep,
    Relation,
    RepeatStep,
    SendStep,
    SetProfileStep,
    Step,
    TriggerStep,
    VehicleAction,
    VehicleStep,
    WaitStep,
)
from harness.scenario.values import (
    NowRef,
    ParamRef,
    SubstitutionError,
    extract,
    parse_duration_s,
    resolve_int,
    resolve_number,
    resolve_text,
    substitute,
)
from harness.scenario.vehicle import VehicleFact, VehicleFacts, VehicleNeed

__all__ = [
    "LIMIT",
    "Applicability",
    "CallErrorCode",
    "Capabilities",
    "Case",
    "ChargingRateUnit",
    "ClearProfileStep",
    "CompareCompositeStep",
    "DutRole",
    "Environment",
    "EvScheduleStep",
    "ExpectMeterValuesStep",
    "ExpectNoRequestStep",
    "ExpectProfileStep",
    "ExpectRequestStep",
    "ExpectSettledStep",
    "ExpectWakeUpStep",
    "ExternalLimitStep",
    "FuzzStep",
    "Level",
    "LimitRef",
    "LoadResult",
    "LoadedCase",
    "MatchResult",
    "Matcher",
    "Measurand",
    "Mutation",
    "Need",
    "NowRef",
    "OfflineStep",
    "OperationMode",
    "ParamRef",
    "ParamType",
    "ParamValue",
    "ParameterOverrides",
    "ParameterSpec",
    "Problem",
    "ProfileAction",
    "ProfileKind",
    "ProfilePurpose",
    "ProfilePurposeName",
    "PromptResponse",
    "PromptStep",
    "Quantity",
    "ReconnectStep",
    "Relation",
    "RepeatStep",
    "Requirement",
    "ResolvedParameters",
    "ScenarioLoadError",
    "SendStep",
    "SetProfileStep",
    "SourceLocation",
    "Step",
    "SubstitutionError",
    "Target",
    "TriggerStep",
    "VehicleAction",
    "VehicleFact",
    "VehicleFacts",
    "VehicleNeed",
    "VehicleStep",
    "WaitStep",
    "capabilities_json_schema",
    "check_case",
    "check_overrides",
    "check_raw_case",
    "collect_cases",
    "describe",
    "extract",
    "load_capabilities",
    "load_case_file",
    "load_cases",
    "load_lab_parameters",
    "match",
    "parse_duration_s",
    "parse_matcher",
    "parse_param_options",
    "resolve_int",
    "resolve_number",
    "resolve_parameters",
    "resolve_text",
    "scenario_json_schema",
    "selects",
    "substitute",
    "with_vehicle_facts",
]
