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
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from harness.clock import ScaledClock
from harness.logs import configure_logging
from harness.proxy.server import RecordingProxy
from harness.transport import HandshakeRefused, connect_ocpp
from tests.proxy.helpers import new_writer
from tests.transport.helpers import running_server

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


async def _refused_body(url: str) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, subprotocols=[Subprotocol("ocpp1.6")])
    response = refused.value.response
    return response.status_code, response.body.decode()


@pytest.mark.parametrize("through_proxy", [False, True], ids=["listener", "proxy"])
async def test_a_token_in_the_query_string_is_not_echoed_in_a_404(
    tmp_path: Path, through_proxy: bool
) -> None:
    """A station that puts its password in the URL's query string and no id in the path:
    the 404 (body and log line) names the path, not the query."""
    logs = io.StringIO()
    configure_logging(json_lines=True, level="DEBUG", stream=logs)
    async with running_server() as (server, _accepted):
        base = server.url("x").rpartition("/")[0]
        if through_proxy:
            async with RecordingProxy(upstream_url=base, writer=None, clock=ScaledClock()) as proxy:
                base = proxy.url("x").rpartition("/")[0]
                status, body = await _refused_body(f"{base}/?password={PASSWORD}")
        else:
            status, body = await _refused_body(f"{base}/?password={PASSWORD}")
    assert status == 404
    assert "no charging station id in URL path '/?…'" in body
    for name, text in {"the 404 body": body, "logs": logs.getvalue()}.items():
        assert PASSWORD not in text, f"found in {name}:\n{text}"
