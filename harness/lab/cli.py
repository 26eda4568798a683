"""``ocpp-harness serve``: the lab CSMS for real stations (several at once).

Prints the status table (station, connected, OCPP version, vendor, model, firmware, state,
cases done and verdicts, current case) whenever something changes, one line per verdict,
a countdown during long ``wait`` steps, and per station its run folder and report. Operator
prompts go to the terminal (one at a time, naming the station) and the console or, with
``--operator-mqtt URL``, also to ``PREFIX/prompt/STATION`` with answers on
``PREFIX/ack/STATION`` (payloads in :mod:`harness.lab.operators`). With ``--unattended``
nobody answers: vehicles stay plugged in, each prompt is printed and recorded unanswered and
its case is INCONCLUSIVE; the console still shows the runs.

Exit status (:mod:`harness.exitcodes`, the most serious over the stations): 0 when every
station's run passed, 1 on a FAIL, 3 when nothing failed but a case was INCONCLUSIVE (or no
station came), 4 on an ERROR, 5 when a station's run folder could not be written (said in
one line once the other stations finished), 2 for bad input; serving without ``--stations``
ends with Ctrl-C (status 130).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

import click

from harness.clock import ScaledClock
from harness.console import (
    AnswerChannel,
    ConsoleDesk,
    ConsoleHub,
    ConsoleSettings,
    MqttChannel,
    TerminalChannel,
    console_options,
    report_url,
    start_console,
)
from harness.exitcodes import ExitCode
from harness.lab.operators import DEFAULT_OPERATOR_PREFIX, MqttDesk, OperatorError
from harness.lab.probes import (
    ProbeAttempt,
    ProbeRecorder,
    UntrustedServerProbe,
    make_untrusted_certificate,
)
from harness.lab.server import LabPlan, LabServer
from harness.runner.inputs import RunnerInputError
from harness.runner.output import InputProblem, finish_stations
from harness.runner.run import PlannedCase, RunOptions
from harness.runner.selection import select_cases
from harness.scenario import (
    Capabilities,
    ScenarioLoadError,
    check_overrides,
    load_capabilities,
    load_lab_parameters,
    parse_param_options,
    resolve_parameters,
)
from harness.security import SecurityProfile, serve_options
from harness.security.options import (
    SecurityOptionError,
    csms_profile,
    csms_security_options,
    redact_secrets_in_logs,
    secret_forms,
)
from simulators.pilot import MqttSettings

__all__ = ["serve_command"]

EXAMPLE = """Examples:

\b
  ocpp-harness serve vehicle-programme --port 9000 --capabilities my-station.yaml
  ocpp-harness serve ocpp16 --port 9000 --capabilities CP1=acme.yaml \\
      --capabilities CP2=other.yaml --operator-mqtt mqtt://127.0.0.1:1883
  ocpp-harness serve ocpp16 --port 9443 --capabilities my-station.yaml \\
      --security-profile 2 --password-file passwords.txt \\
      --cert lab-certs/csms.pem --key lab-certs/csms.key
"""


def _capabilities(values: tuple[str, ...]) -> dict[str | None, Capabilities]:
    """``FILE`` (every station) and ``STATION=FILE`` (one station) → loaded declarations."""
    found: dict[str | None, Capabilities] = {}
    for value in values:
        station, sep, path = value.partition("=")
        key: str | None = station if sep else None
        file = Path(path if sep else value)
        if key in found:
            raise InputProblem(f"--capabilities: {key or 'the default'} is given twice")
        try:
            found[key] = load_capabilities(file)
        except ScenarioLoadError as exc:
            raise InputProblem(str(exc)) from None
    return found


def _planned(
    suites: tuple[str, ...], params: tuple[str, ...], params_file: Path | None
) -> list[PlannedCase]:
    try:
        cases = select_cases(suites)
        lab = load_lab_parameters(params_file) if params_file else None
        overrides = parse_param_options(list(params))
        if lab is not None:
            overrides = lab.then(overrides)
    except (RunnerInputError, ScenarioLoadError) as exc:
        raise InputProblem(str(exc)) from None
    problems = check_overrides(cases, overrides)
    if problems:
        raise InputProblem(str(ScenarioLoadError(problems)))
    return [PlannedCase(c, resolve_parameters(c, overrides)) for c in cases]


@click.command("serve", epilog=EXAMPLE)
@click.argument("suites", nargs=-1)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), required=True, help="Port (0: any).")
@click.option(
    "--capabilities",
    "capability_files",
    multiple=True,
    required=True,
    metavar="[STATION=]FILE",
    help="Capability declaration for every station, or STATION=FILE for one (repeatable).",
)
@click.option("--param", "params", multiple=True, help="[CASE_ID:]NAME=VALUE (repeatable).")
@click.option(
    "--params", "params_file", type=click.Path(path_type=Path), help="Lab parameter file."
)
@click.option(
    "--stations",
    "station_limit",
    type=click.IntRange(min=1),
    default=None,
    help="Stop once this many stations have finished their runs (default: serve until Ctrl-C).",
)
@click.option(
    "--operator-mqtt",
    "operator_url",
    default=None,
    metavar="URL",
    help="Ask the operator over MQTT (mqtt://host:port, mqtts://…) instead of the terminal.",
)
@click.option(
    "--operator-prefix",
    default=DEFAULT_OPERATOR_PREFIX,
    show_default=True,
    help="Topic prefix: prompts on PREFIX/prompt/STATION, answers on PREFIX/ack/STATION.",
)
@click.option(
    "--reconnect-timeout",
    "reconnect_timeout_s",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds a station may stay away during its run; then its case is INCONCLUSIVE "
    "saying so, and its run goes on without waiting again.",
)
@click.option(
    "--probe-untrusted-port",
    "probe_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Also listen here (wss://) with a certificate from a throw-away CA: each station "
    "pointed at it is judged (case SEC_UNTRUSTED_SERVER: refusing passes, connecting fails).",
)
@click.option(
    "--unattended",
    is_flag=True,
    help="Nobody at the stations: vehicles stay plugged in, prompts go unanswered (their "
    "cases INCONCLUSIVE); the console still shows the runs.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
@click.option("--strict", is_flag=True, help="Count NON_STRICT (a broken SHOULD) as a failure.")
@console_options(default=True)
@csms_security_options
def serve_command(
    *,
    suites: tuple[str, ...],
    host: str,
    port: int,
    capability_files: tuple[str, ...],
    params: tuple[str, ...],
    params_file: Path | None,
    station_limit: int | None,
    operator_url: str | None,
    operator_prefix: str,
    reconnect_timeout_s: float,
    probe_port: int | None,
    unattended: bool,
    out: Path,
    strict: bool,
    console: bool,
    console_host: str,
    console_port: int,
    security_profile: int,
    password_file: Path | None,
    cert: Path | None,
    key: Path | None,
    ca: Path | None,
) -> int:
    """Be the CSMS for real stations: each one that connects runs SUITES on its connection."""
    if unattended and operator_url is not None:
        raise InputProblem("--unattended and --operator-mqtt: nobody answers prompts unattended")
    planned = _planned(suites, params, params_file)
    capabilities = _capabilities(capability_files)
    try:
        profile = csms_profile(
            security_profile=security_profile,
            password_file=password_file,
            cert=cert,
            key=key,
            ca=ca,
        )
        serve_options(profile)  # loads the certificates: a bad file is bad input, now
    except SecurityOptionError as exc:
        raise InputProblem(str(exc)) from None
    mqtt: MqttSettings | None = None
    if operator_url is not None:
        try:
            mqtt = MqttSettings.from_url(operator_url, prefix=operator_prefix)
        except ValueError as exc:
            raise InputProblem(f"--operator-mqtt: {exc}") from None
    secrets = secret_forms(profile)
    if mqtt is not None and mqtt.password:  # the operator broker's login, from the URL
        secrets = (*secrets, mqtt.password)
    redact_secrets_in_logs(secrets)
    plan = LabPlan(
        planned=planned,
        capabilities=lambda sid: capabilities.get(sid) or capabilities.get(None),
        out=out,
        strict=strict,
        options=RunOptions(connect_timeout_s=None, reconnect_timeout_s=reconnect_timeout_s),
        secrets=secrets,
        station_limit=station_limit,
        unattended=unattended,
    )
    try:
        settings = ConsoleSettings(console_host, console_port) if console else None
        return asyncio.run(_serve(plan, profile, host, port, mqtt, probe_port, settings))
    except OperatorError as exc:
        raise InputProblem(str(exc)) from None


async def _serve(
    plan: LabPlan,
    profile: SecurityProfile,
    host: str,
    port: int,
    mqtt: MqttSettings | None,
    probe_port: int | None,
    console: ConsoleSettings | None,
) -> int:
    clock = ScaledClock(speed=1.0)
    async with contextlib.AsyncExitStack() as stack:
        if probe_port is not None:
            await _start_probe(stack, plan.out, clock, host, probe_port)
        channels: list[AnswerChannel] = []
        where = "on this terminal"
        if plan.unattended:  # nobody answers: each prompt is recorded and printed unanswered
            where = "unanswered (--unattended)"
        else:
            channels.append(TerminalChannel(stdin=sys.stdin, stdout=sys.stdout))
        if mqtt is not None:
            mqtt_desk = await stack.enter_async_context(MqttDesk(mqtt, now=clock.now))
            channels.append(MqttChannel(mqtt_desk))
            where += f", over MQTT at {mqtt.url} (topics {mqtt.prefix}/prompt/<station>)"
        servers: list[LabServer] = []

        def run_dir(station_id: str) -> Path | None:
            return servers[0].run_dir(station_id) if servers else None

        hub: ConsoleHub | None = None
        if console is not None:
            hub = ConsoleHub(now=clock.now, report_url=lambda sid: report_url(run_dir, sid))
            web = await start_console(hub, console, run_dir=run_dir)
            stack.push_async_callback(web.close)
            if not plan.unattended:
                where += " and in the console"
        desk = ConsoleDesk(
            channels=channels,
            hub=None if plan.unattended else hub,  # unattended: the console only shows
            now=clock.now,
            run_dir=run_dir,
            echo=lambda line: click.echo(line),
            secrets=plan.secrets,
        )
        server = LabServer(
            plan,
            clock=clock,
            operators=desk.operator,
            echo=lambda line: click.echo(line),
            host=host,
            port=port,
            security=profile,
            observer=hub,
        )
        servers.append(server)
        await server.start()
        stack.push_async_callback(server.close)
        click.echo(
            f"Serving {len(plan.planned)} case(s) at {server.url}/<station-id> "
            f"(security profile {int(profile.profile)}); operator prompts {where}"
        )
        await server.wait_done()
        return finish_stations(server.summaries(), server.storage_errors())
    return int(ExitCode.HARNESS_ERROR)  # pragma: no cover (the stack does not swallow exceptions)


async def _start_probe(
    stack: contextlib.AsyncExitStack, out: Path, clock: ScaledClock, host: str, port: int
) -> None:
    """The untrusted-server probe, its throw-away certificate (deleted at the end) and the
    run folder its verdicts go to."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ocpp-probe-")))
    pair = make_untrusted_certificate(folder, now=clock.now())
    recorder: ProbeRecorder | None = None

    def judged(attempt: ProbeAttempt) -> None:
        who = attempt.station_id or f"a station at {attempt.remote}"
        click.echo(f"[probe] {who}: {attempt.verdict.value} — {attempt.actual}")
        assert recorder is not None
        recorder.record(attempt)

    probe = UntrustedServerProbe(pair, clock=clock, host=host, port=port, on_attempt=judged)
    await probe.start()
    recorder = ProbeRecorder(out, clock=clock, target=f"probe {probe.url}")

    async def finish() -> None:
        await probe.close()
        recorder.finish()
        if recorder.run_dir is not None:
            click.echo(f"[probe] run folder: {recorder.run_dir}")

    stack.push_async_callback(finish)
    click.echo(
        f"Security probe at {probe.url}/<station-id>: a CSMS certificate no station may "
        "trust; point a station there (it must refuse to connect)"
    )
