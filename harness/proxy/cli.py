"""``ocpp-harness proxy``: a recording proxy between charging stations and a real CSMS."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
from pathlib import Path

import click

from harness.clock import Clock, ScaledClock
from harness.proxy.server import RecordingProxy
from harness.results import Manifest, RunStore, RunStoreError
from harness.results.manifest import new_run_id
from harness.transport.ws import DEFAULT_MAX_FRAME_BYTES

__all__ = ["proxy_command"]


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9000`` for IPv6) → ``(host, port)``; raises :class:`ValueError`."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9000")
    return host.strip("[]"), int(port)


async def run_proxy(
    *,
    proxy: RecordingProxy,
    clock: Clock,
    stop_after_s: float | None,
) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop_after_s`` clock seconds)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with proxy:
        click.echo(
            f"proxy listening on {proxy.url('{stationId}')} → {proxy.upstream_url}/{{stationId}}",
            err=True,
        )
        with contextlib.suppress(TimeoutError):
            await clock.wait_for(stop.wait(), stop_after_s)


_PEM = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command(
    "proxy",
    epilog="Example:\n\n\b\n  ocpp-harness proxy --listen 127.0.0.1:9000 "
    "--upstream ws://127.0.0.1:9100/ocpp",
)
@click.option(
    "--listen", default="127.0.0.1:9000", show_default=True, help="HOST:PORT to listen on."
)
@click.option("--upstream", required=True, help="The real CSMS's URL without the station id.")
@click.option(
    "--runs",
    "runs_dir",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run store root; one run folder per proxy session, one trace per connection.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Terminate TLS: certificate (PEM).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Terminate TLS: private key (PEM).",
)
@click.option(
    "--upstream-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA bundle to trust for a wss:// upstream.",
)
@click.option(
    "--stop-after-s",
    type=float,
    default=None,
    help="Stop after this many seconds (default: at Ctrl-C).",
)
@click.option(
    "--max-frame-bytes",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_FRAME_BYTES,
    show_default=True,
    help="Largest message relayed, either way (0: no limit); a bigger one closes that "
    "connection with 1009 and the other side the same way.",
)
@click.option(
    "--compression",
    is_flag=True,
    help="Negotiate permessage-deflate on both hops (off: less added latency).",
)
def proxy_command(
    listen: str,
    upstream: str,
    runs_dir: Path,
    tls_cert: Path | None,
    tls_key: Path | None,
    upstream_ca: Path | None,
    stop_after_s: float | None,
    compression: bool,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
) -> int:
    """Relay stations to a real CSMS, forwarding every frame unchanged and recording it.

    Stations connect to ws://HOST:PORT/<stationId> as to their CSMS; the proxy opens
    UPSTREAM/<stationId> with the same subprotocol offer and Authorization header. Prints
    the run folder and frame counts when it stops.
    """
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if (tls_cert is None) != (tls_key is None):
        raise click.BadParameter("--tls-cert and --tls-key go together")
    if not upstream.startswith(("ws://", "wss://")):
        raise click.BadParameter(f"--upstream {upstream!r}: expected a ws:// or wss:// URL")
    if upstream_ca is not None and not upstream.startswith("wss://"):
        raise click.BadParameter("--upstream-ca needs a wss:// upstream")
    listen_ssl = None
    if tls_cert is not None and tls_key is not None:
        listen_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        listen_ssl.load_cert_chain(tls_cert, tls_key)
    upstream_ssl = None
    if upstream.startswith("wss://"):
        upstream_ssl = ssl.create_default_context(
            cafile=str(upstream_ca) if upstream_ca is not None else None
        )
    clock = ScaledClock()
    manifest = Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=f"proxy {upstream}",
        ocpp_versions=(),
        options={"listen": listen, "upstream": upstream, "tls": listen_ssl is not None},
    )
    try:
        writer = RunStore.create(runs_dir, manifest)
    except (RunStoreError, OSError) as exc:
        raise click.ClickException(f"cannot create a run under {runs_dir}: {exc}") from None
    proxy = RecordingProxy(
        upstream_url=upstream,
        writer=writer,
        clock=clock,
        host=host,
        port=port,
        ssl=listen_ssl,
        upstream_ssl=upstream_ssl,
        compression=compression,
        max_frame_bytes=max_frame_bytes or None,
    )
    try:
        asyncio.run(run_proxy(proxy=proxy, clock=clock, stop_after_s=stop_after_s))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen}: {exc}") from None
    finally:
        with contextlib.suppress(RunStoreError, OSError):
            writer.finish(finished_at=clock.now())
    stats = proxy.stats
    click.echo(f"run folder: {writer.run_dir}")
    click.echo(
        f"{stats.connections} connection(s), {stats.frames_forwarded} frames forwarded, "
        f"{stats.frames_recorded} recorded, {stats.frames_not_recorded} not recorded"
        + (f", {stats.frames_too_big} over the size limit" if stats.frames_too_big else "")
    )
    if stats.frames_not_recorded:
        click.echo(f"recording failed: {stats.first_failure}", err=True)
    return 0
