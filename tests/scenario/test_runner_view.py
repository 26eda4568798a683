"""The API as a runner uses it: every message the examples would send is valid OCPP.

Each send-like step is turned into its SendStep, its payload substituted with the default
parameters, and validated against the JSON schema the ``ocpp`` package ships for the
action; ``respond_with`` answers are validated against the response schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.scenario import (
    ClearProfileStep,
    ExpectRequestStep,
    RepeatStep,
    SendStep,
    SetProfileStep,
    Step,
    extract,
    load_cases,
    resolve_parameters,
    substitute,
)
from harness.versions import OcppVersion

CASES = Path(__file__).parent / "data" / "cases"
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


PACKAGES = {OcppVersion.V16: ("ocpp.v16", ""), OcppVersion.V201: ("ocpp.v201", "Request")}
# What the DUT might send, so that `store` has something to take.
DUT_REQUESTS = {
    "StartTransaction": {"meterStart": 1200},
    "TransactionEvent": {"transactionInfo": {"transactionId": "tx-81"}},
}


def _schema(name: str, version: OcppVersion = OcppVersion.V16) -> dict[str, Any]:
    package, suffix = PACKAGES[version]
    if name.endswith("Response"):
        suffix = ""
    path = resources.files(package) / "schemas" / f"{name}{suffix}.json"
    text = path.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)  # draft-04, which jsonschema picks from $schema
    return schema


def _messages(steps: Iterable[Step], variables: dict[str, Any], version: OcppVersion) -> int:
    """Validate what the steps would send; returns how many messages were checked."""
    checked = 0
    for step in steps:
        if isinstance(step, RepeatStep):
            for binding in step.bindings(variables=variables):
                checked += _messages(step.steps, {**variables, **binding}, version)
            continue
        if isinstance(step, SetProfileStep | ClearProfileStep):
            step = step.as_send(version)
        if isinstance(step, SendStep):
            payload = substitute(step.payload, variables=variables, now=NOW)
            jsonschema.validate(payload, _schema(step.action, version))
            checked += 1
        elif isinstance(step, ExpectRequestStep) and step.respond_with is not None:
            answer = substitute(step.respond_with, variables=variables, now=NOW)
            jsonschema.validate(answer, _schema(f"{step.action}Response", version))
            for variable, path in step.store.items():  # as if the DUT sent its request
                variables[variable] = extract(DUT_REQUESTS[step.action], path)
            checked += 1
    return checked


@pytest.mark.parametrize(
    ("name", "messages"),
    [("tc_066_cs.yaml", 5), ("tc_k_41_cs.yaml", 5), ("vp_04.yaml", 5), ("vp_09.yaml", 10)],
)
def test_every_message_of_the_examples_is_schema_valid(name: str, messages: int) -> None:
    (case,) = load_cases([CASES / name])
    (version,) = case.ocpp_versions
    variables: dict[str, Any] = dict(resolve_parameters(case))
    assert _messages(case.steps, variables, version) == messages


def test_repeat_bindings_resolve_parameters() -> None:
    (case,) = load_cases([CASES / "vp_09.yaml"])
    outer = case.steps[3]
    assert isinstance(outer, RepeatStep)
    variables = resolve_parameters(case)
    assert len(outer.bindings(variables=variables)) == 4
    inner = outer.steps[0]
    assert isinstance(inner, RepeatStep)
    assert inner.bindings(variables=variables) == [{"step_limit_a": 0.0}, {"step_limit_a": 16.0}]


def test_the_schema_check_can_fail() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"connectorId": "1", "csChargingProfiles": {}}, _schema("SetChargingProfile")
        )


def test_relative_times_are_written_as_utc_text() -> None:
    (case,) = load_cases([CASES / "tc_066_cs.yaml"])
    step = case.steps[3]
    assert isinstance(step, SetProfileStep)
    payload = substitute(
        step.as_send(OcppVersion.V16).payload, variables=resolve_parameters(case), now=NOW
    )
    start = payload["csChargingProfiles"]["chargingSchedule"]["startSchedule"]
    assert start == "2025-06-01T07:59:56.000Z"
    assert payload["connectorId"] == 0
