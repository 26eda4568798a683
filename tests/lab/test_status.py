"""The status table and what it shows of a station's BootNotification."""

from __future__ import annotations

import asyncio
import io

from harness.lab import BootInfo, StationState, StatusBoard, TerminalDesk, boot_info
from harness.results import Verdict


def test_boot_info_of_ocpp16_and_2x() -> None:
    v16 = {
        "chargePointVendor": "ACME",
        "chargePointModel": "Wall-22",
        "firmwareVersion": "4.2",
        "chargePointSerialNumber": "SN1",
    }
    v201 = {
        "reason": "PowerUp",
        "chargingStation": {"vendorName": "ACME", "model": "DC-50", "firmwareVersion": "7"},
    }
    assert boot_info(v16) == BootInfo("ACME", "Wall-22", "4.2", "SN1")
    assert boot_info(v201) == BootInfo("ACME", "DC-50", "7", "")
    assert boot_info(None) == BootInfo()
    assert boot_info({"chargePointVendor": 3}) == BootInfo()  # not text: not shown


def test_table_shows_each_station_with_its_progress() -> None:
    board = StatusBoard()
    a = board.station("CP1")
    a.connected, a.ocpp, a.boot = True, "1.6", BootInfo("ACME", "Wall-22", "4.2")
    a.state, a.planned, a.case = StationState.RUNNING, 3, "TC_056_CS"
    a.verdicts = {Verdict.PASS: 1, Verdict.FAIL: 1}
    b = board.station("CP2")
    b.state = StationState.WAITING
    lines = board.table().splitlines()
    assert lines[0].split() == [
        "station", "conn", "ocpp", "vendor", "model", "firmware", "state", "cases", "case"
    ]  # fmt: skip
    assert lines[1].split() == [
        "CP1", "yes", "1.6", "ACME", "Wall-22", "4.2", "running", "2/3", "(1", "PASS,", "1",
        "FAIL)", "TC_056_CS",
    ]  # fmt: skip
    assert lines[2].split() == ["CP2", "no", "-", "-", "-", "-", "waiting", "-", "-"]


async def test_terminal_desk_names_the_station_and_asks_one_at_a_time() -> None:
    stdin, stdout = io.StringIO("\ny\n"), io.StringIO()
    desk = TerminalDesk(stdin=stdin, stdout=stdout)
    ack, question = await asyncio.gather(
        desk.operator("CP1").ask("Plug in", yes_no=False),
        desk.operator("CP2").ask("Green?", yes_no=True),
    )
    assert (ack, question) == (True, True)
    # read from a pipe (not a terminal), each prompt ends its own line
    assert stdout.getvalue() == "\n>>> [CP1] Plug in [Enter] \n\n>>> [CP2] Green? [y/n] \n"
