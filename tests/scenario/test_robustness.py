"""Whatever the input, loading reports problems; it never raises anything else."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.scenario.loader import collect_cases
from harness.scenario.yamlsource import read_yaml_text
from tests.scenario.conftest import MINIMAL

KEYS = st.sampled_from(
    ["id", "title", "suite", "ocpp_versions", "dut_role", "steps", "kind", "action", "payload",
     "expect", "needs", "parameters", "type", "default", "duration_s", "within_s", "target",
     "tolerance", "store", "one_of", "approx", "tol", "regex", "all_of", "requirement",
     "requirements", "level", "evse", "profile", "x"]
)  # fmt: skip
WORDS = st.sampled_from(
    ["send", "wait", "vehicle", "set_profile", "${x}", "${now-4s}", "${", "1.6", "station",
     "Accepted", "limit", "min(limit, ${x})", "20min", "smart_charging", "units.W", ""]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | WORDS
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    located, problems = read_yaml_text(text, file="fuzz.yaml")
    assert located is not None or problems


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = yaml.safe_load(MINIMAL)
    return st.dictionaries(KEYS, VALUES, max_size=4).map(lambda extra: {**base, **extra})


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_mutations())
def test_arbitrary_cases_load_or_report(tmp_path_factory: Any, document: dict[str, Any]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "case.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = collect_cases([path])
    assert result.ok == (len(result.cases) == 1 and not result.all_problems())
    for problem in result.all_problems():
        assert problem.location.line >= 1
        assert problem.message


def test_deep_nesting_is_a_problem_at_its_line_not_a_recursion_error() -> None:
    """Issue #16.12: flow or block nesting past the bound, in YAML or in JSON."""
    flow = "id: X\ntitle: " + "[" * 50_000 + "]" * 50_000 + "\n"
    block = "".join(f"{'  ' * i}k:\n" for i in range(500)) + "  " * 500 + "k: 1\n"
    json_text = "[" * 100_000 + "]" * 100_000
    for text, line in ((flow, 2), (block, 100), (json_text, 1)):
        located, problems = read_yaml_text(text, file="deep.yaml")
        assert located is None
        [problem] = problems
        assert "nest deeper than 100 levels" in problem.message
        assert problem.location.line == line
    located, problems = read_yaml_text("a: " + "[" * 90 + "]" * 90 + "\n", file="ok.yaml")
    assert located is not None
    assert not problems
