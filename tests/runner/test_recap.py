"""The console: progress lines, each check's verdict in the recap, why cases were
NOT_APPLICABLE, and prompts on lines of their own."""

from __future__ import annotations

import re

import pytest

from harness.results import CaseResult, CheckResult, Verdict
from harness.runner.cli import _Progress
from harness.runner.operator import TerminalOperator
from harness.runner.recap import not_applicable_lines, recap_blocks
from tests.reports.builders import CP1, MUST, T0, ev, result


def test_the_recap_names_each_checks_verdict() -> None:
    base = result("VP-01", (CP1, ev("ev-a")), Verdict.FAIL)
    checks = (
        CheckResult.failed(MUST, expected="<= 6 A", actual="16 A"),
        CheckResult.inconclusive(MUST, expected="<= 6 A", reason="lab meter silent 45 s"),
    )
    case = CaseResult(base.info, base.started_at, base.finished_at, 0.1, checks=checks)
    (block,) = recap_blocks([case], strict=False)
    assert "  [FAIL] Requirement: K01.FR.31 (MUST)" in block
    assert "  [INCONCLUSIVE] Requirement: K01.FR.31 (MUST)" in block


def test_not_applicable_reasons_and_the_fields_to_declare() -> None:
    info = result("TC_K_01_CS", (CP1,), Verdict.PASS).info

    def na(case_id: str, reason: str) -> CaseResult:
        return CaseResult.not_applicable(
            info.__class__(case_id, "t", "s", "c", info.ocpp_version, info.devices),
            reason=reason,
            at=T0,
        )

    results = [
        na(
            "TC_A", "needs smart_charging; the declaration says smart_charging: false (or omits it)"
        ),
        na(
            "TC_B", "needs smart_charging; the declaration says smart_charging: false (or omits it)"
        ),
        na("TC_C", "needs max_periods ≥ 6; the declaration does not state max_periods"),
        na("TC_D", "needs units.W; the declaration lists units: [A]"),
        na("TC_E", "needs not units.W (a DUT without it); the declaration claims it"),
        na("TC_F", "needs a bidirectional vehicle; ev-a has bidirectional: false"),
        result("VP-01", (CP1, ev("ev-a")), Verdict.PASS),
    ]
    lines = not_applicable_lines(results)
    assert lines[0] == "Not applicable (6):"
    assert (
        "  needs smart_charging; the declaration says smart_charging: false (or omits it): "
        "TC_A, TC_B"
    ) in lines
    assert lines[-1].startswith(
        "  If the DUT supports them, declare in its capabilities file: "
        "smart_charging, max_periods ≥ 6, units.W ("
    )
    assert not_applicable_lines(results[-1:]) == []


def test_progress_lines_count_and_show_an_eta_on_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    done = result("VP-01", (CP1, ev("ev-a")), Verdict.PASS)
    plain = _Progress(3, strict=False, terminal=False)
    plain(done)
    plain(done)
    lines = capsys.readouterr().out.splitlines()
    assert [line[:6] for line in lines] == ["[1/3] ", "[2/3] "]
    assert not any("ETA" in line for line in lines)
    live = _Progress(12, strict=False, terminal=True)
    live(done)
    line = capsys.readouterr().out
    assert line.startswith("[ 1/12] VP-01")
    assert re.search(r"· \S+ elapsed, ETA \S+", line)


async def test_a_prompt_from_a_pipe_ends_its_own_line() -> None:
    import io

    out = io.StringIO()
    operator = TerminalOperator(stdin=io.StringIO("\n"), stdout=out)
    assert await operator.ask("Plug the vehicle in at EVSE 1", yes_no=False) is True
    assert out.getvalue() == "\n>>> Plug the vehicle in at EVSE 1 [Enter] \n"
