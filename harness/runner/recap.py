"""The recap of cases that did not pass, as ``ocpp-harness run`` prints it at the end and the
pytest plugin shows it in a failing test."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import CaseResult, Verdict

__all__ = ["NOT_PASSED", "recap_blocks"]

NOT_PASSED = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE})
"""Effective verdicts a recap shows (NON_STRICT too with ``strict``, via the effective one)."""


def recap_blocks(results: Sequence[CaseResult], *, strict: bool) -> list[str]:
    """One text block per case that did not pass: its devices, verdict and reason, then
    Requirement / Expected / Actual and the trace frames of each check that did not pass,
    and the interruption if any. Empty when every case passed."""
    shown = set(NOT_PASSED)
    if strict:
        shown.add(Verdict.NON_STRICT)
    blocks: list[str] = []
    for result in results:
        if result.effective_verdict(strict=strict) not in NOT_PASSED:
            continue
        devices = "+".join(d.id for d in result.info.devices)
        lines = [f"{result.info.case_id} on {devices}: {result.verdict.value} — {result.reason}"]
        for check in result.checks:
            if check.verdict in shown:
                lines.append("  " + check.explain().replace("\n", "\n  "))
                if check.frames:
                    lines.append(f"  Frames: {', '.join(map(str, check.frames))}")
        interruption = result.interruption
        if interruption is not None and interruption.verdict is not Verdict.NOT_APPLICABLE:
            lines.append(f"  Interrupted: {interruption.reason}")
        blocks.append("\n".join(lines))
    return blocks
