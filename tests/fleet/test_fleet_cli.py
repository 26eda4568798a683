"""``ocpp-harness simulate --fleet`` against the minimal CSMS running in another thread."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from harness.cli import cli, main
from harness.exitcodes import ExitCode
from simulators.fleet.csms import MiniCsms


def test_simulate_fleet_boots_all_and_prints_live_summary(csms_port: tuple[MiniCsms, int]) -> None:
    csms, port = csms_port
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--fleet",
            "--csms",
            f"ws://127.0.0.1:{port}/ocpp",
            "--stations",
            "20",
            "--stagger",
            "0.001",
            "--speed",
            "3600",
            "--duration",
            "5400",
            "--id-prefix",
            "F-",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "final: stations 20 booted 20" in result.output
    assert "errors 0" in result.output
    assert "msgs/s" in result.output
    assert "p99" in result.output
    assert len(csms.boots) == 20
    assert all(sid.startswith("F-") for sid in csms.boots)
    assert "open files per process:" in result.output
    assert "1 worker process" in result.output
    assert "s: every station ended" in result.output


def test_simulate_fleet_on_two_worker_processes(csms_port: tuple[MiniCsms, int]) -> None:
    csms, port = csms_port
    args = _fleet_args(port, "--workers", "2", "--speed", "3600", "--duration", "14400")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "2 worker processes" in result.output
    assert "final: stations 20 booted 20" in result.output
    assert "s: every station ended" in result.output
    assert set(csms.boots) == {f"SIM-{i:06d}" for i in range(20)}


def test_simulate_fleet_refuses_other_versions() -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--fleet", "--csms", "ws://127.0.0.1:1/o", "--ocpp", "2.0.1"]
    )
    assert result.exit_code == 2
    assert "fleet mode speaks OCPP 1.6 only" in result.output


def _fleet_args(port: int, *extra: str) -> list[str]:
    return [
        "simulate",
        "--fleet",
        "--csms",
        f"ws://127.0.0.1:{port}/ocpp",
        "--stations",
        "20",
        "--stagger",
        "0.001",
        "--speed",
        "20000",
        "--duration",
        "86400",
        *extra,
    ]


@pytest.mark.parametrize(
    "csms_port", [MiniCsms(not_implemented=frozenset({"StartTransaction"}))], indirect=True
)
def test_a_csms_refusing_every_start_shows_no_charging_and_fails(
    csms_port: tuple[MiniCsms, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _csms, port = csms_port
    code = main(_fleet_args(port))
    output = capsys.readouterr().err
    assert code == ExitCode.FAILED, output
    final = next(line for line in output.splitlines() if line.startswith("final:"))
    assert " charging 0 " in final
    match = re.search(r"transactions 0 of (\d+) starts accepted", final)
    assert match is not None, final
    assert int(match.group(1)) > 0
    assert "CALLERROR NotImplemented (StartTransaction)" in output
    assert "FAILED: the CSMS accepted none of" in output


def test_errors_past_the_threshold_fail_and_intervals_are_reported(
    csms_port: tuple[MiniCsms, int], capsys: pytest.CaptureFixture[str]
) -> None:
    csms, port = csms_port
    csms.not_implemented = frozenset({"Heartbeat"})
    code = main(_fleet_args(port, "--max-error-rate", "0.05"))
    output = capsys.readouterr().err
    assert code == ExitCode.FAILED, output
    assert "FAILED: error rate" in output
    assert "above --max-error-rate 5.0%" in output
    assert "errors by kind: CALLERROR NotImplemented (Heartbeat)" in output
    assert "| last " in output  # per-interval lines
    assert "offered" in output
    relaxed = main(_fleet_args(port, "--max-error-rate", "1"))
    assert relaxed == ExitCode.OK, capsys.readouterr().err
