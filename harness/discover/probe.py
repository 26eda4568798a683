"""``discover`` on the wire: the harness as CSMS for one station, reading what it advertises.

:func:`discover` listens, takes the first station that connects (or the one named), answers
its requests as a plain CSMS would (:class:`~harness.runner.handlers.DefaultAnswers`), waits
for its BootNotification, then asks:

* OCPP 1.6 -- ``GetConfiguration`` with no key (every key);
* OCPP 2.0.1 / 2.1 -- ``GetVariables`` for :data:`~harness.discover.advertised.VARIABLES_2X`
  (variables the station rejects or does not know are left out);

and closes the connection. Every wait is bounded by ``timeout_s``; a station that does not
answer, or answers with a CALLERROR, gives a :class:`DiscoveryError` naming the step.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from harness.clock import Clock, ScaledClock
from harness.connection import ConnectionClosed, OcppConnection
from harness.discover.advertised import (
    VARIABLES_2X,
    Discovered,
    from_configuration_16,
    from_variables_2x,
)
from harness.runner.handlers import DefaultAnswers
from harness.runner.identity import boot_info
from harness.runner.observations import ObservationLog
from harness.session import CallErrorReceived, CallReceived, CallTimeout, RemoteProtocolError, Role
from harness.transport import OcppServer, Transport, serve_ocpp
from harness.versions import OcppVersion

__all__ = ["DiscoveryError", "advertised_by", "discover"]


class DiscoveryError(Exception):
    """Discovery could not finish (no station came, no boot, no answer); the message says
    which step and why."""


async def discover(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout_s: float = 120.0,
    station_id: str | None = None,
    clock: Clock | None = None,
    on_listening: Any = None,
    server_options: Mapping[str, Any] | None = None,
) -> Discovered:
    """Listen on ``host:port`` and discover the first station that connects (or
    ``station_id``); ``on_listening(server)`` is called once the server is up (for its
    URL). Raises :class:`DiscoveryError`."""
    clock = clock or ScaledClock()
    arrived: asyncio.Queue[Transport] = asyncio.Queue()
    done = asyncio.Event()

    async def accept(transport: Transport) -> None:
        if station_id is not None and transport.station_id != station_id:
            await transport.close(code=1008, reason=f"discovering station {station_id} only")
            return
        await arrived.put(transport)
        await done.wait()

    server: OcppServer = serve_ocpp(accept, host=host, port=port, **dict(server_options or {}))
    async with server:
        if on_listening is not None:
            on_listening(server)
        try:
            transport = await asyncio.wait_for(arrived.get(), timeout_s)
        except TimeoutError:
            raise DiscoveryError(
                f"no station connected to {server.url('<station-id>')} within {timeout_s:g} s"
            ) from None
        try:
            return await _query(transport, clock, timeout_s)
        finally:
            done.set()


async def _query(transport: Transport, clock: Clock, timeout_s: float) -> Discovered:
    version = transport.subprotocol.version
    log = ObservationLog()
    answers = DefaultAnswers(
        version=version,
        clock=clock,
        observations=log,
        heartbeat_interval_s=300,
        frames_of=lambda _message_id: (),
    )

    async def answer(event: CallReceived) -> dict[str, Any]:
        return answers.answer(event)

    handlers = dict.fromkeys(answers.actions(), answer)
    conn = OcppConnection.open(transport, role=Role.CSMS, clock=clock, handlers=handlers)
    sid = transport.station_id
    async with conn:
        try:
            await asyncio.wait_for(log.booted.wait(), timeout_s)
        except TimeoutError:
            raise DiscoveryError(f"{sid}: no BootNotification within {timeout_s:g} s") from None
        found = await advertised_by(conn, version, sid, log.boot, timeout_s=timeout_s)
        with contextlib.suppress(Exception):
            await conn.close(code=1000, reason="discovery done")
    return found


async def advertised_by(
    conn: OcppConnection,
    version: OcppVersion,
    station_id: str,
    boot: Mapping[str, Any] | None,
    *,
    timeout_s: float,
) -> Discovered:
    """Ask the station on ``conn`` what it advertises (1.6 GetConfiguration, 2.x
    GetVariables); ``boot`` is its BootNotification payload (for its identity). Raises
    :class:`DiscoveryError` when it does not answer."""
    sid = station_id
    info = boot_info(boot)
    identity = {
        k: v
        for k, v in (
            ("vendor", info.vendor),
            ("model", info.model),
            ("firmware", info.firmware),
            ("serial", info.serial),
        )
        if v
    }
    try:
        if version is OcppVersion.V16:
            reply = await conn.call("GetConfiguration", {}, timeout_s=timeout_s)
            keys = {
                str(item["key"]): str(item.get("value", ""))
                for item in reply.payload.get("configurationKey", [])
                if isinstance(item, Mapping) and "key" in item
            }
            found = from_configuration_16(sid, keys, identity)
        else:
            request = {
                "getVariableData": [
                    {"component": {"name": c}, "variable": {"name": v}} for c, v in VARIABLES_2X
                ]
            }
            reply = await conn.call("GetVariables", request, timeout_s=timeout_s)
            values = {
                (str(r["component"]["name"]), str(r["variable"]["name"])): str(
                    r.get("attributeValue", "")
                )
                for r in reply.payload.get("getVariableResult", [])
                if r.get("attributeStatus") == "Accepted"
            }
            found = from_variables_2x(sid, str(version), values, identity)
    except (CallErrorReceived, CallTimeout, RemoteProtocolError, ConnectionClosed) as exc:
        step = "GetConfiguration" if version is OcppVersion.V16 else "GetVariables"
        raise DiscoveryError(f"{sid}: {step} failed: {exc}") from None
    return found
