"""Importing recordings: each accepted format, each error class with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.proxy import RecordingFormatError, Sender, load_recording
from harness.proxy.importers import parse_direction

BOOT = '[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
BOOT_OK = '[3,"1",{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":60}]'


def write(tmp_path: Path, lines: list[object], name: str = "log.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_tool_log_with_arrows_iso_times_and_frame_arrays(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            ["station→csms", "2026-11-28T03:00:00Z", json.loads(BOOT)],
            ["CSMS -> Station", "2026-11-28T03:00:00.250+00:00", BOOT_OK],
        ],
    )
    recording = load_recording(path)
    assert [f.sender for f in recording.frames] == [Sender.STATION, Sender.CSMS]
    assert [f.offset_s for f in recording.frames] == [0.0, 0.25]
    assert recording.frames[0].raw == json.dumps(json.loads(BOOT), separators=(",", ":"))
    assert recording.frames[1].raw == BOOT_OK  # text frames kept byte for byte
    assert recording.frames[1].line == 2


def test_tool_log_in_out_with_perspective_and_epoch_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, [["out", 1700000000, BOOT], ["in", 1700000001.5, BOOT_OK]])
    recording = load_recording(path, perspective=Sender.STATION)
    assert [f.sender for f in recording.frames] == [Sender.STATION, Sender.CSMS]
    assert recording.frames[1].offset_s == pytest.approx(1.5)
    as_csms = load_recording(path, perspective=Sender.CSMS)
    assert [f.sender for f in as_csms.frames] == [Sender.CSMS, Sender.STATION]


def test_harness_session_trace_perspective_is_inferred(tmp_path: Path) -> None:
    base = {"station": "CP1", "type": None, "id": None, "action": None}
    lines = [
        {**base, "t": "2026-11-28T03:00:00.000000Z", "dir": "out", "raw": BOOT},
        {**base, "t": "2026-11-28T03:00:01.000000Z", "dir": "in", "raw": BOOT_OK},
    ]
    recording = load_recording(write(tmp_path, lines))
    assert [f.sender for f in recording.frames] == [Sender.STATION, Sender.CSMS]
    assert recording.station_id == "CP1"
    lines_csms = [{**x, "dir": "in" if x["dir"] == "out" else "out"} for x in lines]
    recording = load_recording(write(tmp_path, lines_csms, "b.jsonl"))
    assert [f.sender for f in recording.frames] == [Sender.STATION, Sender.CSMS]


@pytest.mark.parametrize(
    ("content", "where", "expected"),
    [
        ("[1,2\n", ":1:", "not JSON"),
        ('"text"\n', ":1:", "expected [direction, timestamp, frame]"),
        ('["station→csms","2026-01-01T00:00:00Z","[]"]\n["a","b"]\n', ":2:", "expected [direction"),
        ('["sideways","2026-01-01T00:00:00Z","[]"]\n', ":1:", "unknown direction"),
        ('["in","2026-01-01T00:00:00Z","[]"]\n', ":1:", "declare the perspective"),
        ('["station→csms","yesterday","[]"]\n', ":1: timestamp", "ISO 8601"),
        ('["station→csms",true,"[]"]\n', ":1: timestamp", "ISO 8601"),
        ('["station→csms",0,{"a":1}]\n', ":1: frame", "OCPP-J array or its text"),
        ('{"t":"2026-01-01T00:00:00Z","from":"station","raw":"[]"}\n', ":1:", "no 'dir'"),
        (
            '{"t":"2026-01-01T00:00:00Z","dir":"in","from":"moon","raw":"[]"}\n',
            ":1: from",
            "'station'",
        ),
        ('{"t":"2026-01-01T00:00:00Z","dir":"in","raw":"[]"}\n', "", "cannot tell"),
        ("\n\n", "", "no frames"),
    ],
)
def test_errors_name_file_line_and_what_was_expected(
    tmp_path: Path, content: str, where: str, expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RecordingFormatError) as error:
        load_recording(path)
    message = str(error.value)
    assert message.startswith(f"{path}{where}")
    assert expected in message


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RecordingFormatError, match="not UTF-8"):
        load_recording(path)
    with pytest.raises(RecordingFormatError, match="cannot read"):
        load_recording(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("station→csms", Sender.STATION),
        ("cp->csms", Sender.STATION),
        ("ChargePoint -> CentralSystem", Sender.STATION),
        ("csms→station", Sender.CSMS),
        ("centralsystem->chargepoint", Sender.CSMS),
        ("CSMS->CP", Sender.CSMS),
        ("elsewhere", None),
    ],
)
def test_direction_spellings(text: str, sender: Sender | None) -> None:
    assert parse_direction(text, perspective=None) is sender
