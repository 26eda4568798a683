"""Issue #16: the proxy passes a station's Basic credentials upstream and nowhere else — not
to its logs, its run folder or the refusal body, even when the CSMS behind it echoes them
(here a careless CSMS repeats the Basic user — where a station that swapped the fields put
its password — and the password in its 401 body)."""

from __future__ import annotations

import base64
import io
from http import HTTPStatus
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from harness.clock import ScaledClock
from harness.logs import configure_logging
from harness.proxy.server import RecordingProxy
from harness.transport import HandshakeRefused, connect_ocpp
from tests.proxy.helpers import new_writer

PASSWORD = "Proxy-secret-0123456789"


def _files(folder: Path) -> dict[str, str]:
    return {str(p): p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("user", "password"),
    [("CP1", PASSWORD), (PASSWORD, "whatever-else-42")],
    ids=["password", "password in the user field"],
)
async def test_credentials_echoed_by_the_csms_reach_no_output_of_the_proxy(
    tmp_path: Path, user: str, password: str
) -> None:
    logs = io.StringIO()
    configure_logging(json_lines=True, level="DEBUG", stream=logs)
    seen: list[str] = []

    def careless(conn: ServerConnection, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        seen.append(header)
        given_user, _, given_password = (
            base64.b64decode(header.partition(" ")[2]).decode().partition(":")
        )
        return conn.respond(
            HTTPStatus.UNAUTHORIZED,
            f"user {given_user!r} is not known (password {given_password!r}; {header})\n",
        )

    async with serve(lambda _ws: None, "127.0.0.1", 0, process_request=careless) as csms:  # type: ignore[arg-type,return-value]
        upstream = f"ws://127.0.0.1:{csms.sockets[0].getsockname()[1]}"
        writer = new_writer(tmp_path, f"proxy {upstream}")
        proxy = RecordingProxy(upstream_url=upstream, writer=writer, clock=ScaledClock())
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        async with proxy:
            with pytest.raises(HandshakeRefused) as refused:
                await connect_ocpp(
                    proxy.url("CP1"),
                    subprotocols=["ocpp1.6"],
                    extra_headers={"Authorization": f"Basic {token}"},
                )
        writer.close()
    assert seen == [f"Basic {token}"]  # the credentials went upstream unchanged
    body = str(refused.value)
    assert "401" in body
    outputs = {"the refusal body": body, "logs": logs.getvalue()}
    outputs.update(_files(tmp_path))
    assert "station_refused" in outputs["logs"]
    for name, text in outputs.items():
        for secret in (PASSWORD, token):
            assert secret not in text, f"{secret!r} found in {name}:\n{text}"
