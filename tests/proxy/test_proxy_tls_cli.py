"""TLS on both hops, and the ``ocpp-harness proxy`` command as a process."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

from harness.clock import ScaledClock
from harness.proxy import RecordingProxy
from harness.results import RunStore
from harness.transport import OcppSubprotocol, TransportError, connect_ocpp
from tests.conftest import free_port
from tests.proxy.helpers import WAIT_S, new_writer, recv_any
from tests.transport.helpers import running_server
from tests.transport.test_ws_tls import certificate, server_context

__all__ = ["certificate"]  # the fixture, re-exported so pytest finds it here


async def test_tls_terminated_at_the_proxy_and_wss_upstream(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    async with running_server(ssl=server_context(cert, key)) as (server, accepted):
        upstream = server.url("x").rpartition("/")[0]
        assert upstream.startswith("wss://")
        proxy = RecordingProxy(
            upstream_url=upstream,
            writer=new_writer(tmp_path, f"proxy {upstream}"),
            clock=ScaledClock(),
            ssl=server_context(cert, key),
            upstream_ssl=trusting,
        )
        async with proxy:
            url = proxy.url("CP1")
            assert url.startswith("wss://")
            async with connect_ocpp(url, ssl=trusting, subprotocols=["ocpp2.0.1"]) as station:
                csms = await accepted.next()
                assert station.subprotocol is OcppSubprotocol.V201
                await station.send('[2,"1","Heartbeat",{}]')
                assert await recv_any(csms) == '[2,"1","Heartbeat",{}]'


async def wait_listening(url: str) -> None:
    async with asyncio.timeout(20):
        while True:
            try:
                async with connect_ocpp(url, subprotocols=["ocpp1.6"]) as probe:
                    await probe.close()
                    return
            except TransportError:
                await asyncio.sleep(0.1)


async def test_proxy_command_relays_records_and_reports(tmp_path: Path) -> None:
    async with running_server() as (server, accepted):
        upstream = server.url("x").rpartition("/")[0]
        port = free_port()
        runs = tmp_path / "runs"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "harness",
            "proxy",
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            upstream,
            "--runs",
            str(runs),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        await wait_listening(f"ws://127.0.0.1:{port}/probe")
        await accepted.next()
        async with connect_ocpp(f"ws://127.0.0.1:{port}/CP7", subprotocols=["ocpp1.6"]) as st:
            csms = await accepted.next()
            await st.send('[2,"1","Heartbeat",{}]')
            assert await recv_any(csms) == '[2,"1","Heartbeat",{}]'
            await csms.send('[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]')
            assert await recv_any(st) == '[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]'
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT_S * 4):
            out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "2 connection(s), 2 frames forwarded, 2 recorded, 0 not recorded" in text
    (run_dir,) = list(runs.iterdir())
    run = RunStore.open(run_dir)
    assert run.finished
    assert run.manifest.target == f"proxy {upstream}"
    frames = [line for key in run.trace_keys() for line in run.trace(key)]
    assert [f["raw"] for f in frames] == [
        '[2,"1","Heartbeat",{}]',
        '[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]',
    ]


def test_proxy_command_rejects_a_bad_listen_address(tmp_path: Path) -> None:
    from harness.cli import main

    code = main(["proxy", "--listen", "nowhere", "--upstream", "ws://127.0.0.1:1"])
    assert code == 2
