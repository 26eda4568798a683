"""The command line's own behaviour (sub-commands are tested beside their packages)."""

from __future__ import annotations

import ast
import subprocess
import sys

import click
import pytest

from harness.cli import COMMANDS, cli, main


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


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    """``--help`` lists the commands from a table without importing them; the table's one-line
    help must stay what the command itself says."""
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert COMMANDS[name][1] == command.get_short_help_str(limit=200)


def test_help_imports_no_sub_command() -> None:
    """Asking for help does not load the runner, the simulators, the reports or the oracle."""
    heavy = ("harness.runner", "harness.lab", "harness.smartcharging", "harness.session",
             "simulators", "reports", "hypothesis", "structlog", "ocpp")  # fmt: skip
    printed, loaded = _loaded_by(
        "from harness.cli import main\nassert main(['--help']) == 0", heavy
    )
    assert loaded == []
    assert "schedule" in printed


def _loaded_by(code: str, heavy: tuple[str, ...]) -> tuple[str, list[str]]:
    """What ``code`` prints in a fresh interpreter, and the modules it leaves loaded that are
    one of ``heavy`` or inside one of them."""
    script = (
        f"{code}\n"
        "import sys\n"
        f"heavy = {heavy!r}\n"
        "inside = tuple(h + '.' for h in heavy)\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.startswith(inside)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    *printed, last = proc.stdout.strip().splitlines()
    return "\n".join(printed), ast.literal_eval(last)


def test_the_schedule_command_loads_no_tls_websocket_or_ocpp_package_code() -> None:
    """``schedule`` (the oracle on a vector) needs the session's frames and the redaction of
    the security package, not its certificates: ``cryptography``, ``websockets``, the ``ocpp``
    package's code (its empty top package only locates the schemas) and ``jsonschema`` stay
    unloaded (issue #22: start-up within 8x python -c pass)."""
    code = "import harness.smartcharging.judge, harness.session, harness.security.redaction"
    heavy = ("cryptography", "websockets", "jsonschema", "harness.transport",
             "harness.security.certs", "harness.security.profiles", "ocpp.messages",
             "ocpp.charge_point", "ocpp.v16", "ocpp.v201", "ocpp.v21")  # fmt: skip
    _, loaded = _loaded_by(code, heavy)
    assert loaded == []


def test_the_security_package_still_offers_every_name_it_lists() -> None:
    """``harness.security`` imports its names on first use: each one listed in ``__all__`` is
    there, the very object of its submodule, and an unknown name is an AttributeError."""
    import importlib

    import harness.security as security

    for name in security.__all__:
        value = getattr(security, name)
        module = importlib.import_module(f"harness.security.{security._SUBMODULE_OF[name]}")
        assert value is getattr(module, name), name
    assert set(security._SUBMODULE_OF) == set(security.__all__)
    assert set(security.__all__) <= set(dir(security))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = security.nothing_here
