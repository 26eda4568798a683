"""``sim_station`` (a simulated station driven by hand) and ``harness_csms`` (a real station
connecting over loopback WebSocket), in generated test projects."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_sim_station_runs_a_hand_written_exchange_on_virtual_time(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import time
        import pytest
        from simulators.station import StationFault

        def test_hand_driven(sim_station):
            async def scenario(link):
                assert link.csms.observations.booted.is_set()
                await link.station.plug_in(1)
                answer = await link.call("ClearChargingProfile", {})
                t0 = link.clock.monotonic()
                await link.clock.sleep(6 * 3600)
                return answer.payload, link.clock.monotonic() - t0, link.station.config.faults

            wall0 = time.perf_counter()
            payload, waited_s, faults = sim_station.run(scenario)
            assert payload["status"] in {"Accepted", "Unknown"}
            assert waited_s >= 6 * 3600
            assert time.perf_counter() - wall0 < 5   # six clock hours, virtual time
            assert faults == frozenset()

        @pytest.mark.station_fault("empty_composite")
        def test_fault_from_the_marker(sim_station):
            async def scenario(link):
                return link.station.config.faults, str(link.csms.version)

            faults, version = sim_station.run(scenario, ocpp="2.0.1")
            assert faults == {StationFault.EMPTY_COMPOSITE}
            assert version == "2.0.1"
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=2)


def test_sim_station_opens_on_the_loop_of_an_async_test(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_in_the_test_loop(sim_station):
            async with sim_station.open() as link:
                answer = await link.call("ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})
                assert answer.payload == {"status": "NotSupported"}
            assert link.csms.closed
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1)


CAPABILITIES = """
name: lab wallbox
ocpp_versions: ["1.6"]
role: station
smart_charging: true
purposes: [station_max, tx_default, tx]
profile_kinds: [absolute, recurring, relative]
units: [A]
max_stack_level: 8
max_periods: 24
number_of_evses: 1
max_current_a: 32.0
measurands: [Current.Import, Power.Active.Import]
"""

CASE = """
- id: PLUG-01
  title: a configuration change is accepted
  suite: plugin-test
  ocpp_versions: ["1.6"]
  dut_role: station
  steps:
    - {kind: send, action: ChangeConfiguration, payload: {key: MeterValueSampleInterval,
       value: "5"}, expect: {status: Accepted}}
"""

STATION = """
import asyncio
import threading

from harness.clock import ScaledClock
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.runtime import SimulatedStation


def start_station(url):
    '''The "firmware under test": a simulated station in a thread of its own, real time.'''
    config = StationConfig(station_id="CP-LAB-1", ocpp_version=OcppVersion("1.6"))
    station = SimulatedStation(config, clock=ScaledClock())
    thread = threading.Thread(target=lambda: asyncio.run(station.connect(url)), daemon=True)
    thread.start()
    return thread
"""


def _project(pytester: pytest.Pytester) -> None:
    (pytester.path / "wallbox.yaml").write_text(CAPABILITIES)
    (pytester.path / "plug.yaml").write_text(CASE)
    pytester.makepyfile(station_helper=STATION)


def test_harness_csms_judges_a_station_that_connects_over_websocket(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    _project(pytester)
    pytester.makepyfile(
        """
        import pytest
        from station_helper import start_station

        @pytest.mark.ocpp_capabilities("wallbox.yaml")
        def test_lab_station(harness_csms):
            assert harness_csms.url("CP-LAB-1").startswith("ws://127.0.0.1:")
            thread = start_station(harness_csms.url("CP-LAB-1"))
            run = harness_csms.run_case("plug.yaml")
            run.assert_passed()
            assert [d.id for d in run.result("PLUG-01").info.devices] == ["CP-LAB-1"]
            thread.join(timeout=10)
            assert not thread.is_alive()   # the run closed the connection

        @pytest.mark.ocpp_capabilities("wallbox.yaml")
        def test_lab_station_refusing_a_key(harness_csms):
            start_station(harness_csms.url("CP-LAB-1"))
            harness_csms.run_case("refused.yaml").assert_passed()
        """
    )
    (pytester.path / "refused.yaml").write_text(
        CASE.replace("PLUG-01", "PLUG-02").replace("MeterValueSampleInterval", "NoSuchKey")
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["PLUG-02 on CP-LAB-1: FAIL*", "*Expected: *Accepted*", "*Actual: *NotSupported*"]
    )


def test_listen_target_sends_run_case_to_the_real_station(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    _project(pytester)
    pytester.makepyfile(
        """
        import pytest
        from station_helper import start_station

        def test_firmware(run_case, harness_csms):
            assert run_case.target == "listen"
            start_station(harness_csms.url("CP-LAB-1"))
            run = run_case("plug.yaml")
            run.assert_passed()
            assert run.result("PLUG-01").info.devices[0].id == "CP-LAB-1"

        @pytest.mark.station_fault("empty_composite")
        def test_self_check_of_the_simulator(run_case):
            run_case("plug.yaml")
        """
    )
    result = pytester.runpytest(
        *plugin_args,
        "--ocpp-target=listen:127.0.0.1:0",
        "--ocpp-capabilities",
        str(pytester.path / "wallbox.yaml"),
        "--ocpp-connect-timeout",
        "20",
        "-rs",
    )
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*ocpp-harness: target listen 127.0.0.1:0*",
            "*station_fault exercises the built-in simulator*",
        ]
    )
