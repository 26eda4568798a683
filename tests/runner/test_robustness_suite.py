"""The ``robustness`` suite against the built-in simulated station (issue #8.5): PASS on the
well-behaved station, FAIL on one that crashes on a malformed message; the seed is stored
with each result and a run is replayable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.results import CheckResult, RunReader, Verdict
from tests.runner.test_sim_e2e import fleet, run_dir


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    code = main(
        [
            "run",
            "robustness",
            "--fleet",
            fleet(tmp_path),
            "--param",
            "count=8",
            "--out",
            str(tmp_path / "runs"),
            *extra,
        ]
    )
    out = capsys.readouterr().out
    return code, run_dir(out)


def _fuzz_check(checks: tuple[CheckResult, ...]) -> CheckResult:
    return next(c for c in checks if c.requirement.id.startswith("ROB-0"))


def test_the_simulated_station_passes_the_robustness_suite_in_every_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, folder = _run(tmp_path, capsys)
    results = list(RunReader(folder).results())
    assert code == 0
    assert len(results) == 9  # ROB-01..03 × OCPP 1.6, 2.0.1, 2.1
    for result in results:
        assert result.verdict is Verdict.PASS, (result.info.case_id, result.reason)
        assert result.info.parameters["seed"] == 20260801
        fuzz = _fuzz_check(result.checks)
        assert "seed 20260801: all 8 answered as required" in fuzz.actual
        live = [c for c in result.checks if c.requirement.id == "ROB-LIVE"]
        assert len(live) == 2  # TriggerMessage answered, Heartbeat received


def test_a_station_that_crashes_on_a_malformed_message_fails_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, folder = _run(
        tmp_path, capsys, "--ocpp", "1.6", "--station-fault", "crashes_on_malformed"
    )
    results = {r.info.case_id: r for r in RunReader(folder).results()}
    assert code == 1
    for case_id in ("ROB-01", "ROB-02"):
        result = results[case_id]
        assert result.verdict is Verdict.FAIL
        fuzz = _fuzz_check(result.checks)
        assert fuzz.verdict is Verdict.FAIL
        assert "close code 1011, station crashed on a malformed message" in fuzz.actual
        assert "after request #1" in fuzz.actual
    # extreme profiles are well-formed: this fault does not crash on them
    assert results["ROB-03"].verdict is Verdict.PASS


def test_the_same_seed_sends_the_same_frames_and_a_new_seed_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def sent(folder: Path) -> list[str]:
        reader = RunReader(folder)
        (result,) = [r for r in reader.results() if r.info.case_id == "ROB-02"]
        # the barrage, not the reset and liveness CALLs (their ids are random per session)
        return [
            f["raw"]
            for f in reader.trace(result.key)
            if f["dir"] == "out" and not re.fullmatch(r"[0-9a-f]{8}-\d+", str(f["id"]))
        ]

    args = ("--ocpp", "1.6")
    first = sent(_run(tmp_path / "a", capsys, *args)[1])
    again = sent(_run(tmp_path / "b", capsys, *args)[1])
    other = sent(_run(tmp_path / "c", capsys, *args, "--param", "ROB-02:seed=99")[1])
    assert len(first) == 8
    assert first == again
    assert first != other


@pytest.mark.parametrize("level", ["WARNING", "DEBUG"])
def test_the_expected_complaints_of_the_fuzzed_station_go_to_the_debug_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], level: str
) -> None:
    """Issue #19: the simulated station's answers to the malformed frames sent on purpose
    (``protocol_violation``, some 240 of them in the suite) are not warnings on the console;
    they are in the debug log for who asks for it."""
    code = main(
        [
            "--log-level",
            level,
            "run",
            "ROB-01",
            "--ocpp",
            "1.6",
            "--fleet",
            fleet(tmp_path),
            "--param",
            "count=4",
            "--out",
            str(tmp_path / "runs"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert re.search(r"ROB-01 .* PASS", captured.out), captured.out
    violations = [line for line in captured.err.splitlines() if "protocol_violation" in line]
    if level == "WARNING":
        assert violations == [], captured.err
    else:
        assert violations, captured.err
        assert all("debug" in line for line in violations), violations
