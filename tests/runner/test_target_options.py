"""``run`` options that apply to some targets only (issue #17): given for another target,
each is bad input (exit 2) naming the option and the targets it applies to — checked before
anything runs or connects."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.runner.cli import _TARGETS_OF

CAPS = "scenarios/capabilities/sim-station.yaml"
TARGETS = {
    "sim": ["--target", "sim"],
    "listen": ["--target", "listen", "127.0.0.1:9", "--capabilities", CAPS],
    "connect": ["--target", "connect", "ws://127.0.0.1:9/CS1"],
}


@pytest.mark.parametrize(
    ("option", "applies_to", "used_with"),
    [
        (["--fleet", "fleet.yaml"], "sim", "listen"),
        (["--jobs", "2"], "sim", "connect"),
        (["--ocpp", "2.0.1"], "sim", "listen"),
        (["--station-fault", "no_smart_charging"], "sim", "connect"),
        (["--speed", "5"], "sim or listen", "connect"),
        (["--unattended"], "listen", "sim"),
        (["--station-id", "CS1"], "listen", "connect"),
        (["--connect-timeout", "5"], "listen", "sim"),
        (["--max-frame-bytes", "0"], "listen", "connect"),
        (["--console"], "listen", "sim"),
        (["--security-profile", "1"], "listen", "connect"),
        (["--case-pause", "1"], "connect", "sim"),
        (["--case-pause", "1"], "connect", "listen"),
    ],
)
def test_an_option_for_another_target_is_a_clear_error(
    option: list[str], applies_to: str, used_with: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "ocpp16", *TARGETS[used_with], *option]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {option[0]} applies to --target {applies_to} only "
        f"(this run is --target {used_with})"
    )


def test_every_target_specific_option_is_an_option_of_run() -> None:
    from harness.runner.cli import run_command

    names = {p.name for p in run_command.params}
    assert set(_TARGETS_OF) <= names
    assert {"capabilities", "params", "out", "strict"} <= names - set(_TARGETS_OF)


def test_an_option_for_the_chosen_target_is_accepted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --case-pause with connect passes the check; the run then stops at the unknown case,
    # before connecting.
    code = main(["run", "no-such-case", *TARGETS["connect"], "--case-pause", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no-such-case" in err
    assert "applies to --target" not in err
