"""ocpp-harness as a pytest plugin (entry point ``pytest11``: ``ocpp_harness``).

Installed with the package, it gives any pytest project these fixtures::

    def test_my_firmware(run_case):
        run_case("TC_056_CS").assert_passed()      # FAILs the test with the recap

* ``run_case(*ids_or_paths, params=, station_fault=, capabilities=, ocpp=, vehicle=)`` and
  ``run_suite(*suites, ...)`` run cases and return an :class:`OcppRun` (verdicts, checks
  with requirement / expected / actual, the run folder under ``tmp_path``). Both are plain
  blocking calls: they run their own event loop (virtual time for the simulator), so a
  synchronous test needs no pytest-asyncio; ``await run_case.arun(...)`` in an async test.
* ``sim_station``: the built-in station and vehicle on an in-memory transport with a harness
  CSMS endpoint (:class:`SimStationFactory`).
* ``harness_csms``: a harness CSMS listening on 127.0.0.1 (or ``--ocpp-target listen
  HOST:PORT``) for a real station; ``harness_csms.url("CP-1")`` is where it connects.

Markers: ``ocpp_case(*ids)`` (what ``run_case()`` runs when given nothing),
``ocpp_suite(*suites)`` (one test per case, with the ``ocpp_case`` fixture),
``ocpp_capabilities(path)``, ``ocpp_params(**values)``, ``station_fault(*names)``.
Options: ``--ocpp-target sim|listen:HOST:PORT``, ``--ocpp-capabilities FILE``,
``--ocpp-param [CASE:]NAME=VALUE``, ``--ocpp-scenarios PATH``, ``--ocpp-runs-dir DIR``,
``--ocpp-strict``, ``--ocpp-speed F``, ``--ocpp-connect-timeout S``; each has an ini twin
(``ocpp_target``, ``ocpp_capabilities``, ...). See "Use it from pytest" in the README.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fixtures import CaseRunner, HarnessCsms, make_runner, make_sim_station
from .library import CaseLibrary, CaseLookupError
from .outcome import OcppRun, assert_ocpp_passed, recap_text
from .runs import CsmsServer
from .settings import HarnessSettings, TargetKind, add_options, read_settings
from .station import SimLink, SimStationFactory

__all__ = [
    "CaseRunner",
    "HarnessCsms",
    "HarnessSettings",
    "OcppRun",
    "SimLink",
    "SimStationFactory",
    "assert_ocpp_passed",
    "recap_text",
]

_SETTINGS = pytest.StashKey[HarnessSettings]()

_MARKERS = (
    "ocpp_case(*ids_or_paths): the OCPP cases run_case() runs when called without arguments",
    "ocpp_capabilities(path): the DUT's capability declaration for this test (relative to "
    "the test file)",
    "ocpp_params(**values): case parameter overrides for this test, e.g. pause_s='6h'",
    "station_fault(*names): make the built-in simulated station misbehave (sim target only)",
    "ocpp_suite(*suites_or_paths): one test per case of these suites, for a test taking the "
    "ocpp_case fixture",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    config.stash[_SETTINGS] = read_settings(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per case for a test that takes ``ocpp_case`` and has ``ocpp_suite(...)``."""
    if "ocpp_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("ocpp_suite")
    if marker is None:
        return  # the ocpp_case fixture below says what is missing
    library = CaseLibrary(metafunc.config.stash[_SETTINGS].scenarios)
    try:
        cases = library.suites(list(marker.args), base=metafunc.definition.path.parent)
    except CaseLookupError as exc:
        problem = str(exc)
    else:
        metafunc.parametrize("ocpp_case", cases, ids=[c.id for c in cases])
        return
    pytest.fail(f"ocpp-harness: @pytest.mark.ocpp_suite: {problem}", pytrace=False)


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash.get(_SETTINGS, None)
    if settings is None:
        return None
    if settings.target is TargetKind.SIM:
        return "ocpp-harness: target sim (built-in station, virtual time)"
    return f"ocpp-harness: target listen {settings.host}:{settings.port}"


@pytest.fixture(scope="session")
def ocpp_settings(pytestconfig: pytest.Config) -> HarnessSettings:
    """The session's ``--ocpp-*`` options and ini values, checked."""
    return pytestconfig.stash[_SETTINGS]


@pytest.fixture(scope="session")
def ocpp_library(ocpp_settings: HarnessSettings) -> CaseLibrary:
    """The case library (plus ``ocpp_scenarios``), loaded once per session."""
    return CaseLibrary(ocpp_settings.scenarios)


@pytest.fixture(scope="session")
def ocpp_csms_server(ocpp_settings: HarnessSettings) -> Iterator[CsmsServer]:
    """The session's harness CSMS for real stations (started on first use)."""
    address = f"{ocpp_settings.host}:{ocpp_settings.port}"
    try:
        server = CsmsServer(
            host=ocpp_settings.host, port=ocpp_settings.port, speed=ocpp_settings.speed
        )
    except OSError as exc:
        problem = f"ocpp-harness: the harness CSMS cannot listen on {address}: {exc}"
    else:
        problem = ""
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def harness_csms(
    request: pytest.FixtureRequest,
    ocpp_csms_server: CsmsServer,
    ocpp_settings: HarnessSettings,
    ocpp_library: CaseLibrary,
    tmp_path: Path,
) -> HarnessCsms:
    """The harness CSMS a real station connects to (``url(station_id)``), with
    ``run_case`` / ``run_suite`` that judge the station connected there."""
    return HarnessCsms(
        ocpp_csms_server,
        make_runner(request, ocpp_settings, ocpp_library, tmp_path, server=ocpp_csms_server),
    )


@pytest.fixture
def run_case(
    request: pytest.FixtureRequest,
    ocpp_settings: HarnessSettings,
    ocpp_library: CaseLibrary,
    tmp_path: Path,
) -> CaseRunner:
    """``run_case(*ids_or_paths, ...) -> OcppRun`` on the session's target (see the module)."""
    server = (
        request.getfixturevalue("ocpp_csms_server")
        if ocpp_settings.target is TargetKind.LISTEN
        else None
    )
    return make_runner(request, ocpp_settings, ocpp_library, tmp_path, server=server)


@pytest.fixture
def run_suite(run_case: CaseRunner) -> CaseRunner:
    """``run_suite(*suites_or_paths, ...) -> OcppRun``; no argument: the whole library."""
    return run_case.for_suites()


@pytest.fixture
def ocpp_case() -> None:
    """One case of ``@pytest.mark.ocpp_suite(...)`` (the test runs once per case):
    ``run_case(ocpp_case).assert_passed()``."""
    pytest.fail(
        "the ocpp_case fixture needs @pytest.mark.ocpp_suite('SUITE_OR_PATH') on the test",
        pytrace=False,
    )


@pytest.fixture
def sim_station(request: pytest.FixtureRequest) -> SimStationFactory:
    """Connected simulated stations: ``sim_station.run(async_fn)`` or ``async with
    sim_station.open() as link`` (faults from ``@pytest.mark.station_fault``)."""
    return make_sim_station(request)
