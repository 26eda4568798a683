"""The recap of cases that did not pass, as ``ocpp-harness run`` prints it at the end and the
pytest plugin shows it in a failing test."""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.results import CaseResult, Verdict

__all__ = ["NOT_PASSED", "not_applicable_lines", "recap_blocks"]

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
                lines.append(f"  [{check.verdict.value}] " + check.explain().replace("\n", "\n  "))
                if check.frames:
                    lines.append(f"  Frames: {', '.join(map(str, check.frames))}")
        interruption = result.interruption
        if interruption is not None and interruption.verdict is not Verdict.NOT_APPLICABLE:
            lines.append(f"  Interrupted: {interruption.reason}")
        blocks.append("\n".join(lines))
    return blocks


_UNDECLARED = re.compile(
    r"^needs (?!not )([^;]+); the declaration (?:does not state|says .+ \(or omits it\)|lists )"
)
_IDS_SHOWN = 8


def not_applicable_lines(results: Sequence[CaseResult]) -> list[str]:
    """Why cases were NOT_APPLICABLE, grouped by reason with the case ids (a few), and, when
    a capability left out of the declaration excluded cases, which fields to declare if the
    DUT has them. Empty when no case was NOT_APPLICABLE."""
    by_reason: dict[str, list[str]] = {}
    for result in results:
        if result.verdict is Verdict.NOT_APPLICABLE:
            ids = by_reason.setdefault(result.reason, [])
            if result.info.case_id not in ids:
                ids.append(result.info.case_id)
    if not by_reason:
        return []
    count = sum(1 for r in results if r.verdict is Verdict.NOT_APPLICABLE)
    lines = [f"Not applicable ({count}):"]
    undeclared: list[str] = []
    for reason, ids in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        shown = ", ".join(ids[:_IDS_SHOWN]) + (" ..." if len(ids) > _IDS_SHOWN else "")
        lines.append(f"  {reason}: {shown}")
        found = _UNDECLARED.match(reason)
        if found is not None and found.group(1) not in undeclared:
            undeclared.append(found.group(1))
    if undeclared:
        lines.append(
            "  If the DUT supports them, declare in its capabilities file: "
            + ", ".join(undeclared)
            + " (scenarios/schema/README.md; `ocpp-harness scenario select` shows the effect)"
        )
    return lines
