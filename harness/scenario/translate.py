"""Turn pydantic validation errors into :class:`Problem` s with file, line and words.

pydantic's locations are field paths; :class:`~harness.scenario.yamlsource.Located` maps
field paths to lines. A discriminated union adds the tag (``send``) to the location: it is
kept in the displayed path (``steps[2].send.timeout_s``) and skipped to find the line.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from harness.scenario.errors import FieldPath, Problem
from harness.scenario.yamlsource import Located

__all__ = ["problems_from_validation", "yaml_path"]

_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a text",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_from_validation(
    error: ValidationError, located: Located, model: type[BaseModel], *, base: FieldPath = ()
) -> list[Problem]:
    """One :class:`Problem` per pydantic error; ``base`` prefixes the paths (list files)."""
    problems = []
    items = error.errors(include_url=False)
    for item in items:
        if item["type"] == "too_short" and _has_inner_error(items, tuple(item["loc"])):
            continue  # pydantic's follow-on error: an item failed, so too few remained
        loc = tuple(item["loc"])
        ctx = item.get("ctx") or {}
        subpath = tuple(ctx.get("subpath", ()))
        shown: FieldPath = (*base, *loc, *subpath)
        in_yaml = yaml_path(located.data, shown)
        kind = item["type"]
        key = kind in {"extra_forbidden", "missing"}
        if shown and shown[-1] == "[key]":  # a bad mapping key: point at the key itself
            shown, in_yaml, key = shown[:-1], in_yaml[:-1], True
        if kind == "union_tag_invalid":
            shown, in_yaml = (*shown, "kind"), (*in_yaml, "kind")
        where = located.where(in_yaml[:-1] if kind == "missing" else in_yaml, key=key)
        problems.append(Problem(where, shown, _message(item, model, loc)))
    return problems


def _has_inner_error(items: Any, loc: FieldPath) -> bool:
    return any(len(i["loc"]) > len(loc) and tuple(i["loc"][: len(loc)]) == loc for i in items)


def yaml_path(data: Any, path: FieldPath) -> FieldPath:
    """``path`` without step-kind tags (in pydantic locations and shown paths, not in YAML)."""
    result: list[str | int] = []
    current = data
    for part in path:
        if isinstance(current, Mapping) and part not in current and current.get("kind") == part:
            continue
        result.append(part)
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            current = None
    return tuple(result)


def _message(item: Any, model: type[BaseModel], loc: FieldPath) -> str:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind == "missing":
        return f"missing required field '{loc[-1]}'"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        if not allowed:
            return f"unknown field '{loc[-1]}'"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown field '{loc[-1]}' (expected one of: {', '.join(allowed)}){hint}"
    if kind == "union_tag_invalid":
        return f"unknown kind '{ctx.get('tag')}' (expected one of: {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return f"missing 'kind' (expected one of: {', '.join(_tags(model, loc))})"
    if kind in {"enum", "literal_error"}:
        return f"expected {ctx.get('expected')}, got {_got(item['input'])}"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_got(item['input'])}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {_got(item['input'])}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}, got {_got(item['input'])}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        words = str(item["msg"]).replace("Input should be", "expected a value")
        return f"{words}, got {_got(item['input'])}"
    if kind == "value_error":
        return str(item["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind in {"is_instance_of"}:
        return f"{item['msg']}, got {_got(item['input'])}"
    return str(item["msg"])


def _strip(annotation: Any) -> Any:
    """Remove Annotated and Optional wrappers."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _union_member(annotation: Any, tag: Any) -> Any:
    for member in get_args(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            kind = member.model_fields.get("kind")
            if (
                kind is not None
                and get_origin(kind.annotation) is Literal
                and tag in get_args(kind.annotation)
            ):
                return member
    return None


def _type_at(model: type[BaseModel], loc: FieldPath) -> Any:
    current: Any = model
    for part in loc:
        current = _strip(current)
        origin = get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field is not None else None
        elif origin in (list, tuple):
            current = get_args(current)[0]
        elif origin is dict:
            current = get_args(current)[1]
        elif origin in (Union, types.UnionType):
            current = _union_member(current, part)
        else:
            return None
        if current is None:
            return None
    return _strip(current)


def _allowed_fields(model: type[BaseModel], loc: FieldPath) -> list[str]:
    target = _type_at(model, loc)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []


def _tags(model: type[BaseModel], loc: FieldPath) -> list[str]:
    target = _type_at(model, loc)
    tags: list[str] = []
    for member in get_args(target):
        if (
            isinstance(member, type)
            and issubclass(member, BaseModel)
            and "kind" in member.model_fields
        ):
            tags.extend(str(a) for a in get_args(member.model_fields["kind"].annotation))
    return tags
