"""``run_case`` / ``run_suite`` in a generated test project, on the built-in simulator."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parents[2]


def test_the_package_registers_the_plugin_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {
        "ocpp_harness": "harness.pytest_plugin"
    }


def test_pytest_loads_the_plugin_from_the_entry_point_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What ``pip install ocpp-harness`` gives: an installed distribution whose ``pytest11``
    entry point names the plugin (here a bare dist-info on ``PYTHONPATH``), no ``-p``."""
    info = tmp_path / "site" / "ocpp_harness_probe-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: probe\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pytest11]\nocpp_harness = harness.pytest_plugin\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(tmp_path / "site")]))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ocpp_case("TC_056_CS")
        def test_the_fixtures_are_there(run_case, ocpp_settings):
            assert run_case.target == ocpp_settings.target == "sim"
        """
    )
    # A subprocess (a fresh interpreter reads the entry points); light: no case is run.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ocpp-harness: target sim*"])


def test_a_good_station_passes_a_case_from_a_plain_sync_test(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        from harness.results import Verdict

        def test_my_firmware(run_case):
            run = run_case("TC_056_CS")
            run.assert_passed()
            assert run.verdicts == {"TC_056_CS": Verdict.PASS}
            result = run.result("TC_056_CS")
            assert result.checks and all(c.expected and c.actual for c in result.checks)
            assert (run.run_dir / "results.jsonl").is_file()
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ocpp-harness: target sim*"])


def test_a_station_fault_fails_the_test_with_the_recap(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.station_fault("empty_composite")
        @pytest.mark.ocpp_case("TC_066_CS")
        def test_my_firmware(run_case):
            run_case().assert_passed()

        @pytest.mark.station_fault("empty_composite")
        def test_the_failed_check_is_there_to_read(run_case):
            run = run_case("TC_066_CS")
            assert not run.ok
            ((result, check),) = run.failed_checks
            assert result.info.case_id == check.requirement.id == "TC_066_CS"
            assert "number of periods" in check.actual and check.frames
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*OCPP cases did not pass:*",
            "TC_066_CS on SIM-1.6+*: FAIL*",
            "*Requirement: TC_066_CS (MUST)*",
            "*Expected: EVSE 1 *",
            "*Actual: *number of periods: expected 4, got 0*",  # OCA table 82: four periods
            "0 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors*",
            "Run folder: *ocpp-runs*",
        ]
    )
    assert "harness/pytest_plugin/" not in result.stdout.str()  # no traceback into the plugin


def test_markers_select_cases_and_parameters(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ocpp_case("TC_056_CS", "TC_057_CS")
        @pytest.mark.ocpp_params(connector_id=1)
        def test_two_cases(run_case):
            run = run_case()
            assert sorted(run.verdicts) == ["TC_056_CS", "TC_057_CS"]
            assert run.result("TC_056_CS").info.parameters["connector_id"] == 1
            run.assert_passed()

        def test_explicit_case_beats_the_marker(run_case):
            assert list(run_case("TC_057_CS").verdicts) == ["TC_057_CS"]
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=2)


SIMPLE_CASE = """
- id: PLUG-01
  title: a configuration change is accepted
  suite: plugin-test
  ocpp_versions: ["1.6"]
  dut_role: station
  steps:
    - {kind: vehicle, action: plug_in}
    - {kind: send, action: ChangeConfiguration, payload: {key: MeterValueSampleInterval,
       value: "5"}, expect: {status: Accepted}}
"""


def test_run_suite_takes_a_folder_next_to_the_test_file(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "plug.yaml").write_text(SIMPLE_CASE)
    pytester.makepyfile(
        """
        def test_suite(run_suite):
            run = run_suite("cases")
            assert list(run.verdicts) == ["PLUG-01"]
            run.assert_passed()
            assert run.summary.line() == "1 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors"
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1)


def test_run_suite_takes_a_suite_name_of_the_library(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        def test_ocpp16(run_suite):
            run = run_suite("ocpp16")
            run.assert_passed()
            assert {"TC_056_CS", "TC_066_CS"} <= set(run.verdicts)
            assert {r.info.suite for r in run.results} == {"ocpp16-smart-charging", "ocpp16-core"}

        def test_unknown_suite(run_suite):
            run_suite("ocpp99")
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ocpp99: neither a file/folder nor a suite (suites: *ocpp16*"])


def test_ocpp_suite_gives_one_test_per_case(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "plug.yaml").write_text(
        SIMPLE_CASE
        + SIMPLE_CASE.replace("PLUG-01", "PLUG-02").replace("MeterValueSampleInterval", "NoSuchKey")
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ocpp_suite("cases")
        def test_each(run_case, ocpp_case):
            run = run_case(ocpp_case)
            assert list(run.verdicts) == [ocpp_case.id]
            run.assert_passed()

        def test_without_the_marker(ocpp_case):
            pass
        """
    )
    result = pytester.runpytest(*plugin_args, "-v")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "*test_each?PLUG-01? PASSED*",
            "*test_each?PLUG-02? FAILED*",
            "*PLUG-02 on *: FAIL*",
            "*the ocpp_case fixture needs @pytest.mark.ocpp_suite*",
        ]
    )


def test_a_bad_ocpp_suite_is_a_collection_error_naming_it(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ocpp_suite("no-such-suite")
        def test_bad_suite(ocpp_case):
            pass
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.ocpp_suite: no-such-suite: neither a file/folder nor a suite*"]
    )


def test_run_case_works_inside_an_async_test(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_blocking_call_in_a_running_loop(run_case):
            run_case("TC_056_CS").assert_passed()

        @pytest.mark.asyncio
        async def test_awaited(run_case):
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(ticker())
            run = await run_case.arun("TC_056_CS")
            task.cancel()
            run.assert_passed()
            assert ticks > 1  # the test's own loop ran meanwhile
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=2)


def test_the_readme_example_runs(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use it from pytest", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_readme=example)
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=2)
