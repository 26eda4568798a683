"""A minimal OCPP 1.6 CSMS for load tests: answers every CALL at once, counts boots.

Run it in its own process for a benchmark (``python -m simulators.fleet.csms --port P``),
so its memory is not counted as the stations'; tests start :func:`serve_csms` in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from simulators.fleet.limits import raise_fd_limit

__all__ = ["MiniCsms", "raise_fd_limit", "serve_csms"]


@dataclass(slots=True)
class MiniCsms:
    """Counters of the minimal CSMS; ``profile_limit_w`` is sent to every booted station;
    ``not_implemented`` actions are answered CALLERROR NotImplemented (a CSMS that lacks
    them, for tests)."""

    heartbeat_interval_s: int = 60
    profile_limit_w: float | None = None
    not_implemented: frozenset[str] = frozenset()
    boots: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    connections: set[ServerConnection] = field(default_factory=set)
    _tx: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def handle(self, ws: ServerConnection) -> None:
        """Serve one station connection until it closes."""
        sid = (ws.request.path if ws.request else "/").rstrip("/").rsplit("/", 1)[-1]
        self.connections.add(ws)
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame[0] != 2:
                    continue
                self.calls += 1
                if frame[2] in self.not_implemented:
                    await ws.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))
                    continue
                await ws.send(json.dumps([3, frame[1], self._result(sid, frame[2])]))
                if frame[2] == "BootNotification" and self.profile_limit_w is not None:
                    await ws.send(
                        json.dumps(
                            [
                                2,
                                f"p{self.calls}",
                                "SetChargingProfile",
                                {
                                    "connectorId": 1,
                                    "csChargingProfiles": {
                                        "chargingProfileId": 1,
                                        "stackLevel": 0,
                                        "chargingProfilePurpose": "TxDefaultProfile",
                                        "chargingProfileKind": "Relative",
                                        "chargingSchedule": {
                                            "chargingRateUnit": "W",
                                            "chargingSchedulePeriod": [
                                                {"startPeriod": 0, "limit": self.profile_limit_w}
                                            ],
                                        },
                                    },
                                },
                            ]
                        )
                    )
        except Exception:  # a dropped station is normal under load
            pass
        finally:
            self.connections.discard(ws)

    def _result(self, sid: str, action: str) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if action == "BootNotification":
            self.boots[sid] = self.boots.get(sid, 0) + 1
            return {"status": "Accepted", "currentTime": now, "interval": self.heartbeat_interval_s}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "StartTransaction":
            return {"transactionId": next(self._tx), "idTagInfo": {"status": "Accepted"}}
        if action in ("StopTransaction", "Authorize"):
            return {"idTagInfo": {"status": "Accepted"}}
        return {}


async def serve_csms(csms: MiniCsms, *, host: str = "127.0.0.1", port: int = 0) -> Server:
    """Start the CSMS on loopback; ``port=0`` picks a free port (see ``server.sockets``)."""
    return await serve(
        csms.handle,
        host,
        port,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        max_size=2**16,
        max_queue=4,
        write_limit=2**12,
        backlog=4096,
    )


def main() -> None:
    """``python -m simulators.fleet.csms --port P``: serve until killed, print the port."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--limit-w", type=float, default=None)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost") and not args.host.startswith("127."):
        parser.error("--host must be a loopback address")
    raise_fd_limit()

    async def run() -> None:
        csms = MiniCsms(profile_limit_w=args.limit_w)
        server = await serve_csms(csms, host=args.host, port=args.port)
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        while True:
            await asyncio.sleep(5)
            print(f"BOOTS {len(csms.boots)} CALLS {csms.calls}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
