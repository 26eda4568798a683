"""A proxy in front of a hand-driven CSMS, recording into a fresh run folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from harness.clock import Clock, ScaledClock
from harness.proxy import RecordingProxy
from harness.results import Manifest, RunStore, RunWriter
from harness.results.manifest import new_run_id
from harness.transport import OcppServer, OcppSubprotocol, WebSocketTransport
from tests.transport.helpers import WAIT_S, Accepted, running_server

__all__ = ["WAIT_S", "new_writer", "proxied", "recv_any"]


def new_writer(root: Path, target: str, clock: Clock | None = None) -> RunWriter:
    clock = clock or ScaledClock()
    manifest = Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=target,
        ocpp_versions=(OcppSubprotocol.V16,),
    )
    return RunStore.create(root, manifest)


@asynccontextmanager
async def proxied(
    root: Path | None, *, writer: RunWriter | None = None, **server_options: Any
) -> AsyncIterator[tuple[RecordingProxy, OcppServer, Accepted]]:
    """A CSMS (``running_server``) and a proxy relaying to it; recording under ``root``."""
    async with running_server(**server_options) as (server, accepted):
        upstream = server.url("x").rpartition("/")[0]
        if writer is None and root is not None:
            writer = new_writer(root, f"proxy {upstream}")
        proxy = RecordingProxy(upstream_url=upstream, writer=writer, clock=ScaledClock())
        async with proxy:
            yield proxy, server, accepted


async def recv_any(transport: WebSocketTransport) -> str | bytes:
    """The next message, text or binary."""
    from harness.transport import BinaryFrameReceived

    async with asyncio.timeout(WAIT_S):
        try:
            return await transport.recv()
        except BinaryFrameReceived as exc:
            return exc.data
