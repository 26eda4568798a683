"""Cross-field rules of a case, beyond what each field's type says.

* step ``requirement`` ids exist among the case's requirements (which are unique);
* send/expect_request actions exist in every OCPP version the case lists (from the JSON
  schemas that the ``ocpp`` package ships);
* every ``${name}`` names a parameter or a variable stored by an earlier step, and a number
  field refers to a numeric parameter (an integer field to an integer one);
* parameter defaults fit their type and bounds; ``now`` and ``limit`` are reserved;
* ``soc_percent`` goes with ``set_soc`` and only there.

:func:`check_case` checks a validated :class:`Case`. :func:`check_raw_case` checks the parts
of an unvalidated case that are valid on their own, so that a file with a type error still
gets its other problems reported in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from pydantic import TypeAdapter, ValidationError

from harness.scenario.errors import FieldPath
from harness.scenario.fields import Name, VersionField
from harness.scenario.matchers import (
    AllOf,
    AnyOf,
    Approx,
    Contains,
    Equals,
    Items,
    Matcher,
    Not,
    OneOf,
    Subset,
)
from harness.scenario.model import (
    NUMERIC_TYPES,
    OCA_ID,
    OUR_SOURCE,
    RESERVED_NAMES,
    Case,
    ParameterSpec,
    ParamType,
    Requirement,
)
from harness.scenario.steps import (
    CSMS_ROLE_ONLY,
    STATION_ROLE_ONLY,
    ExpectNoRequestStep,
    ExpectRequestStep,
    ExpectSettledStep,
    FuzzStep,
    RepeatStep,
    SendStep,
    Step,
    TriggerStep,
    VehicleAction,
    VehicleStep,
)
from harness.scenario.values import (
    NowRef,
    ParamRef,
    SubstitutionError,
    parse_whole_ref,
    references_in,
)
from harness.versions import OcppVersion

__all__ = ["check_case", "check_raw_case", "known_actions"]

Found = list[tuple[FieldPath, str]]


@cache
def known_actions(version: OcppVersion) -> frozenset[str]:
    """OCPP action names of ``version``, from the JSON schemas the ``ocpp`` package ships."""
    package = {
        OcppVersion.V16: "ocpp.v16",
        OcppVersion.V201: "ocpp.v201",
        OcppVersion.V21: "ocpp.v21",
    }[version]
    names = set()
    for entry in (resources.files(package) / "schemas").iterdir():
        stem = entry.name.removesuffix(".json")
        if stem == entry.name or stem.endswith("Response"):
            continue
        names.add(stem if version is OcppVersion.V16 else stem.removesuffix("Request"))
    return frozenset(names)


@dataclass(frozen=True)
class _Context:
    """What the step checks need to know; ``None`` means "invalid, do not check against"."""

    requirements: tuple[Requirement, ...] | None
    parameters: Mapping[str, ParameterSpec] | None
    versions: tuple[OcppVersion, ...]
    assume_stored: frozenset[str] = field(default_factory=frozenset)
    dut_role: str | None = None


def check_case(case: Case) -> Found:
    """Cross-field rules of one case; each problem as (field path, what was expected)."""
    context = _Context(
        case.requirements, case.parameters, case.ocpp_versions, dut_role=str(case.dut_role)
    )
    problems = _check(context, list(enumerate(case.steps)))
    if OCA_ID.match(case.id) and case.source == OUR_SOURCE:
        message = (
            f"a case with an OCA id ({case.id}) cites its document and table, e.g. 'OCA OCPP "
            "1.6 TestCaseDocument FINAL 2024-04, table 82'; a case of ours takes our own id"
        )
        problems.append((("source",), message))
    return problems


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    shapes: dict[str, Any] = {
        "requirements": tuple[Requirement, ...],
        "parameters": dict[Name, ParameterSpec],
        "ocpp_versions": tuple[VersionField, ...],
        "step": Step,
    }
    return TypeAdapter(shapes[kind])


def _valid(kind: str, raw: Any) -> Any:
    try:
        return _adapter(kind).validate_python(raw)
    except ValidationError:
        return None


def check_raw_case(raw: object) -> Found:
    """:func:`check_case` for a case that did not validate, on its valid parts only.

    Checks that depend on an invalid part are skipped (no unknown-requirement errors when
    the requirements themselves are malformed), so nothing is reported twice or wrongly.
    """
    if not isinstance(raw, Mapping):
        return []
    raw_steps = raw.get("steps")
    steps: list[tuple[int, Step]] = []
    assumed: set[str] = set()
    for index, item in enumerate(raw_steps if isinstance(raw_steps, list) else []):
        step = _valid("step", item)
        if step is not None:
            steps.append((index, step))
        elif isinstance(item, Mapping) and isinstance(item.get("store"), Mapping):
            assumed.update(str(name) for name in item["store"])  # do not cascade
    context = _Context(
        requirements=_valid("requirements", raw.get("requirements", ())),
        parameters=_valid("parameters", raw.get("parameters", {})),
        versions=_valid("ocpp_versions", raw.get("ocpp_versions", ())) or (),
        assume_stored=frozenset(assumed),
        dut_role=str(raw["dut_role"]) if raw.get("dut_role") in ("station", "csms") else None,
    )
    return _check(context, steps)


def _check(context: _Context, steps: Sequence[tuple[int, Step]]) -> Found:
    problems: Found = []
    seen: set[str] = set()
    for index, requirement in enumerate(context.requirements or ()):
        if requirement.id in seen:
            message = f"duplicate requirement '{requirement.id}'"
            problems.append((("requirements", index, "id"), message))
        seen.add(requirement.id)
    for name, spec in (context.parameters or {}).items():
        problems.extend((("parameters", name, *p), m) for p, m in _check_parameter(name, spec))
    stored: set[str] = set(context.assume_stored)
    problems.extend(_check_steps(context, steps, (), stored))
    return problems


def _check_steps(
    context: _Context, steps: Sequence[tuple[int, Step]], prefix: FieldPath, stored: set[str]
) -> Found:
    problems: Found = []
    for index, step in steps:
        here: FieldPath = (*prefix, "steps", index, step.kind)
        problems.extend(((*here, *p), m) for p, m in _check_step(context, step, stored))
        for name in getattr(step, "store", {}):
            if context.parameters is not None and name in context.parameters:
                problems.append(((*here, "store", name), f"'{name}' is already a parameter"))
            elif name in RESERVED_NAMES:
                problems.append(((*here, "store", name), f"'{name}' is reserved"))
            stored.add(name)
        if isinstance(step, RepeatStep):
            problems.extend(_check_repeat(context, step, here, stored))
    return problems


def _check_repeat(context: _Context, step: RepeatStep, here: FieldPath, stored: set[str]) -> Found:
    """A repeat's own rules; its steps are checked with the loop variable in scope."""
    problems: Found = []
    if (step.times is None) == (step.for_each is None):
        problems.append(((), "expected exactly one of 'times' and 'for_each'"))
    inner = context
    if step.for_each is not None:
        if len(step.for_each) != 1:
            problems.append((("for_each",), "expected one loop variable: {name: [values]}"))
        for name, values in step.for_each.items():
            if not values:
                problems.append((("for_each", name), "expected at least one value"))
                continue
            if name in RESERVED_NAMES or (context.parameters or {}).get(name) is not None:
                problems.append((("for_each", name), f"'{name}' is reserved or a parameter"))
            if context.parameters is not None:
                problems.extend(_loop_value_problems(context.parameters, name, values))
                kind = _loop_type(values, context.parameters)
                spec = ParameterSpec(type=kind, default=0 if kind in NUMERIC_TYPES else "")
                inner = replace(inner, parameters={**context.parameters, name: spec})
    problems.extend(_check_steps(inner, list(enumerate(step.steps)), (), stored))
    return [((*here, *p), m) for p, m in problems]


def _loop_value_problems(
    parameters: Mapping[str, ParameterSpec], name: str, values: Sequence[object]
) -> Found:
    problems: Found = []
    for index, value in enumerate(values):
        ref = parse_whole_ref(value) if isinstance(value, str) else None
        if isinstance(ref, NowRef):
            problems.append((("for_each", name, index), "${now} cannot be a loop value"))
        elif isinstance(ref, ParamRef) and ref.name not in parameters:
            message = f"unknown parameter '{ref}' (loop values may only refer to parameters)"
            problems.append((("for_each", name, index), message))
    return problems


def _loop_type(values: Sequence[object], parameters: Mapping[str, ParameterSpec]) -> ParamType:
    """The parameter type a loop variable behaves as (for the number-field checks)."""
    kinds: set[ParamType] = set()
    for value in values:
        ref = parse_whole_ref(value) if isinstance(value, str) else None
        if isinstance(ref, ParamRef | NowRef):
            if isinstance(ref, ParamRef) and ref.name in parameters:
                kinds.add(parameters[ref.name].type)  # unknown ones are reported already
        elif isinstance(value, bool) or not isinstance(value, int | float):
            kinds.add(ParamType.STRING)
        else:
            kinds.add(ParamType.INTEGER if isinstance(value, int) else ParamType.NUMBER)
    if kinds <= {ParamType.INTEGER}:
        return ParamType.INTEGER
    return ParamType.NUMBER if kinds <= NUMERIC_TYPES else ParamType.STRING


def _check_parameter(name: str, spec: ParameterSpec) -> Found:
    problems: Found = []
    if name in RESERVED_NAMES:
        problems.append(((), f"'{name}' is reserved (${{now}}, limit)"))
    try:
        spec.coerce(spec.default)
    except ValueError as exc:
        problems.append((("default",), f"{exc} (type {spec.type})"))
    if (spec.min is not None or spec.max is not None) and spec.type not in NUMERIC_TYPES:
        problems.append((("min",), f"min/max apply to numbers, not {spec.type}"))
    fact = spec.from_vehicle
    if fact is not None:
        if fact.is_flag:
            fits, wanted = spec.type is ParamType.BOOLEAN, "boolean"
        elif fact.is_whole:
            fits, wanted = spec.type in {ParamType.INTEGER, ParamType.NUMBER}, "integer or number"
        else:
            fits, wanted = spec.type is ParamType.NUMBER, "number"
        if not fits:
            problems.append(
                (
                    ("from_vehicle",),
                    f"the vehicle fact '{fact}' fits a parameter of type {wanted}, not {spec.type}",
                )
            )
    return problems


def _check_step(context: _Context, step: Step, stored: set[str]) -> Found:
    problems: Found = []
    requirements = context.requirements
    ids = [r.id for r in requirements] if requirements is not None else None
    if step.requirement is not None and ids is not None and step.requirement not in ids:
        known = ", ".join(ids) or "none declared"
        message = f"unknown requirement '{step.requirement}' (the case lists: {known})"
        problems.append((("requirement",), message))
    if isinstance(step, SendStep | ExpectRequestStep | ExpectNoRequestStep):
        for version in context.versions:
            if step.action not in known_actions(version):
                problems.append((("action",), f"'{step.action}' is not an OCPP {version} action"))
    if isinstance(step, FuzzStep) and step.actions is not None:
        from harness.robustness import fuzz_actions  # the generator's table of valid requests

        for version in context.versions:
            mutable = fuzz_actions(version)
            for index, action in enumerate(step.actions):
                if action not in mutable:
                    problems.append(
                        (
                            ("actions", index),
                            f"'{action}' has no valid OCPP {version} request to mutate; "
                            f"expected one of {', '.join(sorted(mutable))}",
                        )
                    )
    # The harness plays the other side of the DUT: a step of the wrong side cannot run.
    if context.dut_role == "station" and step.kind in STATION_ROLE_ONLY:
        problems.append(((), f"'{step.kind}' is for cases with dut_role: csms"))
    if context.dut_role == "csms" and step.kind in CSMS_ROLE_ONLY:
        problems.append(((), f"'{step.kind}' is for cases with dut_role: station"))
    if isinstance(step, VehicleStep) and (
        (step.action is VehicleAction.SET_SOC) != (step.soc_percent is not None)
    ):
        problems.append((("soc_percent",), "soc_percent is required with set_soc and only there"))
    if context.parameters is None:
        return problems  # the parameters are malformed: references cannot be judged
    try:
        refs = list(_step_refs(step))
    except SubstitutionError as exc:
        return [*problems, ((), str(exc))]
    for path, ref, allowed in refs:
        if isinstance(ref, NowRef):
            if allowed is not None:
                problems.append((path, "expected a number; ${now} is a date-time"))
            for _, name in ref.terms:
                term = context.parameters.get(name)
                if term is None or term.type not in NUMERIC_TYPES:
                    message = f"'{ref}': '{name}' is not a duration parameter of the case"
                    problems.append((path, message))
            continue
        spec = context.parameters.get(ref.name)
        if spec is None and ref.name not in stored:
            known = ", ".join(sorted({*context.parameters, *stored})) or "none"
            message = f"unknown variable '{ref}' (parameters and stored so far: {known})"
            problems.append((path, message))
        elif spec is not None and allowed is not None and spec.type not in allowed:
            wanted = "a whole number" if allowed == {ParamType.INTEGER} else "a number"
            problems.append((path, f"expected {wanted}; parameter '{ref.name}' is a {spec.type}"))
    return problems


def _matcher_refs(matcher: Matcher, path: FieldPath) -> Iterator[tuple[FieldPath, ParamRef]]:
    if isinstance(matcher, Equals | Approx) and isinstance(matcher.value, ParamRef):
        yield path, matcher.value
    elif isinstance(matcher, Equals):
        for sub, ref in references_in(matcher.value):
            if isinstance(ref, ParamRef):
                yield (*path, *sub), ref
    elif isinstance(matcher, OneOf):
        for index, option in enumerate(matcher.options):
            for sub, ref in references_in(option):
                if isinstance(ref, ParamRef):
                    yield (*path, "one_of", index, *sub), ref
    elif isinstance(matcher, Subset):
        for key, sub_matcher in matcher.fields:
            yield from _matcher_refs(sub_matcher, (*path, key))
    elif isinstance(matcher, Items | Contains):
        for index, sub_matcher in enumerate(matcher.items):
            yield from _matcher_refs(sub_matcher, (*path, index))
    elif isinstance(matcher, AllOf | AnyOf):
        for index, sub_matcher in enumerate(matcher.matchers):
            yield from _matcher_refs(sub_matcher, (*path, index))
    elif isinstance(matcher, Not):
        yield from _matcher_refs(matcher.matcher, (*path, "not"))


_NUMBER_FIELDS = (
    "timeout_s", "within_s", "duration_s", "hold_s", "tolerance", "rel_tolerance", "scale",
    "soc_percent", "factor",
)  # fmt: skip
_INTEGER_FIELDS = ("evse", "profile_id", "times", "seed", "count")


def _step_refs(
    step: Step,
) -> Iterator[tuple[FieldPath, ParamRef | NowRef, frozenset[ParamType] | None]]:
    """(path inside the step, reference, parameter types allowed or None) per reference."""
    for names, allowed in (
        (_NUMBER_FIELDS, NUMERIC_TYPES),
        (_INTEGER_FIELDS, frozenset({ParamType.INTEGER})),
    ):
        for name in names:
            value = getattr(step, name, None)
            if isinstance(value, ParamRef):
                yield (name,), value, allowed
    if isinstance(step, ExpectSettledStep):
        for term in step.target.terms:
            if isinstance(term, ParamRef):
                yield ("target",), term, NUMERIC_TYPES
    texts = ("message", "hook") if isinstance(step, TriggerStep) else ()
    for name in ("payload", "respond_with", "profile", *texts):
        value = getattr(step, name, None)
        if value is not None:
            for sub, ref in references_in(value):
                yield (name, *sub), ref, None
    matcher = getattr(step, "expect", None)
    if matcher is not None:
        for sub, ref in _matcher_refs(matcher, ()):
            yield ("expect", *sub), ref, None
