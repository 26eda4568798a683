"""``ocpp-harness run`` and ``ocpp-harness list``.

``run`` prints one progress line per case (case id, device, verdict, clock and wall time),
then a recap of every FAIL/ERROR/INCONCLUSIVE case with Requirement / Expected / Actual, the
summary line (``N passed, N failed, N inconclusive, N skipped, N errors``) and the run
folder. Exit status (:mod:`harness.exitcodes`): 0 when every case passed (NOT_APPLICABLE and,
unless ``--strict``, NON_STRICT count as passed), 1 on a FAIL, 3 when no case failed but one
was INCONCLUSIVE, 4 on an ERROR (a harness defect), 2 for bad input (with file:line, never a
traceback).
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from harness.clock import Clock, ScaledClock
from harness.console.cli import ConsoleSettings, console_options
from harness.console.desk import TerminalChannel
from harness.console.listen import ListenConsole
from harness.discover import DiscoveryError, advertised_by, differences
from harness.exitcodes import ExitCode
from harness.results import (
    CaseResult,
    DeviceRef,
    Manifest,
    RunStore,
    new_run_id,
)
from harness.runner.endpoint import CsmsEndpoint
from harness.runner.fleet import FleetJob, default_jobs, run_fleet
from harness.runner.identity import station_device
from harness.runner.inputs import (
    DEFAULT_VEHICLE,
    RunnerInputError,
    default_fleet_file,
    is_vehicle_case,
    load_fleet,
    resolve_suites,
    sim_capabilities,
)
from harness.runner.labmeter import LabMeter, LabMeterError, LabMeterSettings
from harness.runner.operator import (
    NoOperator,
    Operator,
    TerminalOperator,
    VehiclesStayPluggedIn,
)
from harness.runner.output import InputProblem, Progress, finish_run
from harness.runner.progress import format_duration
from harness.runner.run import PlannedCase, RunOptions, run_cases
from harness.runner.selection import select_cases
from harness.runner.targets import (
    FleetVehicle,
    ListenLimits,
    ListenProvider,
    SimProvider,
    SimSpec,
)
from harness.scenario import (
    Capabilities,
    Case,
    ParameterOverrides,
    ScenarioLoadError,
    check_overrides,
    load_capabilities,
    load_cases,
    load_lab_parameters,
    parse_param_options,
    resolve_parameters,
)
from harness.security import serve_options
from harness.security.options import (
    SecurityOptionError,
    csms_profile,
    csms_security_options,
    redact_secrets_in_logs,
    secret_forms,
)
from harness.transport import DEFAULT_MAX_FRAME_BYTES, OcppSubprotocol

__all__ = ["DEFAULT_SIM_SPEED", "list_command", "run_command"]

DEFAULT_SIM_SPEED: float | None = None
"""Clock of ``--target sim`` when ``--speed`` is not given: ``None`` means *virtual time*
(:func:`harness.clock.run_virtual`): harness, station and vehicle share one event loop whose
clock jumps to the next timer whenever every task waits, so a six-hour pause costs only the
computing of the station's steps, and the verdicts do not depend on the machine's load.
``--speed F`` runs on a scaled wall clock instead (for watching a run, or for debugging a
timing question); above ~1000 a loaded machine's stalls start to show in the verdicts."""

_ADDRESS = re.compile(r"^\[?[A-Za-z0-9_.:-]*\]?:\d{1,5}$")


_TARGETS_OF: dict[str, tuple[str, ...]] = {
    "versions": ("sim",),
    "fleet": ("sim",),
    "faults": ("sim",),
    "jobs": ("sim",),
    "speed": ("sim", "listen"),
    "unattended": ("listen",),
    "lab_meter_url": ("listen",),
    "max_frame_bytes": ("listen",),
    "max_messages_per_s": ("listen",),
    "console": ("listen",),
    "console_host": ("listen",),
    "console_port": ("listen",),
    "station_id": ("listen",),
    "connect_timeout_s": ("listen",),
    "reconnect_timeout_s": ("listen",),
    "security_profile": ("listen",),
    "password_file": ("listen",),
    "cert": ("listen",),
    "key": ("listen",),
    "ca": ("listen",),
    "case_pause_s": ("connect",),
}
"""``run`` options that apply to some targets only (by parameter name); the others apply to
every target. An option given for a target it does not apply to is bad input (exit 2)."""


def _check_target_options(ctx: click.Context, kind: str) -> None:
    """Refuse an option given on the command line (or from the environment) that does not
    apply to ``--target kind``, naming the option and the targets it applies to."""
    given = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    for param in ctx.command.params:
        targets = _TARGETS_OF.get(param.name or "")
        if targets is None or kind in targets:
            continue
        if ctx.get_parameter_source(param.name or "") in given:
            option = param.opts[0] if param.opts else param.name
            raise InputProblem(
                f"{option} applies to --target {' or '.join(targets)} only "
                f"(this run is --target {kind})"
            )


def _select(selectors: Sequence[str], keyword: str | None) -> list[Case]:
    """The cases to run or list (:func:`harness.runner.selection.select_cases`); bad input
    becomes :class:`InputProblem`."""
    try:
        return select_cases(selectors, keyword=keyword)
    except (ScenarioLoadError, RunnerInputError) as exc:
        raise InputProblem(str(exc)) from None


def _split_target(target: str, suites: tuple[str, ...]) -> tuple[str, str | None, tuple[str, ...]]:
    """``--target sim`` / ``--target listen HOST:PORT`` (the address may also be attached as
    ``listen=HOST:PORT`` or ``listen:HOST:PORT``)."""
    kind, attached = target.strip(), ""
    for prefix in ("listen=", "listen:", "listen "):
        if kind.startswith(prefix):
            kind, attached = "listen", kind[len(prefix) :].strip()
    for prefix in ("connect=", "connect "):
        if kind.startswith(prefix):
            kind, attached = "connect", kind[len(prefix) :].strip()
    if kind == "sim":
        return "sim", None, suites
    if kind == "connect":
        return _connect_target(attached, suites)
    if kind != "listen":
        raise InputProblem(
            f"--target: expected sim, listen HOST:PORT or connect URL, got {target!r}"
        )
    if attached:
        return "listen", attached, suites
    rest = list(suites)
    for i, item in enumerate(rest):
        if _ADDRESS.fullmatch(item) and not Path(item).exists():
            del rest[i]
            return "listen", item, tuple(rest)
    raise InputProblem("--target listen needs an address: --target listen HOST:PORT")


def _connect_target(
    attached: str, suites: tuple[str, ...]
) -> tuple[str, str | None, tuple[str, ...]]:
    """``--target connect URL``: the URL may be attached or the next argument."""
    if attached:
        return "connect", attached, suites
    rest = list(suites)
    for i, item in enumerate(rest):
        if item.startswith(("ws://", "wss://")):
            del rest[i]
            return "connect", item, tuple(rest)
    raise InputProblem("--target connect needs the CSMS URL: --target connect ws://HOST:PORT/ID")


def _overrides(params: tuple[str, ...], params_file: Path | None) -> ParameterOverrides:
    try:
        lab = load_lab_parameters(params_file) if params_file else ParameterOverrides()
        return lab.then(parse_param_options(list(params)))
    except ScenarioLoadError as exc:
        raise InputProblem(str(exc)) from None


def _capabilities(path: Path | None, versions: tuple[str, ...]) -> Capabilities:
    if path is None:
        return sim_capabilities(versions)
    try:
        return load_capabilities(path)
    except ScenarioLoadError as exc:
        raise InputProblem(str(exc)) from None


def _dc_capabilities(caps: Capabilities) -> Capabilities:
    from harness.runner import simstation

    return simstation.dc_capabilities(caps)


def _station_factory(faults: tuple[str, ...]) -> Any:
    from harness.runner import simstation

    try:
        simstation.check_faults(faults)
        return simstation.builtin_factory()
    except RunnerInputError as exc:
        raise InputProblem(str(exc)) from None


@click.command(
    "run",
    epilog=(
        "Examples:\n\n\b\n"
        "  ocpp-harness run                                  # everything, built-in fleet\n"
        "  ocpp-harness run ocpp16 --param pause_s=6h        # one suite, one parameter\n"
        "  ocpp-harness run TC_066_CS 'TC_K_4*'              # case ids and globs\n"
        "  ocpp-harness run vehicle-programme -k 'pause and not VP-09'\n"
        "  ocpp-harness run vehicle-programme --target listen 0.0.0.0:9000 \\\n"
        "      --capabilities my-station.yaml               # a real station connects\n"
        "  ocpp-harness run csms --target connect ws://127.0.0.1:9000/CP1 \\\n"
        "      --params hooks.yaml                          # test a CSMS"
    ),
)
@click.argument("suites", nargs=-1)
@click.option(
    "-k",
    "keyword",
    metavar="EXPR",
    help="Keep the cases whose id, suite, category or title contain these words "
    "('pause and not VP-09'; and/or/not, parentheses).",
)
@click.option(
    "--target",
    default="sim",
    show_default=True,
    help="sim, listen HOST:PORT, or connect URL (the harness plays the station; a CSMS is tested).",
)
@click.option(
    "--ocpp",
    "versions",
    multiple=True,
    type=click.Choice(["1.6", "2.0.1", "2.1"]),
    help="OCPP version(s) of the simulated stations (default: what the cases use).",
)
@click.option("--fleet", type=click.Path(path_type=Path), help="sim: fleet file (vehicle models).")
@click.option(
    "--station-fault", "faults", multiple=True, help="sim: make the simulated station misbehave."
)
@click.option("--capabilities", type=click.Path(path_type=Path), help="The DUT's declaration.")
@click.option("--param", "params", multiple=True, help="[CASE_ID:]NAME=VALUE (repeatable).")
@click.option(
    "--params", "params_file", type=click.Path(path_type=Path), help="Lab parameter file."
)
@click.option(
    "--speed",
    type=float,
    default=None,
    help="Clock speed (sim default: virtual time, as fast as the CPU allows; listen: 1).",
)
@click.option(
    "--jobs",
    type=int,
    default=None,
    help="Worker processes for a sim run (default: one per CPU); the fleet's vehicles are "
    "shared among them.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
@click.option("--strict", is_flag=True, help="Count NON_STRICT (a broken SHOULD) as a failure.")
# --- listen-mode options (see _listen) ---
@click.option(
    "--unattended",
    is_flag=True,
    help="listen: nobody at the terminal. Vehicle plug-in/unplug steps are skipped (the "
    "station's vehicles stay plugged in, as `ocpp-harness simulate` does); a prompt that "
    "needs an answer makes its case INCONCLUSIVE.",
)
@click.option(
    "--lab-meter",
    "lab_meter_url",
    metavar="URL",
    help="listen: judge current and power from a lab meter publishing JSON readings on "
    "mqtt://HOST:PORT/TOPIC (see harness/runner/README.md); silent for 10 s: INCONCLUSIVE.",
)
@click.option(
    "--max-frame-bytes",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_FRAME_BYTES,
    show_default=True,
    help="listen: largest message the station may send (0: no limit); over it the "
    "connection closes with 1009 and the case is INCONCLUSIVE.",
)
@click.option(
    "--max-rate",
    "max_messages_per_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="listen: most messages per second the station may send (bursts of one second's "
    "worth; default: no limit); over it the connection closes with 1008.",
)
@console_options(default=False, only="listen: ")
@click.option(
    "--case-pause",
    "case_pause_s",
    type=click.FloatRange(min=0),
    default=0.0,
    help="connect: seconds to wait between cases, before the station connects again (a "
    "CSMS may need a moment after a station left; default 0).",
)
@click.option(
    "--station-id",
    default=None,
    help="listen: the station this run is for (default: the first that connects); other ids "
    "are refused with HTTP 404 and recorded in the run folder.",
)
@click.option(
    "--connect-timeout",
    "connect_timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=600.0,
    show_default=True,
    help="listen: seconds to wait for the station's first connection (a countdown is shown); "
    "then every case is INCONCLUSIVE.",
)
@click.option(
    "--reconnect-timeout",
    "reconnect_timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="listen: seconds to wait for the station to come back after it disconnected "
    "mid-run; then its case is INCONCLUSIVE and the run goes on.",
)
@csms_security_options
def run_command(
    suites: tuple[str, ...],
    keyword: str | None,
    target: str,
    versions: tuple[str, ...],
    fleet: Path | None,
    faults: tuple[str, ...],
    capabilities: Path | None,
    params: tuple[str, ...],
    params_file: Path | None,
    speed: float | None,
    jobs: int | None,
    out: Path,
    strict: bool,
    unattended: bool,
    lab_meter_url: str | None,
    max_frame_bytes: int,
    max_messages_per_s: float | None,
    console: bool = False,
    console_host: str = "127.0.0.1",
    console_port: int = 0,
    case_pause_s: float = 0.0,
    station_id: str | None = None,
    connect_timeout_s: float = 600.0,
    reconnect_timeout_s: float = 120.0,
    security_profile: int = 0,
    password_file: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    ca: Path | None = None,
) -> int:
    """Run cases against a DUT: SUITES are suites (as `list` shows them), case ids, globs
    over case ids ('TC_K_*'), files or folders; none: the whole library.

    Options whose help starts with "sim:", "listen:" or "connect:" apply to that target
    only (the security options to listen: the harness is the CSMS); given for another
    target, they are an error (exit 2).
    """
    kind, address, suites = _split_target(target, suites)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        _check_target_options(ctx, kind)
    cases = _select(suites, keyword)
    overrides = _overrides(params, params_file)
    problems = check_overrides(cases, overrides, known=_library_names(cases, overrides))
    if problems:
        raise InputProblem(str(ScenarioLoadError(problems)))
    planned = [PlannedCase(c, resolve_parameters(c, overrides)) for c in cases]
    if kind == "connect":
        from harness.runner.connect import run_connect

        assert address is not None
        caps_csms = _capabilities(capabilities, ()) if capabilities is not None else None
        return asyncio.run(
            run_connect(
                planned,
                url=address,
                capabilities=caps_csms,
                out=out,
                strict=strict,
                case_pause_s=case_pause_s,
            )
        )
    if kind == "listen":
        if capabilities is None:
            raise InputProblem("--target listen needs --capabilities FILE (what the DUT supports)")
        caps = _capabilities(capabilities, ())
        assert address is not None
        if speed is not None and not speed > 0:
            raise InputProblem(f"--speed must be positive, got {speed:g}")
        meter = _lab_meter_settings(lab_meter_url)
        try:
            security = csms_profile(
                security_profile=security_profile,
                password_file=password_file,
                cert=cert,
                key=key,
                ca=ca,
            )
            server_options = serve_options(security)
        except SecurityOptionError as exc:
            raise InputProblem(str(exc)) from None
        secrets = secret_forms(security)
        redact_secrets_in_logs(secrets)
        return asyncio.run(
            _listen(
                planned,
                caps,
                address,
                speed or 1.0,
                out,
                strict,
                unattended=unattended,
                lab_meter=meter,
                limits=ListenLimits(
                    max_frame_bytes=max_frame_bytes or None,
                    max_messages_per_s=max_messages_per_s,
                ),
                server_options=server_options,
                secrets=secrets,
                console=ConsoleSettings(console_host, console_port) if console else None,
                station_id=station_id,
                timing=RunOptions(
                    connect_timeout_s=connect_timeout_s, reconnect_timeout_s=reconnect_timeout_s
                ),
                declaration=_declaration(caps, capabilities),
            )
        )
    used = versions or tuple(sorted({str(v) for c in cases for v in c.ocpp_versions}))
    caps = _capabilities(capabilities, used or ("1.6",))
    try:
        vehicles = load_fleet(fleet) if fleet else _default_fleet()
    except ScenarioLoadError as exc:
        raise InputProblem(str(exc)) from None
    factory = _station_factory(faults)
    if speed is not None and not speed > 0:
        raise InputProblem(f"--speed must be positive, got {speed:g}")
    if jobs is not None and jobs < 1:
        raise InputProblem(f"--jobs must be at least 1, got {jobs}")
    return _sim(
        planned,
        caps,
        vehicles,
        used or ("1.6",),
        faults,
        factory,
        speed or DEFAULT_SIM_SPEED,
        out,
        strict,
        jobs,
        declaration=_declaration(caps, capabilities),
    )


def _library_names(cases: Sequence[Case], overrides: ParameterOverrides) -> set[str]:
    """Parameter names of the whole case library, read only when the overrides set a name
    no loaded case declares (one parameter file serves any subset of the library)."""
    loaded = {name for case in cases for name in case.parameters}
    if set(overrides.everywhere) <= loaded:
        return set()
    try:
        library = load_cases(resolve_suites(()))
    except (RunnerInputError, ScenarioLoadError):
        return set()
    return {name for case in library for name in case.parameters}


def _default_fleet() -> list[FleetVehicle]:
    try:
        path = default_fleet_file()
    except RunnerInputError:
        return [DEFAULT_VEHICLE]
    return load_fleet(path) if path is not None else [DEFAULT_VEHICLE]


def _manifest(
    clock: Clock, target: str, versions: Sequence[str], options: dict[str, Any]
) -> Manifest:
    return Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=target,
        ocpp_versions=tuple(OcppSubprotocol.of(v) for v in versions),
        options=options,
    )


def _sim(
    planned: list[PlannedCase],
    caps: Capabilities,
    vehicles: list[FleetVehicle],
    versions: tuple[str, ...],
    faults: tuple[str, ...],
    factory: Any,
    speed: float | None,
    out: Path,
    strict: bool,
    jobs: int | None,
    *,
    declaration: dict[str, Any],
) -> int:
    """A sim run: the vehicle programme's cases with every fleet vehicle, the other cases
    once per station version with the fleet's reference vehicle (its first model)."""
    reference = vehicles[0] if vehicles else DEFAULT_VEHICLE
    wall0 = time.perf_counter()
    wall = ScaledClock()  # the run's start and end in the manifest; cases use their own clocks
    fault = ",".join(faults) or None

    def fleet_job(vehicle: FleetVehicle, version: str, cases: list[PlannedCase]) -> FleetJob:
        # A DC vehicle is plugged into the built-in DC station (simstation.DC_STATION), which
        # declares dc: the AC cases are NOT_APPLICABLE there, the DC ones run.
        dc = vehicle.facts is not None and vehicle.facts.dc is True

        def make(clock: Clock) -> SimProvider:
            station_id = f"SIM-{vehicle.id}-{version}"
            spec = SimSpec(station_id, OcppSubprotocol.of(version), clock, vehicle, fault)
            return SimProvider(factory, spec, station_device_id=f"SIM-{version}")

        # A station of one version runs the cases of that version; a case of none of the
        # run's versions goes to the first station, which reports it NOT_APPLICABLE.
        fits = [
            p
            for p in cases
            if version in (own := {str(v) for v in p.case.ocpp_versions})
            or (version == versions[0] and not own & set(versions))
        ]
        return FleetJob(
            f"{vehicle.id} (OCPP {version})",
            make,
            OcppSubprotocol.of(version),
            fits,
            capabilities=_dc_capabilities(caps) if dc else None,
        )

    # The vehicle programme judges vehicles: its cases run with every fleet model. Every other
    # suite judges the station: once per station version, with the reference vehicle.
    per_vehicle = [p for p in planned if is_vehicle_case(p.case)]
    per_station = [p for p in planned if not is_vehicle_case(p.case)]
    fleet = [
        job
        for vehicle in (vehicles if per_vehicle else [])
        for version in versions
        if (job := fleet_job(vehicle, version, per_vehicle)).planned
    ]
    # A station case runs with the first fleet vehicle that has what it needs of a vehicle
    # (a V2X case: a bidirectional one), else with the reference vehicle (NOT_APPLICABLE).
    by_vehicle: dict[str, tuple[FleetVehicle, list[PlannedCase]]] = {}
    for item in per_station:
        vehicle = next(
            (v for v in vehicles if all(n.unmet(v.facts) is None for n in item.case.vehicle_needs)),
            reference,
        )
        by_vehicle.setdefault(vehicle.id, (vehicle, []))[1].append(item)
    fleet[:0] = [
        job
        for vehicle, cases in by_vehicle.values()
        for version in versions
        if (job := fleet_job(vehicle, version, cases)).planned
    ]
    workers = default_jobs(jobs, len(fleet))
    speed_label = "virtual time" if speed is None else f"speed {speed:g}"
    options = {
        "speed": speed or "virtual",
        "faults": list(faults),
        "strict": strict,
        "jobs": workers,
        "capabilities": declaration,
    }
    devices = {(d.kind, d.id): d for job in fleet for d in job.make_provider(wall).devices}
    manifest = replace(_manifest(wall, "sim", versions, options), devices=tuple(devices.values()))
    with RunStore.create(out, manifest) as writer:
        click.echo(
            f"Run {manifest.run_id}: {len(per_station)} station case(s) with "
            f"{', '.join(by_vehicle) or '-'}, {len(per_vehicle)} vehicle case(s) × "
            f"{len(vehicles)} vehicle(s); "
            f"OCPP {', '.join(versions)} on the built-in station ({speed_label}, "
            f"{workers} worker{'s' if workers > 1 else ''})"
        )
        results = run_fleet(
            fleet,
            writer=writer,
            manifest=manifest,
            capabilities=caps,
            speed=speed,
            jobs=workers,
            on_result=Progress(sum(len(job.planned) for job in fleet), strict=strict),
        )
        writer.finish(finished_at=wall.now())
    return finish_run(results, writer.run_dir, strict=strict, wall_s=time.perf_counter() - wall0)


async def _listen(
    planned: list[PlannedCase],
    caps: Capabilities,
    address: str,
    speed: float,
    out: Path,
    strict: bool,
    *,
    unattended: bool = False,
    lab_meter: LabMeterSettings | None = None,
    limits: ListenLimits | None = None,
    server_options: dict[str, Any] | None = None,
    secrets: tuple[str, ...] = (),
    console: ConsoleSettings | None = None,
    station_id: str | None = None,
    timing: RunOptions | None = None,
    declaration: dict[str, Any] | None = None,
) -> int:
    wall0 = time.perf_counter()
    timing = timing or RunOptions(connect_timeout_s=600.0, reconnect_timeout_s=120.0)
    host, _, port_text = address.rpartition(":")
    clock = ScaledClock(speed=speed)
    meter = None if lab_meter is None else LabMeter(lab_meter, clock=clock)
    if meter is not None:
        try:
            await meter.start()
        except LabMeterError as exc:
            raise InputProblem(str(exc)) from None
        click.echo(f"Listening to the {meter.label}")
    provider = ListenProvider(
        host=host.strip("[]") or "127.0.0.1",
        port=int(port_text),
        clock=clock,
        control=VehiclesStayPluggedIn() if unattended else None,
        limits=limits,
        server_options=server_options,
        station_id=station_id,
        on_waiting=_connect_countdown,
    )
    try:
        await provider.start()
    except OSError as exc:  # the port is taken, or the address is not this machine's
        if meter is not None:
            await meter.aclose()
        raise InputProblem(
            f"--target listen {address}: cannot listen there: {exc.strerror or exc}"
        ) from None
    click.echo(
        f"Waiting for a station at {provider.target.removeprefix('listen ')}/<station-id> ..."
    )
    operator: Operator = (
        NoOperator() if unattended else TerminalOperator(stdin=sys.stdin, stdout=sys.stdout)
    )
    versions = [str(v) for v in caps.ocpp_versions]
    options: dict[str, Any] = {"strict": strict, "speed": speed, "unattended": unattended}
    options["max_frame_bytes"] = provider.limits.max_frame_bytes
    options["max_messages_per_s"] = provider.limits.max_messages_per_s
    options["station_id"] = station_id
    options["connect_timeout_s"] = timing.connect_timeout_s
    options["reconnect_timeout_s"] = timing.reconnect_timeout_s
    if meter is not None:
        options["lab_meter"] = meter.label
    if declaration is not None:
        options["capabilities"] = declaration
    manifest = _manifest(clock, provider.target, versions, options)
    folder: list[Path] = []
    live: ListenConsole | None = None
    identified: dict[str, DeviceRef] = {}
    checked: dict[str, Any] = {}

    async def connected(endpoint: CsmsEndpoint) -> None:
        """The station's BootNotification identity, for the results and run.json; on its
        first connection, its declaration checked against what it advertises."""
        device = station_device(endpoint.station_id, endpoint.observations.boot)
        first = not identified
        identified[device.id] = device
        provider.devices = (device,)
        click.echo(f"Station {device.id}: {device.label} {_identity_text(device)}".rstrip())
        if first:
            checked.update(await _cross_check(endpoint, caps))

    try:
        if console is not None:
            terminal = None if unattended else TerminalChannel(stdin=sys.stdin, stdout=sys.stdout)
            live = await ListenConsole.start(
                console,
                clock=clock,
                planned=[p.case.id for p in planned],
                run_dir=lambda: folder[0] if folder else None,
                terminal=terminal,
                echo=click.echo,
                secrets=secrets,
            )
            if not unattended:  # unattended: nobody answers, not even in the browser
                operator = live.operator

        progress = Progress(len(planned), strict=strict)

        def judged(result: CaseResult) -> None:
            if live is not None:
                live.judged(result)
            progress(result)

        async def on_connected(endpoint: CsmsEndpoint) -> None:
            if live is not None:
                live.connected(endpoint)
            await connected(endpoint)

        with RunStore.create(out, manifest, secrets=secrets) as writer:
            folder.append(writer.run_dir)
            results = await run_cases(
                planned,
                provider=provider,
                writer=writer,
                clock=clock,
                operator=operator,
                capabilities=caps,
                options=timing,
                on_result=judged,
                lab_meter=meter,
                secrets=secrets,
                on_connected=on_connected,
                wait_progress=None if live is None else live.waiting,
                on_step=None if live is None else live.step,
            )
            writer.finish(
                finished_at=clock.now(),
                devices=tuple(identified.values()) or provider.devices,
                options={**options, "declaration_check": checked} if checked else None,
            )
    finally:
        if live is not None:
            await live.close()
        if meter is not None:
            await meter.aclose()
    return finish_run(results, writer.run_dir, strict=strict, wall_s=time.perf_counter() - wall0)


def _connect_countdown(remaining_s: float, total_s: float) -> None:
    """The visible countdown while ``listen`` waits for the station to (re)connect."""
    click.echo(
        f"  waiting for the station: {format_duration(remaining_s)} left "
        f"of {format_duration(total_s)}"
    )


CROSS_CHECK_TIMEOUT_S = 30.0
"""How long a listen run waits for the station's answer when reading what it advertises."""


async def _cross_check(endpoint: CsmsEndpoint, caps: Capabilities) -> dict[str, Any]:
    """Warn about every field where the declaration disagrees with what the station
    advertises (:func:`harness.discover.differences`); a station that does not answer
    costs a warning, never the run. Returns what ``run.json`` keeps of it
    (``options.declaration_check``, see ``harness/results/FORMAT.md``)."""
    try:
        found = await advertised_by(
            endpoint.connection,
            endpoint.version,
            endpoint.station_id,
            endpoint.observations.boot,
            timeout_s=CROSS_CHECK_TIMEOUT_S,
        )
    except DiscoveryError as exc:
        click.echo(f"warning: could not read what the station advertises: {exc}", err=True)
        return {"status": "unread", "station": endpoint.station_id, "error": str(exc)}
    problems = differences(found, caps.model_dump(mode="json"))
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if not problems:
        click.echo("The declaration agrees with what the station advertises.")
    return {
        "status": "differs" if problems else "agrees",
        "station": endpoint.station_id,
        "differences": problems,
    }


def _identity_text(device: DeviceRef) -> str:
    """``(firmware 3.1.4, serial X)`` from a station's identity attributes ('' if none)."""
    parts = [
        f"{k} {device.attributes[k]}" for k in ("firmware", "serial") if k in device.attributes
    ]
    return f"({', '.join(parts)})" if parts else ""


def _declaration(caps: Capabilities, path: Path | None) -> dict[str, Any]:
    """The capability declaration a run used, for ``run.json`` (``options.capabilities``):
    its file (``None``: the built-in simulator's), name and every field."""
    return {
        "file": None if path is None else str(path),
        "name": caps.name,
        "declared": caps.model_dump(mode="json", exclude_none=True),
    }


def _lab_meter_settings(url: str | None) -> LabMeterSettings | None:
    """``--lab-meter URL`` parsed (bad input: exit 2 naming the option)."""
    if url is None:
        return None
    try:
        return LabMeterSettings.from_url(url)
    except LabMeterError as exc:
        raise InputProblem(str(exc)) from None


def _coverage(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``list --coverage``: print :mod:`harness.runner.coverage`'s table and exit (2 when the
    catalogue and the case files disagree)."""
    if not value or ctx.resilient_parsing:
        return
    from harness.runner.coverage import library_coverage, render_coverage
    from harness.runner.inputs import scenarios_root

    try:
        coverage = library_coverage(scenarios_root())
    except (RunnerInputError, ScenarioLoadError) as exc:
        raise InputProblem(str(exc)) from None
    click.echo("\n".join(render_coverage(coverage)))
    ctx.exit(ExitCode.BAD_INPUT if coverage.problems else ExitCode.OK)


@click.command("list")
@click.option(
    "--coverage",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_coverage,
    help="The whole library against the official catalogue (scenarios/catalogue/): a line "
    "per official case and counts per block.",
)
@click.argument("suites", nargs=-1)
@click.option("-k", "keyword", metavar="EXPR", help="As for `run`: keep cases matching EXPR.")
def list_command(suites: tuple[str, ...], keyword: str | None) -> int:
    """List cases: id, OCPP versions, title, source (document and table, or "ours"),
    requirement ids. SUITES select as for `run` (suites, case ids, globs, files, folders); the
    suite names shown are accepted by `run`."""
    cases = _select(suites, keyword)
    for case in sorted(cases, key=lambda c: (c.suite, c.id)):
        versions = ",".join(str(v) for v in case.ocpp_versions)
        requirements = ", ".join(f"{r.id} ({r.level.value})" for r in case.requirements) or "-"
        click.echo(f"{case.id:<16} {versions:<12} {case.title}")
        click.echo(f"{'':<16} {case.suite:<12} requirements: {requirements}")
        click.echo(f"{'':<16} {'':<12} source: {case.source}")
    click.echo(f"{len(cases)} case(s)")
    return 0
