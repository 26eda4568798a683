"""``ocpp-harness simulate`` as a subprocess against the test CSMS on 127.0.0.1."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.clock import utc
from tests.simulators.station.csms import run_csms

ROOT = Path(__file__).resolve().parents[3]


async def simulate(*args: str, timeout_s: float = 30.0) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness", "simulate", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.mark.parametrize(("version", "subprotocol"), [("1.6", "ocpp1.6"), ("2.0.1", "ocpp2.0.1")])
async def test_two_stations_boot_and_charge(version: str, subprotocol: str) -> None:
    async with run_csms(subprotocol) as csms:
        code, err = await simulate(
            "--csms", csms.url, "--ocpp", version, "--stations", "2",
            "--speed", "300", "--duration", "300", "--meter-interval", "60",
        )  # fmt: skip
        assert code == 0, err
        assert set(csms.stations) == {"SIM-1", "SIM-2"}
        tokens = set()
        for cp in csms.stations.values():
            assert cp.calls("BootNotification")
            if subprotocol == "ocpp1.6":
                assert cp.calls("StartTransaction")
                assert cp.calls("MeterValues")
                tokens |= {c["idTag"] for c in cp.calls("StartTransaction")}
                assert cp.calls("StopTransaction")  # the run ended its transactions
            else:
                events = cp.calls("TransactionEvent")
                kinds = [e["eventType"] for e in events]
                assert kinds[0] == "Started"
                assert "Updated" in kinds
                assert kinds[-1] == "Ended"  # the run ended its transactions
                tokens.add(events[0]["idToken"]["idToken"])
    # one valid ISO14443 UID per station (the default pattern)
    assert len(tokens) == 2
    assert all(len(t) == 14 and int(t, 16) >= 0 for t in tokens)
    assert "done: 2 stations" in err
    assert "2 booted" in err
    assert "ended 2 transaction(s) before closing" in err


def test_unknown_archetype_is_a_clear_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "simulate", "--csms", "ws://127.0.0.1:9/x",
         "--vehicle", "no_such_car"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown vehicle archetype 'no_such_car'" in proc.stderr
    assert "bev_3ph_16a" in proc.stderr  # the valid names are listed
    assert "Traceback" not in proc.stderr


def test_unknown_fault_lists_the_valid_ones() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "simulate", "--csms", "ws://127.0.0.1:9/x",
         "--fault", "explodes"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "late_apply" in proc.stderr


def test_an_invalid_token_is_a_clear_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "simulate", "--csms", "ws://127.0.0.1:9/x",
         "--ocpp", "2.0.1", "--id-token", "SIM-TOKEN"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "'SIM-TOKEN' is not an ISO14443 UID (expected 8 or 14 hex digits)" in proc.stderr
    too_long = subprocess.run(
        [sys.executable, "-m", "harness", "simulate", "--csms", "ws://127.0.0.1:9/x",
         "--ocpp", "1.6", "--id-token", "TOKEN-{station:020d}"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert too_long.returncode == 2
    assert "is longer than 20 characters" in too_long.stderr


async def test_no_station_can_connect_exits_1() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, err = await simulate("--csms", f"ws://127.0.0.1:{port}/ocpp", "--duration", "5")
    assert code == 1
    assert "no station could connect" in err


async def test_sigterm_closes_every_connection_with_1001() -> None:
    async with run_csms("ocpp2.1") as csms:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness", "simulate", "--csms", csms.url, "--ocpp", "2.1",
            "--stations", "2", "--speed", "60", "--vehicle", "bev_bidirectional",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        first = await csms.station("SIM-1", timeout_s=20)
        second = await csms.station("SIM-2", timeout_s=20)
        for cp in (first, second):
            await cp.wait_for(lambda c=cp: c.calls("TransactionEvent"), timeout_s=20)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        for _ in range(200):  # the server may see the close frame a moment later
            if all(cp._connection.close_code is not None for cp in (first, second)):
                break
            await asyncio.sleep(0.01)
        assert [cp._connection.close_code for cp in (first, second)] == [1001, 1001]
        assert first.calls("NotifyEVChargingNeeds")  # a bidirectional vehicle says so


async def test_no_auto_start_waits_for_a_remote_start() -> None:
    from ocpp.v16 import call

    async with run_csms("ocpp1.6") as csms:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness", "simulate", "--csms", csms.url, "--ocpp", "1.6",
            "--no-auto-start", "--speed", "20", "--duration", "40", "--meter-interval", "10",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        cp = await csms.station("SIM-1", timeout_s=20)
        await cp.wait_for(
            lambda: [s for s in cp.calls("StatusNotification") if s["status"] == "Preparing"],
            timeout_s=20,
        )
        assert cp.calls("StartTransaction") == []  # plugged in, waiting
        answer = await cp.ask(call.RemoteStartTransaction(id_tag="CSMS-TAG", connector_id=1))
        assert answer["status"] == "Accepted"
        start = (await cp.wait_for(lambda: cp.calls("StartTransaction")))[0]
        assert start["idTag"] == "CSMS-TAG"
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()


async def test_timestamps_follow_a_real_time_csms_at_speed_300() -> None:
    """Without --csms-speed 1 the meter values of 300 clock seconds would span 5 minutes
    of a real-time CSMS's clock within one wall second."""
    async with run_csms("ocpp1.6") as csms:
        before = datetime.now(UTC) - timedelta(seconds=2)
        code, err = await simulate(
            "--csms", csms.url, "--speed", "300", "--csms-speed", "1", "--duration", "600",
            "--meter-interval", "60",
        )  # fmt: skip
        after = datetime.now(UTC) + timedelta(seconds=2)
        assert code == 0, err
        cp = csms.stations["SIM-1"]
        stamps = [utc(c["timestamp"]) for c in cp.calls("StartTransaction")]
        stamps += [utc(v["timestamp"]) for c in cp.calls("MeterValues") for v in c["meterValue"]]
    assert len(stamps) >= 3
    assert all(before <= s <= after for s in stamps), (before, stamps, after)
    assert "warning: at --speed" not in err
