"""``ocpp-harness vehicle``: one simulated vehicle on an MQTT pilot link, in its own process.

A station simulator in another process (or a lab bridge) drives it through the topics of
:mod:`simulators.pilot.mqtt`. The process runs until SIGINT or SIGTERM, then disconnects
cleanly (publishing ``online: false``) and exits with status 0; a lost broker connection
exits with status 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections.abc import Sequence
from pathlib import Path

import click
import yaml

from harness.clock import ScaledClock
from harness.logs import get_logger
from simulators.pilot.link import LinkError
from simulators.pilot.mqtt import DEFAULT_PREFIX, MqttSettings, MqttVehicleEnd, PilotTopics
from simulators.pilot.runner import run_vehicle
from simulators.vehicle import CatalogueError, Vehicle, load_catalogue

__all__ = ["vehicle_command"]

_EXAMPLE = """\b
Example:
  ocpp-harness vehicle --mqtt mqtt://127.0.0.1:1883 --station CP1 --evse 1 \\
      --archetype bev_3ph_16a --speed 60 --param max_current_a=32
"""


def _overrides(params: Sequence[str]) -> dict[str, object]:
    """``k=v`` strings to a mapping; values are read as YAML scalars (``32``, ``true``)."""
    found: dict[str, object] = {}
    for item in params:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--param")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        found[key.strip()] = value
    return found


def _build_vehicle(
    archetype: str, params: Sequence[str], *, soc_percent: float | None, seed: int
) -> Vehicle:
    try:
        chosen = load_catalogue().get(archetype)
        vehicle_params = chosen.vehicle_params(_overrides(params), source="--param")
        return Vehicle(vehicle_params, rng=random.Random(seed), soc_percent=soc_percent)
    except (CatalogueError, ValueError) as error:
        raise click.UsageError(str(error)) from None


async def _serve(
    vehicle: Vehicle,
    settings: MqttSettings,
    *,
    station_id: str,
    evse_id: int,
    speed: float,
    step_s: float,
) -> None:
    """Run until SIGINT/SIGTERM (returns) or until the link fails (raises LinkError)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with MqttVehicleEnd(settings, station_id=station_id, evse_id=evse_id) as end:
            click.echo(
                f"vehicle ready on {settings.url} topics {end.topics.base}/…  "
                f"(speed ×{speed:g}; Ctrl-C to stop)",
                err=True,
            )
            clock = ScaledClock(speed=speed)
            runner = asyncio.create_task(run_vehicle(vehicle, end, clock=clock, step_s=step_s))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if runner.done():
                runner.result()  # the link ended: raise its LinkError
            runner.cancel()
            while not runner.done():  # a cancel swallowed down there is repeated
                await asyncio.wait({runner}, timeout=1.0)
                runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


@click.command(name="vehicle", epilog=_EXAMPLE)
@click.option("--mqtt", "url", required=True, help="Broker URL: mqtt://host:port or mqtts://…")
@click.option("--station", "station_id", required=True, help="Station id (topic level).")
@click.option("--evse", "evse_id", required=True, type=click.IntRange(min=1), help="EVSE id.")
@click.option("--archetype", required=True, help="Vehicle archetype from the catalogue.")
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Clock speed: simulated seconds per real second.",
)
@click.option(
    "--step",
    "step_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Simulated seconds between readings [default: 1, or speed/20 when larger].",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override an archetype parameter (repeatable), e.g. max_current_a=32.",
)
@click.option("--soc", "soc_percent", type=click.FloatRange(0, 100), help="Initial SoC (%).")
@click.option("--seed", default=0, show_default=True, help="Seed for random behaviours.")
@click.option("--unplugged", is_flag=True, help="Start unplugged (plug in via …/plug/set).")
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, help="Topic prefix.")
@click.option("--username", default=None, help="Broker user name.")
@click.option(
    "--password",
    default=None,
    envvar="OCPP_HARNESS_MQTT_PASSWORD",
    help="Broker password (or env OCPP_HARNESS_MQTT_PASSWORD).",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CA certificates for mqtts:// (default: the system's).",
)
def vehicle_command(
    url: str,
    station_id: str,
    evse_id: int,
    archetype: str,
    speed: float,
    step_s: float | None,
    params: tuple[str, ...],
    soc_percent: float | None,
    seed: int,
    unplugged: bool,
    prefix: str,
    username: str | None,
    password: str | None,
    ca_file: Path | None,
) -> int:
    """Run one simulated vehicle over an MQTT pilot link until SIGINT/SIGTERM."""
    try:
        settings = MqttSettings.from_url(
            url, username=username, password=password, prefix=prefix, ca_file=ca_file
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--mqtt/--prefix") from None
    try:
        PilotTopics.for_evse(prefix=prefix, station_id=station_id, evse_id=evse_id)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--station") from None
    vehicle = _build_vehicle(archetype, params, soc_percent=soc_percent, seed=seed)
    if not unplugged:
        vehicle.plug_in()
    step = step_s if step_s is not None else max(1.0, speed / 20.0)
    try:
        asyncio.run(
            _serve(
                vehicle,
                settings,
                station_id=station_id,
                evse_id=evse_id,
                speed=speed,
                step_s=step,
            )
        )
    except LinkError as error:
        raise click.ClickException(str(error)) from None
    get_logger("pilot.vehicle").info("vehicle_stopped", station_id=station_id, evse_id=evse_id)
    click.echo("vehicle stopped", err=True)
    return 0
