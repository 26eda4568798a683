"""The checked-in JSON Schemas equal the generated ones and accept/reject files as the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.scenario.schema import capabilities_json_schema, dump_schema, scenario_json_schema

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "scenarios" / "schema"


@pytest.mark.parametrize(
    ("name", "generate"),
    [
        ("scenario.schema.json", scenario_json_schema),
        ("capabilities.schema.json", capabilities_json_schema),
    ],
)
def test_checked_in_schema_is_current(name: str, generate: Any) -> None:
    checked_in = (SCHEMAS / name).read_text(encoding="utf-8")
    assert checked_in == dump_schema(generate()), (
        f"scenarios/schema/{name} is stale: run `python -m harness scenario schema"
        f"{' --capabilities' if 'capab' in name else ''} > scenarios/schema/{name}`"
    )


def test_schemas_are_valid_json_schema() -> None:
    for name in ("scenario.schema.json", "capabilities.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text()))


def _errors(document: Any) -> list[str]:
    schema = json.loads((SCHEMAS / "scenario.schema.json").read_text(encoding="utf-8"))
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]


BASE: dict[str, Any] = {
    "id": "TC_T",
    "title": "t",
    "suite": "s",
    "ocpp_versions": ["1.6"],
    "dut_role": "station",
    "steps": [{"kind": "wait", "duration_s": 1}],
}


def test_schema_accepts_a_list_of_cases_and_rich_steps() -> None:
    case = {
        **BASE,
        "needs": ["smart_charging", "units.A", {"max_stack_level": 1}],
        "parameters": {"limit_a": {"type": "number", "default": 16}},
        "steps": [
            {
                "kind": "send",
                "action": "GetCompositeSchedule",
                "payload": {"connectorId": 1, "duration": 400},
                "expect": {
                    "status": {"one_of": ["Accepted", "Rejected"]},
                    "chargingSchedule": {
                        "chargingSchedulePeriod": [{"limit": {"approx": 8, "tol": 0.1}}]
                    },
                },
                "expect_call_error": ["NotSupported"],
                "timeout_s": "${limit_a}",
            },
            {
                "kind": "expect_settled",
                "target": "min(limit, ${limit_a})",
                "tolerance": 1,
                "within_s": 15,
            },
        ],
    }
    assert _errors(case) == []
    assert _errors([case, {**case, "id": "TC_U"}]) == []


@pytest.mark.parametrize(
    "change",
    [
        {"dut_role": "charger"},
        {"steps": [{"kind": "sned"}]},
        {"steps": [{"kind": "wait", "duration_s": "soon"}]},
        {"needs": ["smart_chargng"]},
        {"titel": "typo"},
        {"steps": [{"kind": "send", "action": "Reset", "expect": {"approx": 1, "bogus": 2}}]},
    ],
)
def test_schema_rejects_what_the_loader_rejects(change: dict[str, Any]) -> None:
    assert _errors({**BASE, **change}) != []


def test_sample_case_files_validate() -> None:
    for path in sorted((ROOT / "tests" / "scenario" / "data" / "cases").glob("*.yaml")):
        assert _errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path
