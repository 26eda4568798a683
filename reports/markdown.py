"""A Markdown summary for a pull-request comment: the summary line, each matrix's headline
and per-case pass rates, the failures with Expected/Actual, and the comparison if any."""

from __future__ import annotations

from pathlib import Path

from harness.results import Verdict
from reports.compare import ChangeKind, Comparison
from reports.model import Report, percent
from reports.wakeup import wake_up_markdown

__all__ = ["markdown_summary", "write_markdown"]

MAX_FAILURES = 30


def _md(text: str) -> str:
    """Table-safe text: no line breaks, pipes and Markdown specials escaped."""
    text = " ".join(text.split())
    for ch in "\\|*_`<>[]":
        text = text.replace(ch, "\\" + ch)
    return text


def markdown_summary(report: Report, *, comparison: Comparison | None = None) -> str:
    """The Markdown text."""
    m = report.manifest
    out = [
        f"## ocpp-harness run `{m.run_id}`",
        "",
        f"**{report.summary.line()}** ({report.summary.breakdown()})"
        + (" — strict: NON_STRICT counts as FAIL" if report.strict else ""),
        "",
    ]
    out.extend(f"> ⚠ {_md(note)}" for note in report.notes)
    if report.notes:
        out.append("")
    for matrix in report.matrices:
        out += [f"### {_md(matrix.title)}", "", f"**{_md(matrix.headline())}**"]
        if matrix.weighting_note:
            out.append(f"<sub>{_md(matrix.weighting_note)}</sub>")
        weighted = matrix.overall.weighted is not None
        out += [
            "",
            "| case | title | passed | by count"
            + (" | by market share" if weighted else "")
            + " | FAIL | NON_STRICT | n/a | INCONCLUSIVE | ERROR |",
        ]
        out.append("|---|---|---|---" + ("|---" if weighted else "") + "|---|---|---|---|---|")
        for stats in matrix.column_stats:
            c, r, t = stats.column, stats.rate, stats.totals.counts
            out.append(
                f"| {_md(c.case_id)} | {_md(c.title)} | {r.passed}/{r.counted} | "
                f"{percent(r.by_count)}"
                + (f" | {percent(r.weighted)}" if weighted else "")
                + f" | {t[Verdict.FAIL]} | {t[Verdict.NON_STRICT]} | {t[Verdict.NOT_APPLICABLE]}"
                f" | {t[Verdict.INCONCLUSIVE]} | {t[Verdict.ERROR]} |"
            )
        out.append("")
    out += wake_up_markdown(report)  # its own section (reports/wakeup.py)
    not_passed = (Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE)
    failing = [
        res for res in report.results if res.effective_verdict(strict=report.strict) in not_passed
    ]
    if failing:
        out += [f"### Failures and errors ({len(failing)})", ""]
        for res in failing[:MAX_FAILURES]:
            devices = _md(" + ".join(d.id for d in res.info.devices))
            out.append(
                f"- **{_md(res.info.case_id)}** {devices} — {res.verdict.value}: {_md(res.reason)}"
            )
        if len(failing) > MAX_FAILURES:
            out.append(f"- … and {len(failing) - MAX_FAILURES} more (see the HTML report)")
        out.append("")
    if comparison is not None:
        out += [f"### Compared with `{comparison.old_run_id}`", ""]
        for title, kind in (
            ("New failures", ChangeKind.NEW_FAILURE),
            ("Fixed", ChangeKind.FIXED),
            ("Other verdict changes", ChangeKind.CHANGED),
            ("Added", ChangeKind.ADDED),
            ("Removed", ChangeKind.REMOVED),
        ):
            items = comparison.of_kind(kind)
            out.append(f"**{title}: {len(items)}**")
            for change in items[:MAX_FAILURES]:
                out.append(
                    f"- {_md(change.case_id)} {_md(change.devices)}: {change.old or 'not run'} → "
                    f"{change.new or 'not run'} ({_md(change.reason)})"
                )
            out.append("")
        out.append(f"**Changed figures: {len(comparison.figures)}**")
        out.extend(f"- {_md(f.describe())}" for f in comparison.figures[:MAX_FAILURES])
        out.append("")
    return "\n".join(out)


def write_markdown(report: Report, path: Path, *, comparison: Comparison | None = None) -> Path:
    """Write :func:`markdown_summary` to ``path``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown_summary(report, comparison=comparison), encoding="utf-8")
    return path
