"""The console module every command ends with: a run's end through any ``echo`` (``serve``
prefixes each line with the station), and the exit status over several stations."""

from __future__ import annotations

from harness.exitcodes import ExitCode
from harness.results import Summary, Verdict
from harness.runner.output import finish_run, finish_stations


def summary(*verdicts: Verdict) -> Summary:
    return Summary.of(verdicts, strict=False)


def test_stations_summed_up_with_the_most_serious_exit_status() -> None:
    out: list[str] = []
    err: list[str] = []
    code = finish_stations(
        {"CP-A": summary(Verdict.PASS), "CP-B": summary(Verdict.PASS, Verdict.FAIL)},
        {},
        echo=out.append,
        warn=err.append,
    )
    assert code == ExitCode.FAILED
    assert out == [
        "CP-A: 1 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors",
        "CP-B: 1 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors",
    ]
    assert err == []


def test_a_lost_run_folder_is_named_and_outweighs_a_failure() -> None:
    err: list[str] = []
    code = finish_stations(
        {"CP-A": summary(Verdict.FAIL)},
        {"CP-A": "cannot write the run folder: /x: disk full"},
        echo=lambda _: None,
        warn=err.append,
    )
    assert code == ExitCode.STORAGE
    assert err == ["error: [CP-A] cannot write the run folder: /x: disk full"]


def test_no_station_came_is_inconclusive() -> None:
    out: list[str] = []
    assert finish_stations({}, {}, echo=out.append) == ExitCode.INCONCLUSIVE
    assert out == []


def test_a_run_without_folder_still_gets_its_summary_through_the_given_echo() -> None:
    lines: list[str] = []
    code = finish_run([], None, strict=False, wall_s=1.25, echo=lines.append, warn=lines.append)
    assert code == ExitCode.OK
    line = "0 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors  (no cases; 1.2 s)"
    assert lines == ["", line]
