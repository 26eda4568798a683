"""The objects behind the ``run_case``, ``run_suite``, ``harness_csms`` and ``sim_station``
fixtures: they read the test's markers and the session's settings, and report bad input
as a failed test with a clear message (never a traceback into the plugin)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from harness.runner.inputs import DEFAULT_VEHICLE, RunnerInputError
from harness.runner.run import PlannedCase
from harness.runner.targets import FleetVehicle
from harness.scenario import (
    Capabilities,
    Case,
    ScenarioLoadError,
    check_overrides,
    load_capabilities,
    parse_param_options,
    resolve_parameters,
)

from .library import CaseLibrary, CaseLookupError
from .outcome import OcppRun
from .runs import SUBPROTOCOL, CsmsServer, SimRequest, run_sim
from .settings import HarnessSettings, TargetKind
from .station import SimStationFactory

__all__ = ["CaseRunner", "HarnessCsms", "make_runner", "make_sim_station"]

Params = Mapping[str, object] | Sequence[str] | None


def _fail(message: str) -> NoReturn:
    __tracebackhide__ = True
    pytest.fail(message, pytrace=False)


def _marker_args(node: pytest.Item, name: str) -> tuple[Any, ...]:
    marker = node.get_closest_marker(name)
    return tuple(marker.args) if marker is not None else ()


def _marker_faults(node: pytest.Item) -> tuple[str, ...]:
    return tuple(str(a) for m in node.iter_markers("station_fault") for a in m.args)


@dataclass(frozen=True, slots=True)
class _Context:
    """What a runner needs of its test."""

    node: pytest.Item
    base: Path
    """The test file's folder (relative paths in markers and calls)."""
    out: Path
    settings: HarnessSettings
    library: CaseLibrary
    server: CsmsServer | None


class CaseRunner:
    """``run_case`` / ``run_suite``: call it to run cases and get an :class:`OcppRun`.

    Arguments (all optional, keyword-only after the cases):

    * ``*refs``: case ids (``"TC_056_CS"``), case files or folders, or the ``ocpp_case``
      fixture's :class:`~harness.scenario.Case`; for ``run_suite`` suite
      names (``"ocpp16"``) or paths. ``run_case()`` without refs runs the test's
      ``@pytest.mark.ocpp_case(...)``; ``run_suite()`` without refs the whole library.
    * ``params``: ``{"pause_s": "6h"}`` or ``["TC_066_CS:limit_a=10"]``; applied after
      ``--ocpp-param`` / ``ocpp_params`` and ``@pytest.mark.ocpp_params``.
    * ``station_fault``: fault names of the built-in station (default: the
      ``station_fault`` markers); ``capabilities``: a path or a ``Capabilities`` (default:
      the marker, then ``--ocpp-capabilities``, then, on ``sim``, the simulator's own).
    * ``ocpp``: OCPP version(s) of the simulated station (default: those the cases use);
      ``vehicle``: a vehicle archetype name or a ``FleetVehicle`` (default: a 3-phase 16 A BEV).

    A blocking call; from an ``async def`` test ``await runner.arun(...)`` does not block
    the test's loop.
    """

    def __init__(self, context: _Context, *, suites: bool = False) -> None:
        self._context = context
        self._suites = suites

    def for_suites(self) -> CaseRunner:
        """The same runner taking suite names (``run_suite``)."""
        return CaseRunner(self._context, suites=True)

    @property
    def target(self) -> TargetKind:
        """``sim`` or ``listen`` (from ``--ocpp-target``)."""
        return TargetKind.LISTEN if self._context.server is not None else TargetKind.SIM

    def __call__(
        self,
        *refs: str | Path | Case,
        params: Params = None,
        station_fault: str | Sequence[str] | None = None,
        capabilities: str | Path | Capabilities | None = None,
        ocpp: str | Sequence[str] | None = None,
        vehicle: str | FleetVehicle | None = None,
    ) -> OcppRun:
        __tracebackhide__ = True
        ctx = self._context
        cases = self._cases(refs)
        planned = self._plan(cases, params)
        caps = self._capabilities(capabilities)
        faults = (
            _marker_faults(ctx.node)
            if station_fault is None
            else ((station_fault,) if isinstance(station_fault, str) else tuple(station_fault))
        )
        ctx.out.mkdir(parents=True, exist_ok=True)
        if ctx.server is not None:
            if faults:
                # A real station under test cannot be made to misbehave: a test written to
                # show a simulator fault is not about it (documented in the README section).
                pytest.skip("station_fault exercises the built-in simulator (--ocpp-target sim)")
            if caps is None:
                _fail(
                    "--ocpp-target listen needs the station's capability declaration: "
                    "--ocpp-capabilities FILE, ocpp_capabilities in the ini file, or "
                    "@pytest.mark.ocpp_capabilities('FILE')"
                )
            run = ctx.server.run(
                planned,
                capabilities=caps,
                out=ctx.out,
                strict=ctx.settings.strict,
                connect_timeout_s=ctx.settings.connect_timeout_s,
            ).result()
        else:
            request = SimRequest(
                planned=tuple(planned),
                versions=self._versions(cases, ocpp),
                vehicle=self._vehicle(vehicle),
                faults=self._faults(faults),
                capabilities=caps,
                out=ctx.out,
                strict=ctx.settings.strict,
            )
            run = run_sim(request, self._factory())
        ctx.node.user_properties.append(("ocpp_run_dir", str(run.run_dir)))
        return run

    async def arun(self, *refs: str | Path | Case, **options: Any) -> OcppRun:
        """:meth:`__call__` on a worker thread, awaited (for ``async def`` tests)."""
        return await asyncio.to_thread(self.__call__, *refs, **options)

    # -- inputs ----------------------------------------------------------------------------

    def _cases(self, refs: tuple[str | Path | Case, ...]) -> list[Case]:
        __tracebackhide__ = True
        ctx = self._context
        try:
            if self._suites:
                if any(isinstance(r, Case) for r in refs):
                    _fail("run_suite() takes suite names or paths; run_case() takes cases")
                names = [r for r in refs if not isinstance(r, Case)]
                return ctx.library.suites(names, base=ctx.base)
            chosen = refs or _marker_args(ctx.node, "ocpp_case")
            if not chosen:
                _fail(
                    "run_case() needs a case: run_case('TC_056_CS') or "
                    "@pytest.mark.ocpp_case('TC_056_CS') on the test"
                )
            return ctx.library.cases(chosen, base=ctx.base)
        except CaseLookupError as exc:
            problem = str(exc)
        _fail(f"ocpp-harness: {problem}")  # outside the except: no chained traceback

    def _plan(self, cases: list[Case], params: Params) -> list[PlannedCase]:
        __tracebackhide__ = True
        marker = self._context.node.get_closest_marker("ocpp_params")
        options = [
            *self._context.settings.params,
            *(f"{k}={v}" for k, v in (marker.kwargs if marker else {}).items()),
            *(str(p) for p in (marker.args if marker else ())),
        ]
        if isinstance(params, Mapping):
            options += [f"{k}={v}" for k, v in params.items()]
        elif params is not None:
            options += [str(p) for p in params]
        try:
            overrides = parse_param_options(options)
            problems = check_overrides(cases, overrides)
            if problems:
                raise ScenarioLoadError(problems)
            return [PlannedCase(c, resolve_parameters(c, overrides)) for c in cases]
        except ScenarioLoadError as exc:
            problem = str(exc)
        _fail(f"ocpp-harness parameters: {problem}")

    def _capabilities(self, given: str | Path | Capabilities | None) -> Capabilities | None:
        __tracebackhide__ = True
        if isinstance(given, Capabilities):
            return given
        ctx = self._context
        path: Path | None = None
        if given is not None:
            path = ctx.base / given
        elif (marked := _marker_args(ctx.node, "ocpp_capabilities")) != ():
            path = ctx.base / str(marked[0])
        else:
            path = ctx.settings.capabilities
        if path is None:
            return None
        if not path.is_file():
            _fail(f"ocpp-harness: no capability declaration at {path}")
        try:
            return load_capabilities(path)
        except ScenarioLoadError as exc:
            problem = str(exc)
        _fail(f"ocpp-harness capabilities: {problem}")

    @staticmethod
    def _versions(cases: list[Case], ocpp: str | Sequence[str] | None) -> tuple[str, ...]:
        __tracebackhide__ = True
        if ocpp is None:
            used = sorted({str(v) for c in cases for v in c.ocpp_versions})
            return tuple(used) or ("1.6",)
        chosen = (ocpp,) if isinstance(ocpp, str) else tuple(ocpp)
        bad = [v for v in chosen if v not in SUBPROTOCOL]
        if bad or not chosen:
            _fail(f"ocpp-harness: ocpp= expects {', '.join(SUBPROTOCOL)}; got {list(chosen)}")
        return chosen

    @staticmethod
    def _vehicle(vehicle: str | FleetVehicle | None) -> FleetVehicle:
        __tracebackhide__ = True
        if isinstance(vehicle, FleetVehicle):
            return vehicle
        if vehicle is None:
            return DEFAULT_VEHICLE
        from simulators.vehicle import load_catalogue

        catalogue = load_catalogue()
        if vehicle not in catalogue.archetypes:
            known = ", ".join(sorted(catalogue.archetypes))
            _fail(f"ocpp-harness: vehicle={vehicle!r} is no archetype (known: {known})")
        return FleetVehicle(vehicle, vehicle, f"archetype {vehicle}")

    @staticmethod
    def _faults(faults: tuple[str, ...]) -> tuple[str, ...]:
        __tracebackhide__ = True
        from simulators.station import StationFault

        known = [str(f) for f in StationFault]
        unknown = [f for f in faults if f not in known]
        if unknown:
            _fail(
                f"ocpp-harness station_fault: unknown {', '.join(unknown)} "
                f"(known: {', '.join(known)})"
            )
        return faults

    @staticmethod
    def _factory() -> Any:
        __tracebackhide__ = True
        from harness.runner import simstation

        try:
            return simstation.builtin_factory()
        except RunnerInputError as exc:
            problem = str(exc)
        _fail(f"ocpp-harness: {problem}")


class HarnessCsms:
    """The harness CSMS a real station under test connects to.

    ``url(station_id)`` is where the station connects (``ws://127.0.0.1:PORT/ID``); ``host``
    and ``port`` the address; ``run_case`` / ``run_suite`` judge the connected station (they
    wait up to ``--ocpp-connect-timeout`` seconds for it to connect, and close its
    connection at the end of each run: a real station reconnects for the next one).
    """

    def __init__(self, server: CsmsServer, runner: CaseRunner) -> None:
        self._server = server
        self.run_case = runner
        self.run_suite = runner.for_suites()

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    def url(self, station_id: str = "") -> str:
        """``ws://HOST:PORT/`` plus ``station_id``."""
        return self._server.url(station_id)


def make_runner(
    request: pytest.FixtureRequest,
    settings: HarnessSettings,
    library: CaseLibrary,
    tmp_path: Path,
    *,
    server: CsmsServer | None,
) -> CaseRunner:
    """The runner of one test (run folders under ``tmp_path`` unless ``ocpp_runs_dir``)."""
    node = request.node
    assert isinstance(node, pytest.Item)
    out = settings.runs_dir or tmp_path / "ocpp-runs"
    context = _Context(node, request.path.parent, out, settings, library, server)
    return CaseRunner(context)


def make_sim_station(request: pytest.FixtureRequest) -> SimStationFactory:
    """The ``sim_station`` factory of one test (faults from its ``station_fault`` markers)."""
    node = request.node
    assert isinstance(node, pytest.Item)
    faults = CaseRunner._faults(_marker_faults(node))
    return SimStationFactory(faults=faults)
