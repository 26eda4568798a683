"""The console's web server (aiohttp): the page, the live event stream, prompt answers, and
the run folders' reports.

Routes:

* ``GET /`` — the page (jinja2 template ``index.html``; the script and style in ``static/``
  ship with the package: no CDN, works offline).
* ``GET /events`` — server-sent events: the hub's snapshot, then every event as it happens
  (one ``data:`` line of JSON each; see :mod:`harness.console.hub`).
* ``POST /api/prompts/{id}`` with ``{"answer": true|false}`` — answer an open prompt
  (409 when it is no longer open: answered elsewhere). Needs the header
  ``X-Console: answer`` (a page of another site cannot send it without a CORS preflight,
  which this server never grants).
* ``GET /runs/{station}/{path}`` — a file of the station's run folder (its report pages).

Bound to a loopback address, requests need nothing more. Bound to any other address, every
request needs the console's token: ``?token=…`` (the page then keeps it in a cookie), the
header ``Authorization: Bearer …``, or that cookie; without it the answer is 401 and nothing
is shown or done.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from aiohttp import web

from harness.console.hub import ConsoleHub

__all__ = ["ConsoleServer", "is_loopback", "new_token"]

_HERE = Path(__file__).parent
COOKIE = "ocpp_console_token"
HEARTBEAT_S = 15.0
"""A comment line this often keeps idle event streams open through proxies."""

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh random token (URL-safe)."""
    return secrets.token_urlsafe(18)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ConsoleServer:
    """Serves ``hub`` on ``host:port`` (``port`` 0: any free one; read :attr:`url`).

    ``token`` is required by every request when given; pass one (:func:`new_token`) whenever
    ``host`` is not a loopback address. ``run_dir(station_id)`` gives a station's run folder
    (``None``: none yet) for the report links.
    """

    def __init__(
        self,
        hub: ConsoleHub,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        run_dir: Callable[[str], Path | None] = lambda _: None,
        title: str = "ocpp-harness lab console",
    ) -> None:
        if token is None and not is_loopback(host):
            raise ValueError(f"the console at {host} must have a token (not a loopback address)")
        self.hub = hub
        self.token = token
        self._host, self._port = host, port
        self._run_dir = run_dir
        self._title = title
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.url = f"http://{host}:{port}/"

    @property
    def access_url(self) -> str:
        """:attr:`url` with the token, to open in a browser."""
        return self.url + (f"?token={self.token}" if self.token else "")

    async def start(self) -> None:
        """Start listening."""
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_get("/events", self._events)
        app.router.add_post("/api/prompts/{prompt_id}", self._answer)
        app.router.add_get("/runs/{station}/{path:.+}", self._run_file)
        app.router.add_static("/static/", _HERE / "static", name="static")
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        addresses = runner.addresses
        port = int(addresses[0][1]) if addresses else self._port
        shown = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{shown}:{port}/"

    async def close(self) -> None:
        """Stop listening and end the event streams."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ guard

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is None:
            return await handler(request)
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        bearer = request.headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            given = bearer.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.Response(
                status=401,
                text="401: this console needs its token (printed by ocpp-harness at start): "
                "open the address with ?token=...\n",
            )
        response = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    # ----------------------------------------------------------------- routes

    async def _index(self, request: web.Request) -> web.Response:
        page = _templates.get_template("index.html").render(title=self._title)
        return web.Response(text=page, content_type="text/html")

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        if request.query.get("token") and self.token:
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        await response.prepare(request)
        queue = self.hub.subscribe()
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await response.write(b"retry: 1000\n\n")
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closing}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
                )
                batch = [getter.result()] if getter in done else []
                if not batch:
                    getter.cancel()
                while not queue.empty():  # also what came just before closing
                    batch.append(queue.get_nowait())
                if batch:
                    data = "".join(
                        f"data: {json.dumps(e, separators=(',', ':'))}\n\n" for e in batch
                    )
                    await response.write(data.encode())
                elif not closing.done():
                    await response.write(b": heartbeat\n\n")
                if closing.done():
                    break
        except ConnectionResetError:
            pass  # the browser went away
        finally:
            closing.cancel()
            self.hub.unsubscribe(queue)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Console") != "answer":
            return web.json_response({"error": "missing header X-Console: answer"}, status=403)
        try:
            body = await request.json()
            answer = body["answer"]
            if not isinstance(answer, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'expected {"answer": true|false}'}, status=400)
        agent = request.headers.get("User-Agent", "")
        where = f"{request.remote or 'unknown address'}" + (f" ({agent})" if agent else "")
        if not self.hub.answer(request.match_info["prompt_id"], answer, where=where):
            return web.json_response({"error": "no such open prompt"}, status=409)
        return web.json_response({"ok": True})

    async def _run_file(self, request: web.Request) -> web.StreamResponse:
        folder = self._run_dir(request.match_info["station"])
        if folder is None:
            raise web.HTTPNotFound(text="no run folder for this station yet")
        root = folder.resolve()
        path = (root / request.match_info["path"]).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)
