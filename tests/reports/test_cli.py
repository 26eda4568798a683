"""``ocpp-harness report``: formats, output folder, comparison, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.exitcodes import ExitCode
from harness.results import Verdict
from reports import ReportError, ReportFormat, write_reports

from .builders import CP1, ev, result, store_run


def test_report_writes_the_chosen_formats(
    sample_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["report", str(sample_run), "--format", "html,junit,json,md,csv", "--out", str(out)])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "assets",
        "cases",
        "index.html",
        "junit.xml",
        "matrix.csv",
        "report.json",
        "summary.md",
    ]
    stdout = capsys.readouterr().out
    assert "5 passed, 2 failed, 1 inconclusive, 2 skipped, 1 errors" in stdout
    assert (
        "Vehicles at station CP-1 (Acme Wallbox): vehicles covering 10 % of the tested "
        "market share passed (1 of 3 models, 33.3 %)"
    ) in stdout
    assert f"junit: {out / 'junit.xml'}" in stdout
    # a recap of what failed, with Expected/Actual, then the summary line last
    assert "FAIL VP-01 [CP-1 + ev-b]: K01.FR.31 (MUST)" in stdout
    assert "    Expected: <= 6 A within 15 s\n    Actual: 16 A after 15 s" in stdout
    assert "ERROR TC_066_CS [CP-2]" in stdout
    last = stdout.rstrip().splitlines()[-1]
    assert last == "5 passed, 2 failed, 1 inconclusive, 2 skipped, 1 errors"


def test_default_is_html_and_junit_in_the_run_folder(sample_run: Path) -> None:
    assert main(["report", str(sample_run)]) == 0
    assert sorted(p.name for p in (sample_run / "report").iterdir()) == [
        "assets",
        "cases",
        "index.html",
        "junit.xml",
    ]


def test_strict_and_compare(
    sample_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(
            [
                "report",
                str(sample_run),
                "--strict",
                "--compare",
                str(sample_run),
                "--format",
                "json",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert document["strict"] is True
    assert document["summary"]["failed"] == 3
    assert document["comparison"]["changes"] == []
    assert "0 new failures, 0 fixed, 0 changed figures" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda run: None, "no such run folder"),
        (lambda run: (run / "run.json").write_text("{not json"), "run.json: not valid JSON"),
        (lambda run: (run / "run.json").unlink(), "run.json: missing"),
        (lambda run: (run / "results.jsonl").write_text('{"key": 1}\n{"x"\n'), "results.jsonl:1"),
        (lambda run: (run / "results.jsonl").unlink(), "results.jsonl: missing"),
    ],
)
def test_missing_or_corrupt_run_folders_give_a_clear_error_without_traceback(
    sample_run: Path,
    tmp_path: Path,
    damage: object,
    needle: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = sample_run if needle != "no such run folder" else tmp_path / "nowhere"
    damage(run)  # type: ignore[operator]
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert needle in err
    assert "Traceback" not in err


def test_unknown_format_is_named(sample_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(sample_run), "--format", "html,pdf"]) == ExitCode.BAD_INPUT
    assert "--format: unknown format 'pdf'" in capsys.readouterr().err


def test_unfinished_run_is_reported_with_a_note_and_exits_inconclusive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = store_run(tmp_path, [result("VP-01", (CP1, ev("ev-a")), Verdict.PASS)], finished=False)
    with (run / "results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"key": "torn')  # the writer died mid-line
    argv = ["report", str(run), "--format", "md,junit", "--out", str(tmp_path / "o")]
    assert main(argv) == ExitCode.INCONCLUSIVE
    assert "the run did not finish" in capsys.readouterr().err
    text = (tmp_path / "o" / "summary.md").read_text(encoding="utf-8")
    assert "the run did not finish" in text
    assert "the last line is incomplete" in text
    assert 'type="INCOMPLETE_RUN"' in (tmp_path / "o" / "junit.xml").read_text(encoding="utf-8")
    assert main([*argv, "--allow-incomplete"]) == ExitCode.OK


def test_compare_exits_1_on_new_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = store_run(tmp_path / "a", [result("VP-01", (CP1, ev("ev-a")), Verdict.PASS)])
    new = store_run(tmp_path / "b", [result("VP-01", (CP1, ev("ev-a")), Verdict.FAIL)])
    out = str(tmp_path / "o")
    assert main(["report", str(new), "--compare", str(old), "--out", out]) == ExitCode.FAILED
    assert "1 new failures" in capsys.readouterr().out
    # the other way round the failure is fixed: nothing new fails
    assert main(["report", str(old), "--compare", str(new), "--out", out]) == ExitCode.OK


def test_help_via_python_dash_m_shows_an_example() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "report", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert proc.returncode == 0, proc.stderr
    assert "ocpp-harness report runs/" in proc.stdout
    assert "--compare" in proc.stdout


def test_write_reports_names_an_unknown_format(sample_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="unknown format 'pdf'; choose from html, junit"):
        write_reports(sample_run, tmp_path / "out", ["html", "pdf"])
    assert write_reports(sample_run, tmp_path / "out", ["csv", ReportFormat.CSV]) == {
        ReportFormat.CSV: tmp_path / "out" / "matrix.csv"
    }
