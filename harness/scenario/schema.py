"""The published JSON Schemas of scenario files and capability declarations.

Generated from the models (so they cannot disagree with the loader about fields and types);
checked in under ``scenarios/schema/`` for editors, and a test keeps the copies current.
The schemas are a convenience for editors: the loader checks more (references, requirement
ids, action names, parameter defaults) and is the authority.
"""

from __future__ import annotations

import json
from typing import Any

from harness.scenario.capabilities import Capabilities
from harness.scenario.fields import MATCHER_PLACEHOLDER
from harness.scenario.matchers import MATCHER_KEYWORDS
from harness.scenario.model import Case

__all__ = ["SCHEMA_DIALECT", "capabilities_json_schema", "dump_schema", "scenario_json_schema"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _matcher_schema() -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Matcher"}
    matcher_list = {"type": "array", "minItems": 1, "items": ref}

    def keyword(name: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: value, **extra},
            "required": [name],
            "additionalProperties": False,
        }

    return {
        "description": "A scalar (equals), a mapping of fields (subset), a list (item by "
        "item), or one matcher keyword: " + ", ".join(sorted(MATCHER_KEYWORDS)),
        "anyOf": [
            {"type": ["string", "number", "boolean", "null"]},
            {"type": "array", "items": ref},
            keyword("equals", {}),
            keyword("one_of", {"type": "array", "minItems": 1}),
            keyword(
                "approx",
                {"type": ["number", "string"]},
                tol={"type": "number", "minimum": 0},
                rel_tol={"type": "number", "minimum": 0},
            ),
            keyword("regex", {"type": "string"}),
            keyword("present", {"const": True}),
            keyword("absent", {"const": True}),
            keyword("contains", matcher_list),
            keyword("every", ref),
            keyword("at_most", {"type": ["number", "string"]}),
            keyword("all_of", matcher_list),
            keyword("any_of", matcher_list),
            keyword("not", ref),
            {
                "type": "object",
                "propertyNames": {"not": {"enum": sorted(MATCHER_KEYWORDS)}},
                "additionalProperties": ref,
            },
        ],
    }


def _replace_placeholder(node: Any) -> Any:
    if node == MATCHER_PLACEHOLDER:
        return {"$ref": "#/$defs/Matcher"}
    if isinstance(node, dict):
        return {key: _replace_placeholder(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_placeholder(value) for value in node]
    return node


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file: one case, or a list of cases."""
    case = _replace_placeholder(Case.model_json_schema())
    defs = case.pop("$defs", {})
    defs["Case"] = case
    defs["Matcher"] = _matcher_schema()
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "ocpp-harness scenario file",
        "description": "One test case, or a list of test cases.",
        "anyOf": [
            {"$ref": "#/$defs/Case"},
            {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Case"}},
        ],
        "$defs": dict(sorted(defs.items())),
    }


def capabilities_json_schema() -> dict[str, Any]:
    """JSON Schema of a capability declaration."""
    schema = Capabilities.model_json_schema()
    return {
        "$schema": SCHEMA_DIALECT,
        **schema,
        "title": "ocpp-harness capability declaration",
    }


def dump_schema(schema: dict[str, Any]) -> str:
    """The canonical text of a schema file (stable key order, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
