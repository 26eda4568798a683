"""``ocpp-harness simulate --fleet`` against the minimal CSMS running in another thread."""

from __future__ import annotations

from click.testing import CliRunner

from harness.cli import cli
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


def test_simulate_fleet_refuses_other_versions() -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--fleet", "--csms", "ws://127.0.0.1:1/o", "--ocpp", "2.0.1"]
    )
    assert result.exit_code == 2
    assert "fleet mode speaks OCPP 1.6 only" in result.output
