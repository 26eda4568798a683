"""The console's server without a browser: the token rule, prompt answers, the event stream
and the report files."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from harness.console import ConsoleHub, ConsoleServer, is_loopback
from tests.lab.processes import Child

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
ANSWER_HEADERS = {"X-Console": "answer"}


def _hub() -> ConsoleHub:
    return ConsoleHub(now=lambda: NOW)


def _local(url: str) -> str:
    """The console's URL, sent over 127.0.0.1 whatever it is bound to."""
    port = url.rstrip("/").rsplit(":", 1)[-1]
    return f"http://127.0.0.1:{port}"


async def test_bound_to_all_addresses_a_request_without_the_token_is_refused(
    tmp_path: Path,
) -> None:
    hub = _hub()
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "index.html").write_text("<p>report</p>")
    server = ConsoleServer(
        hub, host="0.0.0.0", port=0, token="s3cret-token", run_dir=lambda _: tmp_path
    )
    await server.start()
    try:
        prompt = hub.open_prompt("CP1", "CP1-1", "Plug the vehicle in", yes_no=False)
        base = _local(server.url)
        # unsafe: keep cookies of an IP address, as a browser does
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for method, path in (
                ("GET", "/"),
                ("GET", "/events"),
                ("GET", "/static/console.js"),
                ("GET", "/runs/CP1/report/index.html"),
                ("POST", "/api/prompts/CP1-1"),
            ):
                async with http.request(
                    method, base + path, json={"answer": True}, headers=ANSWER_HEADERS
                ) as response:
                    assert response.status == 401, (method, path)
            # a wrong token is no better
            async with http.post(
                base + "/api/prompts/CP1-1?token=guess",
                json={"answer": True},
                headers=ANSWER_HEADERS,
            ) as response:
                assert response.status == 401
            assert not prompt.answer.done()  # the operator action was not taken

            # With the token (query, then the cookie the page set), everything works.
            async with http.get(base + "/?token=s3cret-token") as response:
                assert response.status == 200
                assert "lab console" in await response.text()
            async with http.get(base + "/runs/CP1/report/index.html") as response:
                assert response.status == 200  # the cookie
            async with http.post(
                base + "/api/prompts/CP1-1",
                json={"answer": True},
                headers={**ANSWER_HEADERS, "Authorization": "Bearer s3cret-token"},
            ) as response:
                assert response.status == 200
        assert prompt.answer.result()[0] is True
        assert prompt.answer.result()[1].startswith("127.0.0.1")
    finally:
        await server.close()


def test_a_console_bound_beyond_loopback_must_have_a_token() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        assert is_loopback(host)
    for host in ("0.0.0.0", "192.0.2.1", "::"):
        assert not is_loopback(host)
    with pytest.raises(ValueError, match="must have a token"):
        ConsoleServer(_hub(), host="0.0.0.0")


async def test_loopback_console_streams_events_and_takes_answers(tmp_path: Path) -> None:
    hub = _hub()
    server = ConsoleServer(hub, host="127.0.0.1", port=0, run_dir=lambda _: tmp_path)
    await server.start()
    try:
        prompt = hub.open_prompt("CP1", "CP1-1", "Does it charge?", yes_no=True)
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "events") as stream:
                assert stream.headers["Content-Type"].startswith("text/event-stream")

                async def next_event() -> dict[str, object]:
                    while True:
                        line = (await stream.content.readline()).decode()
                        if line.startswith("data: "):
                            event: dict[str, object] = json.loads(line[6:])
                            return event

                # the snapshot: the open prompt
                first = await asyncio.wait_for(next_event(), 10)
                assert (first["type"], first["id"]) == ("prompt", "CP1-1")
                # no header: refused (a page of another site cannot add it)
                async with http.post(
                    server.url + "api/prompts/CP1-1", json={"answer": False}
                ) as response:
                    assert response.status == 403
                async with http.post(
                    server.url + "api/prompts/CP1-1", json={"answer": "no"}, headers=ANSWER_HEADERS
                ) as response:
                    assert response.status == 400
                async with http.post(
                    server.url + "api/prompts/CP1-1", json={"answer": False}, headers=ANSWER_HEADERS
                ) as response:
                    assert response.status == 200
                assert prompt.answer.result()[0] is False
                hub.close_prompt("CP1-1", answer=False, by="browser")
                closed = await asyncio.wait_for(next_event(), 10)
                assert closed == {
                    "type": "answered",
                    "station": "CP1",
                    "id": "CP1-1",
                    "answer": False,
                    "by": "browser",
                }
                # answered already: a second answer is refused
                async with http.post(
                    server.url + "api/prompts/CP1-1", json={"answer": True}, headers=ANSWER_HEADERS
                ) as response:
                    assert response.status == 409
            # files outside the run folder are not served
            async with http.get(server.url + "runs/CP1/../../etc/passwd") as response:
                assert response.status == 404
    finally:
        await server.close()


async def test_serve_bound_to_all_addresses_prints_a_token_and_refuses_requests_without_it(
    tmp_path: Path,
) -> None:
    serve = await Child.start(
        "serve", str(REPO / "tests" / "lab" / "scenarios"), "--port", "0",
        "--capabilities", str(REPO / "tests" / "lab" / "sim-station.yaml"),
        "--out", str(tmp_path), "--console-host", "0.0.0.0",
    )  # fmt: skip
    try:
        found = await serve.wait_for_line(
            r"^Console: (http://\S+)/\?token=(\S+) \(bound to 0\.0\.0\.0: every request needs "
            r"token (\S+)\)",
            timeout_s=30,
        )
        base, token = _local(found.group(1)), found.group(2)
        assert found.group(3) == token
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/") as response:
                assert response.status == 401
            async with http.post(
                base + "/api/prompts/X-1", json={"answer": True}, headers=ANSWER_HEADERS
            ) as response:
                assert response.status == 401
            async with http.get(f"{base}/?token={token}") as response:
                assert response.status == 200
    finally:
        await serve.stop()
