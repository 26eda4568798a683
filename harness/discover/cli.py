"""``ocpp-harness discover --listen HOST:PORT --out FILE``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from harness.discover.advertised import Origin, declaration_yaml
from harness.discover.probe import DiscoveryError, discover
from harness.exitcodes import ExitCode
from harness.runner.cli import InputProblem
from harness.scenario import ScenarioLoadError, load_capabilities

__all__ = ["discover_command"]


@click.command(
    "discover",
    short_help="Read what a station advertises and draft its capability declaration.",
    epilog=(
        "Example:\n\n\b\n"
        "  ocpp-harness discover --listen 0.0.0.0:9000 --out my-station.yaml\n"
        "  # point the station at ws://<this machine>:9000/<station-id>, then confirm the\n"
        "  # file and: ocpp-harness run --target listen 0.0.0.0:9000 --capabilities my-station.yaml"
    ),
)
@click.option("--listen", "address", required=True, metavar="HOST:PORT", help="Where to listen.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The capabilities file to write (not overwritten without --force).",
)
@click.option("--station-id", default=None, help="Only this station (others are refused).")
@click.option(
    "--timeout-s",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Longest wait for the station, its boot and each answer.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def discover_command(
    address: str, out: Path, station_id: str | None, timeout_s: float, force: bool
) -> int:
    """Act as the CSMS for one station, read what it advertises (1.6 GetConfiguration;
    2.0.1/2.1 GetVariables of SmartChargingCtrlr and friends) and write a commented
    capabilities file for the engineer to confirm."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not port_text.isdigit():
        raise InputProblem(f"--listen: expected HOST:PORT, got {address!r}")
    if out.exists() and not force:
        raise InputProblem(f"--out: {out} exists; choose another file or add --force")

    def listening(server: Any) -> None:
        click.echo(f"Waiting for a station at {server.url('<station-id>')} ...")

    try:
        found = asyncio.run(
            discover(
                host=host.strip("[]") or "127.0.0.1",
                port=int(port_text),
                timeout_s=timeout_s,
                station_id=station_id,
                on_listening=listening,
            )
        )
    except DiscoveryError as exc:
        click.echo(f"error: {exc}", err=True)
        return int(ExitCode.INCONCLUSIVE)
    except OSError as exc:  # the port is taken, or the address is not ours
        raise InputProblem(f"--listen {address}: {exc.strerror or exc}") from None
    text = declaration_yaml(found)
    try:
        out.write_text(text, encoding="utf-8")
        load_capabilities(out)  # what we wrote must load as it is
    except OSError as exc:
        click.echo(f"error: cannot write {out}: {exc}", err=True)
        return int(ExitCode.STORAGE)
    except ScenarioLoadError as exc:  # a defect of discover itself
        click.echo(f"error: the declaration written to {out} does not load: {exc}", err=True)
        return int(ExitCode.HARNESS_ERROR)
    who = " ".join(v for k, v in found.identity.items() if k in ("vendor", "model"))
    click.echo(f"Station {found.station_id} ({who or 'no identity'}), OCPP {found.ocpp_version}")
    for item in found.fields:
        shown = "?" if item.origin is Origin.TO_CONFIRM else item.value
        click.echo(f"  {item.name:<22} {shown!s:<40} {item.origin.value}: {item.note}")
    confirm = [f.name for f in found.fields if f.origin is Origin.TO_CONFIRM]
    click.echo(f"Wrote {out}. Confirm it; not advertised, to fill in: {', '.join(confirm)}")
    return int(ExitCode.OK)
