"""No ``${...}`` reaches a text a reader sees (issue #14): every case's Expected texts —
settled targets, matchers, requirement texts, step notes — rendered with the case's values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.scenario import (
    Case,
    ExpectSettledStep,
    RepeatStep,
    Target,
    describe,
    load_cases,
    resolve_parameters,
    resolve_text,
)
from tests.scenarios.library import SCENARIOS, walk

FILES = sorted(
    p
    for p in SCENARIOS.rglob("*.yaml")
    if not {"schema", "capabilities", "fleets"} & set(p.relative_to(SCENARIOS).parts)
)


def _variables(case: Case) -> dict[str, Any]:
    """The case's parameters at their defaults, and a value for every variable a step stores
    or a repeat binds (the run has them by the time a later step renders its text)."""
    values: dict[str, Any] = dict(resolve_parameters(case))
    for step in walk(case.steps):
        for name in getattr(step, "store", None) or {}:
            values.setdefault(name, "stored")
        if isinstance(step, RepeatStep) and step.for_each:
            for name in step.for_each:
                values.setdefault(name, 1)
    return values


def _texts(case: Case) -> list[str]:
    variables = _variables(case)
    texts = [resolve_text(r.text, variables=variables) for r in case.requirements]
    for step in walk(case.steps):
        if isinstance(step, ExpectSettledStep):
            texts.append(step.target.describe(variables))
        matcher = getattr(step, "expect", None)
        if matcher is not None:
            texts.append(describe(matcher, variables))
        note = getattr(step, "note", None)
        if note:
            texts.append(resolve_text(note, variables=variables))
    return texts


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_no_reference_reaches_a_rendered_text(path: Path) -> None:
    for case in load_cases([path]):
        leaks = [text for text in _texts(case) if "${" in text]
        assert leaks == [], f"{case.id}: {leaks}"


def test_a_settled_target_names_its_parameter_with_the_value() -> None:
    (case,) = load_cases([SCENARIOS / "vehicle-programme-201" / "VP-05.yaml"])
    texts = [
        s.target.describe(_variables(case))
        for s in walk(case.steps)
        if isinstance(s, ExpectSettledStep)
    ]
    assert "min(limit, resume_min_a = 6)" in texts
    assert all("${" not in t for t in texts)
    assert Target((80.0,)).describe({}) == "80"


def test_resolve_text_leaves_no_reference() -> None:
    text = resolve_text("min(limit, ${vehicle_max_a}) at ${now-4s}; ${unknown}", variables={
        "vehicle_max_a": 80.0,
    })  # fmt: skip
    assert text == "min(limit, 80) at now-4s; unknown (not set)"
