"""The command line's own behaviour (sub-commands are tested beside their packages)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.cli import main


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Example" in out
    assert "ocpp-harness run" in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_python_dash_m_harness_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "ocpp-harness" in proc.stdout
