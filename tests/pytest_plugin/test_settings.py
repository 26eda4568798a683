"""The ``--ocpp-target`` forms, and where run folders go."""

from __future__ import annotations

import pytest

from harness.pytest_plugin.settings import TargetKind, parse_target

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sim", (TargetKind.SIM, "127.0.0.1", 0)),
        ("listen 127.0.0.1:9000", (TargetKind.LISTEN, "127.0.0.1", 9000)),
        ("listen:127.0.0.1:9000", (TargetKind.LISTEN, "127.0.0.1", 9000)),
        ("listen=0.0.0.0:80", (TargetKind.LISTEN, "0.0.0.0", 80)),
        ("listen [::1]:9000", (TargetKind.LISTEN, "::1", 9000)),
        ("listen :9000", (TargetKind.LISTEN, "127.0.0.1", 9000)),
    ],
)
def test_target_forms(text: str, expected: tuple[TargetKind, str, int]) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["", "simulator", "listen", "listen 127.0.0.1", "listen x:70000"])
def test_bad_targets_name_the_option(text: str) -> None:
    with pytest.raises(pytest.UsageError, match="expected sim or listen HOST:PORT"):
        parse_target(text)


def test_runs_dir_keeps_run_folders_and_junit_names_them(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        def test_firmware(run_case):
            run_case("TC_056_CS").assert_passed()
        """
    )
    result = pytester.runpytest(*plugin_args, "--ocpp-runs-dir", "kept", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    (run_dir,) = (pytester.path / "kept").iterdir()
    assert (run_dir / "results.jsonl").read_text().count("TC_056_CS") >= 1
    junit = (pytester.path / "junit.xml").read_text()
    assert 'name="ocpp_run_dir"' in junit
    assert str(run_dir) in junit
