"""libyaml's parser (when PyYAML has it) reads every YAML file exactly as the pure-Python one:
the same values, the same marks per field, the same problems (file, line, column, message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.scenario import yamlsource
from harness.scenario.yamlsource import Located, read_yaml_text, read_yaml_text_pure

ROOT = Path(__file__).resolve().parents[2]
YAML_FILES = sorted(
    p for p in ROOT.rglob("*.yaml") if ".git" not in p.parts and ".pytest_cache" not in p.parts
)

YAMLISH = " \t\n\r-:[]{},&*!|>'\"#%@`?.~ab01é\x85\ufeff\\"
"""Characters that make YAML structure, and some that the parsers treat differently."""

needs_libyaml = pytest.mark.skipif(
    yamlsource._CParser is None, reason="PyYAML was built without libyaml"
)


def _view(outcome: tuple[Located | None, list[Any]]) -> tuple[Any, ...]:
    located, problems = outcome
    if located is None:
        return (None, [str(p) for p in problems])
    return (
        repr(located.data),
        located.marks,
        located.key_marks,
        [str(p) for p in problems],
    )


def _same(text: str) -> None:
    fast = read_yaml_text(text, file="f.yaml")
    pure = read_yaml_text_pure(text, file="f.yaml")
    assert _view(fast) == _view(pure)


@needs_libyaml
def test_the_fast_path_is_taken_for_valid_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, *, file: str) -> Any:
        raise AssertionError("the pure-Python parser read a valid document")

    monkeypatch.setattr(yamlsource, "read_yaml_text_pure", refuse)
    located, problems = read_yaml_text("a: [1, 2]\nb: {c: x}\n", file="f.yaml")
    assert located is not None
    assert not problems
    assert located.data == {"a": [1, 2], "b": {"c": "x"}}
    assert located.marks[("b", "c")] == (2, 8)


@needs_libyaml
def test_every_yaml_file_of_the_repository_reads_the_same() -> None:
    assert len(YAML_FILES) > 100  # the case library, fleets, declarations, fixtures
    for path in YAML_FILES:
        _same(path.read_text(encoding="utf-8"))


@needs_libyaml
@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n  b: 2\n",  # bad indentation
        "a: [1, 2\n",  # unclosed flow sequence
        "a: 1\na: 2\n",  # duplicate key (a problem of ours, after composing)
        "a: *nothing\n",  # unknown alias
        "a: 1\n---\nb: 2\n",  # two documents
        "a: \x07\n",  # a control character
        "\ta: 1\n",  # a tab where a token starts
        "k: '\\ud800'\nx: é ü: 1\n",  # non-ASCII columns
        "when: 2026-01-01T00:00:00Z\nn: 0x1F\nf: .5\nb: yes\nz: ~\n",  # implicit types
        "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",  # merge keys
        "a: " + "[" * 150 + "]" * 150 + "\n",  # too deep: our composer refuses
        "",  # empty
        "%YAML 1.1\n--- !!str text\n",
        "s: |\n  two\n  lines\n",
    ],
)
def test_errors_and_edge_cases_read_the_same(text: str) -> None:
    _same(text)


@needs_libyaml
@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(YAMLISH)), max_size=80))
def test_arbitrary_yamlish_text_reads_the_same(text: str) -> None:
    _same(text)
