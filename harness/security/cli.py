"""``ocpp-harness certs ...``: make a test CA, a CSMS certificate and station certificates."""

from __future__ import annotations

from pathlib import Path

import click

from harness.clock import ScaledClock
from harness.security.certs import (
    CA_CERT,
    CA_KEY,
    SERVER_CERT,
    SERVER_KEY,
    CertificateError,
    CertificatePair,
    create_ca,
    create_server_certificate,
    create_station_certificate,
)

__all__ = ["certs"]


def _report(label: str, pair: CertificatePair) -> None:
    click.echo(f"{label}: {pair.cert_file}")
    click.echo(f"{' ' * len(label)}  {pair.key_file} (private key, mode 0600)")


@click.group(
    epilog="Example:\n\n\b\n  ocpp-harness certs init lab-certs --server-host csms.lab\n"
    "  ocpp-harness certs station lab-certs CP001 --org 'ACME Charging'"
)
def certs() -> None:
    """Test certificates for security profiles 2 and 3 (labs only: keys are unencrypted)."""


@certs.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ca-name", default="ocpp-harness test CA", show_default=True, help="CA's CN.")
@click.option(
    "--server-host",
    "server_hosts",
    multiple=True,
    metavar="HOST",
    help="Extra host name or IP for the CSMS certificate (repeatable); localhost, "
    "127.0.0.1 and ::1 are always included.",
)
@click.option("--org", default=None, help="Organization (O) of the CSMS certificate.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init_command(
    directory: Path, ca_name: str, server_hosts: tuple[str, ...], org: str | None, force: bool
) -> None:
    """Create a test CA and a CSMS server certificate in DIRECTORY."""
    now = ScaledClock().now()
    existing = [
        str(directory / name)
        for name in (CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY)
        if (directory / name).exists()
    ]
    if existing and not force:  # checked up front: never leave a half-made set behind
        raise click.ClickException(
            f"{', '.join(existing)} already exist(s); pass --force to overwrite"
        )
    try:
        ca = create_ca(directory, now=now, ca_name=ca_name, force=force)
        server = create_server_certificate(
            directory, now=now, hosts=server_hosts, org=org, force=force
        )
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from None
    _report("CA", ca)
    _report("CSMS server", server)


@certs.command("station")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.argument("station_id")
@click.option(
    "--org",
    default="ocpp-harness test CSO",
    show_default=True,
    help="Organization name (O) of the CSO, as the CSMS expects it.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def station_command(directory: Path, station_id: str, org: str, force: bool) -> None:
    """Create a client certificate (CN=STATION_ID) signed by the CA in DIRECTORY."""
    try:
        pair = create_station_certificate(
            directory, station_id, now=ScaledClock().now(), org=org, force=force
        )
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from None
    _report(f"station {station_id}", pair)
