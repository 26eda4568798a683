"""``ocpp-harness simulate``: simulated stations with vehicles against any CSMS.

Each station connects to ``{--csms}/{--id-prefix}{n}`` (n = 1 … ``--stations``), boots, and
— with ``--auto-start`` (the default) — plugs a vehicle into every EVSE and presents an id
token (Authorize, then a local start). With ``--no-auto-start`` the vehicles are plugged in
and the stations wait for the CSMS's RemoteStartTransaction / RequestStartTransaction.

With ``--pilot-mqtt URL`` the vehicles are not simulated in this process: each EVSE drives
the vehicle on the MQTT pilot link ``{--pilot-prefix}/{station id}/{evse id}`` (run one
``ocpp-harness vehicle --mqtt URL --station ID --evse N`` per EVSE, at the same ``--speed``);
``--vehicle`` then names the archetype the stations assume for those vehicles (the link does
not carry the vehicle's parameters). See ``simulators/PILOT_LINK.md``.

Each station sets its clock from the ``currentTime`` of the CSMS's BootNotification response
(plus half the round trip), as a real station does. With ``--speed F`` against ``ocpp-harness
run --target listen ... --speed F`` (another process, its own accelerated clock) both sides
then agree on the time of day; start the run first. Against a CSMS whose clock runs at
another speed (a real CSMS: ``--csms-speed 1``), the timestamps are translated to its clock
(:mod:`simulators.station.csms_time`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from harness.clock import AdjustableClock, Clock, ScaledClock
from harness.identities import DEFAULT_TOKEN_PATTERN, expand, run_tag, token_problem
from harness.security import SecurityProfile, connect_options, tls_refusal
from harness.security.options import (
    SecurityOptionError,
    redact_secrets_in_logs,
    secret_forms,
    station_profile,
    station_security_options,
)
from harness.transport import HandshakeRefused, TransportError, connect_ocpp
from harness.versions import OcppVersion
from simulators.fleet.cli import DEFAULT_MAX_ERROR_RATE
from simulators.pilot import DEFAULT_PREFIX, LinkError, MqttSettings
from simulators.station.config import StationConfig
from simulators.station.csms_time import CsmsTimeTransport
from simulators.station.faults import StationFault
from simulators.station.pilot_vehicle import MqttPilotVehicles
from simulators.station.runtime import SimulatedStation, subprotocol_for
from simulators.station.wakeup import WakeUpMethod
from simulators.vehicle import CatalogueError, VehicleParams, load_catalogue

__all__ = ["simulate_command"]

DEFAULT_ARCHETYPE = "bev_3ph_16a"
SUMMARY_EVERY_S = 5.0  # wall seconds between summary lines
CONNECT_ATTEMPTS = 3
WIND_DOWN_WALL_S = 10.0  # wall seconds the CSMS has to answer the closing transactions


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    csms: str
    version: OcppVersion
    stations: int
    evses: int
    params: VehicleParams
    faults: frozenset[StationFault]
    wake_up: tuple[WakeUpMethod, ...] = ()
    speed: float
    csms_speed: float
    """The CSMS's clock speed; timestamps are translated when it differs from ``speed``."""
    prefix: str
    seed: int
    duration_s: float | None
    auto_start: bool
    id_token: str
    """A pattern (:mod:`harness.identities`), expanded per station and EVSE."""
    run: str
    report_soc: bool
    meter_interval_s: int
    stagger_s: float
    pilot: MqttSettings | None
    security: dict[str, SecurityProfile]
    """Station id → its security profile (profile 0 for all without security options)."""


EXAMPLE = """Examples:

\b
  ocpp-harness simulate --csms ws://127.0.0.1:9000/ocpp --ocpp 2.0.1 --stations 10
  ocpp-harness simulate --csms ws://127.0.0.1:9000/ocpp --vehicle bev_bidirectional \\
      --ocpp 2.1 --fault late_apply --speed 60 --duration 21600

\b
  # security profile 3: TLS with a client certificate per station (ocpp-harness certs)
  ocpp-harness simulate --csms wss://localhost:9000/ocpp --stations 2 \\
      --security-profile 3 --ca lab-certs/ca.pem \\
      --cert 'lab-certs/{id}.pem' --key 'lab-certs/{id}.key'

\b
  # the vehicle in another process, over an MQTT pilot link (same --speed on both):
  ocpp-harness vehicle --mqtt mqtt://127.0.0.1:1883 --station SIM-1 --evse 1 \\
      --archetype bev_3ph_16a --speed 60 &
  ocpp-harness simulate --csms ws://127.0.0.1:9000/ocpp --speed 60 \\
      --pilot-mqtt mqtt://127.0.0.1:1883
"""


@click.command("simulate", epilog=EXAMPLE)
@click.option("--csms", required=True, help="CSMS WebSocket URL; the station id is appended.")
@click.option(
    "--ocpp",
    "version",
    type=click.Choice([str(v) for v in OcppVersion]),
    default=str(OcppVersion.V16),
    show_default=True,
    help="OCPP version the stations speak.",
)
@click.option("--stations", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--evses",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="EVSEs per station (one connector each).",
)
@click.option(
    "--vehicle",
    "archetype",
    default=DEFAULT_ARCHETYPE,
    show_default=True,
    help="Vehicle archetype from the catalogue plugged into every EVSE (with --pilot-mqtt: "
    "what the stations assume about the remote vehicles; give the vehicle processes the same).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    type=click.Choice([str(f) for f in StationFault]),
    help="Station fault to switch on (repeatable).",
)
@click.option(
    "--wake-up",
    "wake_up",
    multiple=True,
    type=click.Choice([str(m) for m in WakeUpMethod if m is not WakeUpMethod.NONE]),
    help="How the stations wake a vehicle that does not draw although current is offered "
    "(repeatable, tried in order after 90 s each; none given: they never try).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Clock speed: 60 runs an hour in a minute.",
)
@click.option(
    "--csms-speed",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Speed of the CSMS's clock (default: --speed, e.g. `ocpp-harness run --target "
    "listen --speed F`). Give 1 for a CSMS in real time with --speed above 1: the stations' "
    "timestamps are then translated to its clock (durations are not; see "
    "simulators/station/csms_time.py).",
)
@click.option("--id-prefix", "prefix", default="SIM-", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of all randomness.")
@click.option(
    "--duration",
    "duration_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop after this many clock seconds (default: Ctrl-C).",
)
@click.option(
    "--auto-start/--no-auto-start",
    default=True,
    show_default=True,
    help="Start charging at once (local authorization) or wait for a remote start.",
)
@click.option(
    "--id-token",
    default=DEFAULT_TOKEN_PATTERN,
    show_default=True,
    help="The idToken (ISO14443) the drivers present: a pattern with the fields {station} "
    "(the station's number), {station_id}, {evse}, {case} (0) and {run} (see "
    "harness/identities.py), so each station and EVSE has its own; or a fixed token.",
)
@click.option(
    "--report-soc/--no-report-soc",
    default=False,
    show_default=True,
    help="Meter values include the vehicle's SoC (as with ISO 15118).",
)
@click.option(
    "--meter-interval",
    "meter_interval_s",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Sampled meter interval (clock seconds, 0: off).",
)
@click.option(
    "--stagger",
    "stagger_s",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="Wall seconds between two stations' start-up.",
)
@click.option(
    "--pilot-mqtt",
    "pilot_url",
    default=None,
    metavar="URL",
    help="MQTT broker (mqtt://host:port or mqtts://…): each EVSE drives a vehicle running "
    "elsewhere (e.g. `ocpp-harness vehicle`) over the pilot link on topics "
    "PREFIX/STATION_ID/EVSE_ID/… instead of an in-process vehicle.",
)
@click.option(
    "--pilot-prefix",
    default=DEFAULT_PREFIX,
    show_default=True,
    help="Topic prefix of the MQTT pilot links (with --pilot-mqtt).",
)
@click.option(
    "--fleet",
    is_flag=True,
    default=False,
    help="Fleet mode for load tests: compact OCPP 1.6 stations (daily arrivals, back-off "
    "reconnect, live summary with messages/s and latency), thousands per process.",
)
@click.option(
    "--ray",
    "ray_address",
    default=None,
    metavar="ADDRESS",
    help="Fleet mode sharded over a Ray cluster (ADDRESS, 'auto' or 'local'); needs "
    "pip install 'ocpp-harness[ray]'.",
)
@click.option("--ray-actors", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Fleet mode: worker processes on this machine (0: up to 1000 stations in this "
    "process, else one per core, more where the open-file limit asks for it).",
)
@click.option(
    "--max-connecting",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Fleet mode: opening handshakes (with their boot) in flight per worker process; "
    "the fleet's stations start at once unless --stagger is given.",
)
@click.option(
    "--listener",
    "listeners",
    multiple=True,
    metavar="URL",
    help="Fleet mode: a further URL of the CSMS (repeatable); stations are spread over "
    "--csms and these, e.g. to get past the ~28 000 ports one loopback address offers.",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(min=0),
    default=DEFAULT_MAX_ERROR_RATE,
    show_default=True,
    help="Fleet mode: errors per CALL above which the run fails (exit 1).",
)
@station_security_options
def simulate_command(
    *,
    csms: str,
    version: str,
    stations: int,
    evses: int,
    archetype: str,
    faults: tuple[str, ...],
    wake_up: tuple[str, ...],
    speed: float,
    csms_speed: float | None,
    prefix: str,
    seed: int,
    duration_s: float | None,
    auto_start: bool,
    id_token: str,
    report_soc: bool,
    meter_interval_s: int,
    stagger_s: float,
    pilot_url: str | None,
    pilot_prefix: str,
    security_profile: int,
    password: str | None,
    password_file: Path | None,
    cert: str | None,
    key: str | None,
    ca: Path | None,
    fleet: bool,
    ray_address: str | None,
    ray_actors: int,
    workers: int,
    max_connecting: int,
    listeners: tuple[str, ...],
    max_error_rate: float,
) -> int:
    """Run simulated charging stations with vehicles against a CSMS.

    Exit status: 0 when at least one station connected, 1 when none could (fleet mode: 1
    when a station never booted, the CSMS accepted no start, or the error rate is above
    ``--max-error-rate``). At the end (duration or Ctrl-C) the stations end their
    transactions (the vehicles are unplugged) before they close.
    """
    if not csms.startswith(("ws://", "wss://")):
        raise click.BadParameter(
            f"expected a ws:// or wss:// URL, got {csms!r}", param_hint="--csms"
        )
    try:  # the first station's token tells whether the pattern makes valid tokens
        token = expand(
            id_token, station=1, station_id=f"{prefix}1", evse=1, run=run_tag(datetime.now(UTC))
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--id-token") from None
    # 2.x presents it as ISO14443 (a card UID); a 1.6 idTag has no type, only a length limit
    kind = "Central" if version == str(OcppVersion.V16) else "ISO14443"
    problem = token_problem(token, kind, version=version)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--id-token")
    if (fleet or ray_address is not None) and csms_speed is not None:
        raise click.BadParameter(
            "fleet mode keeps its own time of day; --csms-speed applies to the full stations",
            param_hint="--csms-speed",
        )
    for url in listeners:
        if not url.startswith(("ws://", "wss://")):
            raise click.BadParameter(
                f"expected a ws:// or wss:// URL, got {url!r}", param_hint="--listener"
            )
    if fleet or ray_address is not None:
        return _fleet(
            csms,
            version,
            stations,
            prefix,
            seed,
            speed,
            duration_s,
            stagger_s,
            ray_address,
            ray_actors,
            id_token,
            max_error_rate,
            _FleetProcesses(workers=workers, max_connecting=max_connecting, listeners=listeners),
        )
    if listeners:
        raise click.BadParameter(
            "only fleet mode spreads stations over listeners", param_hint="--listener"
        )
    try:
        params = load_catalogue().get(archetype).vehicle_params()
    except CatalogueError as exc:
        raise click.BadParameter(str(exc), param_hint="--vehicle") from None
    pilot: MqttSettings | None = None
    if pilot_url is not None:
        try:
            pilot = MqttSettings.from_url(pilot_url, prefix=pilot_prefix)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--pilot-mqtt/--pilot-prefix") from None
    security: dict[str, SecurityProfile] = {}
    try:
        for n in range(1, stations + 1):
            sid = f"{prefix}{n}"
            security[sid] = station_profile(
                sid,
                security_profile=security_profile,
                password=password,
                password_file=password_file,
                cert=cert,
                key=key,
                ca=ca,
            )
    except SecurityOptionError as exc:
        raise click.BadParameter(str(exc), param_hint="security options") from None
    scheme = next(iter(security.values())).scheme
    if not csms.startswith(f"{scheme}://"):
        raise click.BadParameter(
            f"security profile {security_profile} connects to a {scheme}:// URL, got {csms!r}",
            param_hint="--csms",
        )
    redact_secrets_in_logs(tuple(s for p in security.values() for s in secret_forms(p)))
    plan = _Plan(
        csms=csms.rstrip("/"),
        version=OcppVersion(version),
        stations=stations,
        evses=evses,
        params=params,
        faults=frozenset(StationFault(f) for f in faults),
        wake_up=tuple(WakeUpMethod(m) for m in wake_up),
        speed=speed,
        csms_speed=speed if csms_speed is None else csms_speed,
        prefix=prefix,
        seed=seed,
        duration_s=duration_s,
        auto_start=auto_start,
        id_token=id_token,
        run=run_tag(datetime.now(UTC)),
        report_soc=report_soc,
        meter_interval_s=meter_interval_s,
        stagger_s=stagger_s,
        pilot=pilot,
        security=security,
    )
    if speed > 1 and csms_speed is None:
        _line(
            f"warning: at --speed {speed:g} the stations' timestamps advance {speed:g} times "
            "faster than the CSMS's time at boot; against a CSMS running in real time give "
            "--csms-speed 1 (see harness/runner/station_role/README.md)"
        )
    return asyncio.run(_run(plan))


async def _run(plan: _Plan) -> int:
    clock = ScaledClock(speed=plan.speed)
    remote = (
        None
        if plan.pilot is None
        else MqttPilotVehicles(plan.pilot, params=plan.params, clock=clock)
    )
    stations = [
        SimulatedStation(
            StationConfig(
                station_id=f"{plan.prefix}{n}",
                serial_number=f"{plan.prefix}{n}",
                ocpp_version=plan.version,
                evse_count=plan.evses,
                meter_interval_s=plan.meter_interval_s,
                reports_soc=plan.report_soc,
                faults=plan.faults,
                wake_up=plan.wake_up,
            ),
            # Each station sets its own clock from the CSMS's BootNotification response,
            # as a real station does: at --speed F the CSMS (e.g. `ocpp-harness run
            # --target listen`, another process) and the stations then agree on the time.
            clock=AdjustableClock(clock),
            vehicle_params=plan.params,
            seed=plan.seed,
            vehicle_link_factory=None if remote is None else remote.factory(f"{plan.prefix}{n}"),
        )
        for n in range(1, plan.stations + 1)
    ]
    stop = asyncio.Event()
    close_code = 1000
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        nonlocal close_code
        close_code = 1001  # going away
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, interrupted)
    ever_connected: set[str] = set()
    starters: list[asyncio.Task[None]] = []
    tasks = [
        asyncio.create_task(_drive(s, plan, clock, i * plan.stagger_s, ever_connected, starters))
        for i, s in enumerate(stations)
    ]
    summary = asyncio.create_task(_summaries(stations, clock))
    timer = asyncio.create_task(_after(clock, plan.duration_s, stop))
    all_done = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    stopped = asyncio.ensure_future(stop.wait())
    waiting: set[asyncio.Future[Any]] = {all_done, stopped}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        # No transaction may start after the wind-down looked for the running ones (a start
        # still waiting for its Authorize answer would charge on, never ended).
        for starter in starters:
            starter.cancel()
        await asyncio.gather(*starters, return_exceptions=True)
        ended = await _end_transactions(stations, timeout_wall_s=WIND_DOWN_WALL_S)
        _line(f"ended {ended} transaction(s) before closing")
    for station in stations:
        await station.stop(code=close_code)
    await all_done
    for task in (summary, timer, stopped):
        task.cancel()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)
    if remote is not None:
        await remote.aclose()
        _line(f"pilot links: {len(remote.links)} vehicles, {remote.send_failures} failed sends")
    _line(_summary(stations, clock, final=True))
    if not ever_connected:
        _line(f"no station could connect to {plan.csms}")
        return 1
    return 0


async def _end_transactions(stations: list[SimulatedStation], *, timeout_wall_s: float) -> int:
    """Unplug every vehicle that charges in a transaction (StopTransaction / TransactionEvent
    Ended, reason EVDisconnected; the connector Available) and wait, at most
    ``timeout_wall_s``, until the CSMS answered; how many transactions were ended."""
    ended = 0

    async def one(station: SimulatedStation) -> None:
        nonlocal ended
        if station.connection is None:
            return
        busy = [e for e in station.core.evse_ids if station.core.transaction(e) is not None]
        for evse_id in busy:
            await station.unplug(evse_id)
            ended += 1
        if busy:  # sent after the queued stops: answered once they were
            await station.call("Heartbeat", {})

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(one(s) for s in stations)), timeout_wall_s)
    return ended


async def _after(clock: Clock, duration_s: float | None, stop: asyncio.Event) -> None:
    if duration_s is not None:
        await clock.sleep(duration_s)
        stop.set()


async def _drive(
    station: SimulatedStation,
    plan: _Plan,
    clock: Clock,
    delay_s: float,
    connected: set[str],
    starters: list[asyncio.Task[None]],
) -> None:
    """Connect (a few attempts), plug in, start; run until stopped or closed by the CSMS.
    The task that plugs in and starts is added to ``starters`` (cancelled at the wind-down)."""
    await asyncio.sleep(delay_s)
    sid = station.config.station_id
    url = f"{plan.csms}/{sid}"
    number = int(sid[len(plan.prefix) :])
    starter = asyncio.create_task(_start_charging(station, plan, number))
    starters.append(starter)
    options = connect_options(plan.security[sid])
    try:
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                await _connect(station, url, plan, options)
            except (TransportError, OSError, ValueError) as exc:
                _line(f"{sid}: cannot connect to {url} (attempt {attempt}): {_why(exc)}")
                await asyncio.sleep(0.5)
                continue
            return
    finally:
        if station.stats.booted or station.connection is not None:
            connected.add(sid)
        starter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starter


async def _connect(
    station: SimulatedStation, url: str, plan: _Plan, options: dict[str, Any]
) -> None:
    """Connect and run ``station``; with a CSMS clock at another speed, through
    :class:`~simulators.station.csms_time.CsmsTimeTransport`."""
    if plan.csms_speed == plan.speed:
        await station.connect(url, **options)
        return
    transport = await connect_ocpp(
        url, subprotocols=(subprotocol_for(station.config.ocpp_version),), **options
    )
    await station.run(
        CsmsTimeTransport(
            transport, station_clock=station.clock, csms_clock=ScaledClock(speed=plan.csms_speed)
        )
    )


def _why(exc: BaseException) -> str:
    """Why a connection failed, with the TLS and HTTP refusals spelt out."""
    reason = tls_refusal(exc)
    if reason is not None:
        return f"TLS refused: {reason}"
    if isinstance(exc, HandshakeRefused):
        return f"refused by the CSMS: {exc}"
    return str(exc)


async def _start_charging(station: SimulatedStation, plan: _Plan, station_number: int) -> None:
    await station.wait_booted()
    for evse_id in station.core.evse_ids:
        try:
            await station.plug_in(evse_id)
        except LinkError as exc:  # --pilot-mqtt: the broker cannot be reached
            _line(f"{station.config.station_id}: EVSE {evse_id}: pilot link: {exc}")
            continue
        if plan.auto_start:
            token = expand(
                plan.id_token,
                station=station_number,
                station_id=station.config.station_id,
                evse=evse_id,
                run=plan.run,
            )
            await station.present_token(evse_id, token)


async def _summaries(stations: list[SimulatedStation], clock: Clock) -> None:
    while True:
        await asyncio.sleep(SUMMARY_EVERY_S)
        _line(_summary(stations, clock, final=False))


def _summary(stations: list[SimulatedStation], clock: Clock, *, final: bool) -> str:
    elapsed = int(clock.monotonic())
    hours, rest = divmod(elapsed, 3600)
    stamp = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    connected = sum(s.stats.connected for s in stations)
    booted = sum(s.stats.booted for s in stations)
    charging = sum(s.charging for s in stations)
    sent = sum(s.stats.sent for s in stations)
    received = sum(s.stats.received for s in stations)
    errors = sum(s.stats.errors for s in stations)
    head = "done" if final else f"t+{stamp}"
    return (
        f"{head}: {len(stations)} stations, {connected} connected, {booted} booted, "
        f"{charging} charging; messages sent {sent}, received {received}; errors {errors}"
    )


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fleet_stagger_s(stagger_s: float) -> float:
    """The fleet's stagger: 0 unless --stagger was given (its default suits a few full
    stations; a fleet paces its handshakes with --max-connecting instead)."""
    source = click.get_current_context().get_parameter_source("stagger_s")
    return stagger_s if source is click.core.ParameterSource.COMMANDLINE else 0.0


@dataclass(frozen=True, slots=True)
class _FleetProcesses:
    """How a fleet uses this machine (``workers`` 0: chosen by the fleet)."""

    workers: int
    max_connecting: int
    listeners: tuple[str, ...]


def _fleet(
    csms: str,
    version: str,
    stations: int,
    prefix: str,
    seed: int,
    speed: float,
    duration_s: float | None,
    stagger_s: float,
    ray_address: str | None,
    ray_actors: int,
    id_token: str,
    max_error_rate: float,
    local: _FleetProcesses,
) -> int:
    from simulators.fleet.cli import run_fleet_command
    from simulators.fleet.engine import FleetPlan
    from simulators.fleet.ray_fleet import RayUnavailableError

    if version != str(OcppVersion.V16):
        raise click.BadParameter("fleet mode speaks OCPP 1.6 only", param_hint="--ocpp")
    plan = FleetPlan(
        csms_url=csms,
        stations=stations,
        id_prefix=prefix,
        seed=seed,
        stagger_wall_s=_fleet_stagger_s(stagger_s),
        id_tag_pattern=id_token,
        listeners=local.listeners,
        max_connecting=local.max_connecting,
    )
    try:
        return run_fleet_command(
            plan,
            speed=speed,
            duration_s=duration_s,
            ray_address=ray_address,
            ray_actors=ray_actors,
            max_error_rate=max_error_rate,
            workers=local.workers or None,
        )
    except RayUnavailableError as exc:
        raise click.UsageError(str(exc)) from None
