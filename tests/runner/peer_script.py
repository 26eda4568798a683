"""A scripted OCPP 1.6 station over real websockets that misbehaves on cue.

It connects to the harness (``ListenProvider`` on 127.0.0.1), sends BootNotification, and
answers the harness's CALLs with canned results. When a ``ChangeConfiguration`` carries the
key ``"B"``, it calls ``misbehave(peer, message_id)`` instead of answering; that coroutine
does the misbehaviour and returns ``True`` if the connection should be considered finished
(the peer then reconnects, unless ``reconnect`` is False).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ANSWERS: dict[str, dict[str, Any]] = {
    "ChangeConfiguration": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "GetConfiguration": {"configurationKey": []},
}

Misbehaviour = Callable[["ScriptedPeer", str], Awaitable[bool]]


class ScriptedPeer:
    """The station side; run :meth:`run` as a task and cancel it at the end."""

    def __init__(self, url: str, misbehave: Misbehaviour, *, reconnect: bool = True) -> None:
        self.url = url
        self.misbehave = misbehave
        self.reconnect = reconnect
        self.ws: ClientConnection | None = None
        self.connections = 0
        self.received: list[Any] = []
        self.extra: list[ClientConnection] = []
        self.headers: dict[str, str] = {}
        """Extra handshake headers (e.g. Basic authentication)."""

    async def open(self) -> ClientConnection:
        """A new connection as this station, booted."""
        ws = await connect(
            self.url,
            subprotocols=["ocpp1.6"],
            max_size=None,
            compression=None,  # type: ignore[list-item]
            additional_headers=self.headers,
        )
        self.connections += 1
        await ws.send(
            json.dumps(
                [
                    2,
                    f"boot-{self.connections}",
                    "BootNotification",
                    {"chargePointVendor": "Peer", "chargePointModel": "Script"},
                ]
            )
        )
        return ws

    async def run(self) -> None:
        ws = await self.open()
        while True:
            self.ws = ws
            finished = await self._serve(ws)
            if not finished or not self.reconnect:
                return
            with contextlib.suppress(Exception):
                await ws.close()
            try:
                ws = await self.open()
            except OSError:  # the harness stopped listening: the run is over
                return

    async def _serve(self, ws: ClientConnection) -> bool:
        """Answer CALLs; ``True`` when the misbehaviour ended this connection."""
        try:
            async for text in ws:
                message = json.loads(text)
                self.received.append(message)
                if message[0] != 2:
                    continue
                _, mid, action, payload = message
                if action == "ChangeConfiguration" and payload.get("key") == "B":
                    if await self.misbehave(self, mid):
                        return True
                    continue
                await self.answer(mid, ANSWERS.get(action, {}))
        except ConnectionClosed:
            return True
        return True

    async def answer(self, message_id: str, payload: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps([3, message_id, payload]))

    async def send_text(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send(text)


async def wait_closed(peer: ScriptedPeer, timeout_s: float = 10.0) -> None:
    """Wait until the peer's current connection is closed."""
    assert peer.ws is not None
    async with asyncio.timeout(timeout_s):
        await peer.ws.wait_closed()
