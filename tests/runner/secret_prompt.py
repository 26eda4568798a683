"""One case step that carries a secret and a long text, for the tests that both roles'
results are redacted and truncated by the same code (issue #17): a yes/no prompt the
operator answers "no", so the step log notes the prompt and a FAIL check quotes it."""

from __future__ import annotations

from harness.results import CaseResult, Verdict
from harness.runner.verdicts import NOTE_LIMIT_CHARS
from harness.security.redaction import REDACTED

TOKEN = "c2VjcmV0LXRva2VuLTQy"
MESSAGE = f"Check the badge reader (Authorization: Basic {TOKEN}); " + "x" * 700
REQUIREMENT_TEXT = f"the operator confirms; header Bearer {TOKEN}"


def steps_yaml() -> str:
    """The ``requirements:`` and ``steps:`` of the case (after its head)."""
    return (
        f"requirements:\n  - {{id: R1, level: MUST, text: '{REQUIREMENT_TEXT}'}}\n"
        "steps:\n"
        "  - kind: prompt\n"
        "    requirement: R1\n"
        "    response: yes_no\n"
        f"    message: '{MESSAGE}'\n"
    )


class SaysNo:
    """An operator who answers every question "no"."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        self.asked.append(message)
        return False


def assert_redacted_and_truncated(result: CaseResult) -> None:
    """The secret appears nowhere in ``result``; the prompt's note is cut at the limit."""
    assert result.verdict is Verdict.FAIL, result.verdict
    (check,) = [c for c in result.checks if c.requirement.id == "R1"]
    texts = [check.expected, check.actual, check.requirement.text]
    texts += [step.text for step in result.steps]
    assert not [t for t in texts if TOKEN in t]
    assert REDACTED in check.expected
    assert REDACTED in check.requirement.text
    (note,) = [s.text for s in result.steps if s.text.startswith("prompt: ")]
    expected_note = f"prompt: {MESSAGE}".replace(f"Basic {TOKEN}", f"Basic {REDACTED}")
    assert note == expected_note[:NOTE_LIMIT_CHARS]
    assert len(note) == NOTE_LIMIT_CHARS
