"""Bad options and bad input give clear errors: a usage error before collection, or a failed
test naming what is wrong, never a traceback into the plugin."""

from __future__ import annotations

import socket

import pytest

pytest_plugins = ["pytester"]

ONE_TEST = """
def test_firmware(run_case):
    run_case("TC_056_CS").assert_passed()
"""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--ocpp-target", "bogus"], "*--ocpp-target / ocpp_target: expected sim or listen*"),
        (["--ocpp-target", "listen"], "*expected sim or listen HOST:PORT*got 'listen'*"),
        (["--ocpp-target=listen:127.0.0.1:99999"], "*expected sim or listen*"),
        (["--ocpp-capabilities", "nope.yaml"], "*ocpp_capabilities: no such file*nope.yaml*"),
        (["--ocpp-speed", "0"], "*--ocpp-speed / ocpp_speed: expected a positive number*"),
        (["--ocpp-scenarios", "missing-dir"], "*ocpp_scenarios: no such path*missing-dir*"),
    ],
)
def test_bad_options_stop_pytest_with_a_usage_error(
    pytester: pytest.Pytester, plugin_args: list[str], options: list[str], message: str
) -> None:
    pytester.makepyfile(ONE_TEST)
    result = pytester.runpytest(*plugin_args, *options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_bad_ini_value_is_a_usage_error_too(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nocpp_target = listen nowhere\n"
    )
    pytester.makepyfile(ONE_TEST)
    result = pytester.runpytest(*plugin_args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*expected sim or listen HOST:PORT*'listen nowhere'*"])


def test_bad_input_in_a_test_fails_it_with_the_reason(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_unknown_case(run_case):
            run_case("TC_056_C")

        def test_no_case(run_case):
            run_case()

        @pytest.mark.station_fault("melts")
        def test_unknown_fault(run_case):
            run_case("TC_056_CS")

        def test_unknown_parameter(run_case):
            run_case("TC_056_CS", params={"no_such": 3})

        def test_bad_parameter_value(run_case):
            run_case("TC_056_CS", params={"connector_id": 0})

        def test_unknown_vehicle(run_case):
            run_case("TC_056_CS", vehicle="tractor")

        @pytest.mark.ocpp_capabilities("absent.yaml")
        def test_missing_capabilities(run_case):
            run_case("TC_056_CS")
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=7)
    result.stdout.fnmatch_lines_random(
        [
            "*no case with id 'TC_056_C' in *did you mean TC_056_CS*",
            "*run_case() needs a case: run_case('TC_056_CS') or @pytest.mark.ocpp_case*",
            "*station_fault: unknown melts (known: *empty_composite*",
            "*--param no_such=3: no_such: unknown parameter 'no_such'*(known: connector_id, *",
            "*--param connector_id=0: connector_id: expected at least 1, got '0'*",
            "*vehicle='tractor' is no archetype (known: *bev_3ph_16a*",
            "*no capability declaration at *absent.yaml*",
        ]
    )
    out = result.stdout.str()
    assert "harness/pytest_plugin/" not in out
    assert "During handling of the above exception" not in out


def test_listen_without_capabilities_says_how_to_declare_them(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(ONE_TEST)
    result = pytester.runpytest(*plugin_args, "--ocpp-target=listen:127.0.0.1:0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*--ocpp-target listen needs the station's capability declaration*--ocpp-capabilities*"]
    )


def test_an_empty_selection_never_reads_as_a_pass(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    (pytester.path / "no-smart-charging.yaml").write_text(
        "ocpp_versions: ['1.6']\nrole: station\nsmart_charging: false\n"
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ocpp_capabilities("no-smart-charging.yaml")
        def test_not_applicable(run_case):
            run = run_case("TC_056_CS")
            assert run.ok and not run.judged
            run.assert_passed()
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no OCPP case was judged*", "TC_056_CS: *"])


def test_a_busy_listen_port_is_named(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    (pytester.path / "c.yaml").write_text("ocpp_versions: ['1.6']\nrole: station\n")
    pytester.makepyfile(ONE_TEST)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = pytester.runpytest(
            *plugin_args, f"--ocpp-target=listen:127.0.0.1:{port}", "--ocpp-capabilities=c.yaml"
        )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*the harness CSMS cannot listen on 127.0.0.1:{port}*"])
