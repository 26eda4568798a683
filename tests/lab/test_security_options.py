"""Security options on the command line: password files, per-station certificates, the
spellings of a password that are redacted, and clear errors for incomplete options."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from pathlib import Path

import pytest

from harness.cli import main
from harness.clock import ScaledClock
from harness.results import RunStore, Verdict
from harness.security import ProfileLevel, SecurityProfile, connect_options
from harness.security.options import (
    PasswordFileError,
    load_password_file,
    secret_forms,
    station_profile,
)
from harness.transport import HandshakeRefused, TransportError
from harness.versions import OcppVersion
from simulators.station.config import StationConfig
from simulators.station.runtime import SimulatedStation
from tests.conftest import free_port

HERE = Path(__file__).parent
PASSWORD = "Good-password-0123456"
CASE = """
id: SEC_LISTEN
title: a station admitted with its password runs a case
suite: lab-test
ocpp_versions: ["1.6"]
dut_role: station
requirements: [{id: R1, level: MUST, text: a profile can be cleared}]
steps:
  - kind: clear_profile
    requirement: R1
    expect: {status: {one_of: [Accepted, Unknown]}}
"""


def test_password_file_lines_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "ok.txt"
    good.write_text(f"# comment\n\nCP1 {PASSWORD}\nCP2   with spaces inside it ok  \n")
    assert load_password_file(good) == {"CP1": PASSWORD, "CP2": "with spaces inside it ok"}
    cases = {
        "CP1\n": "ok.txt:1: expected 'STATION_ID PASSWORD'",
        "CP1 short-secret\n": "the password of 'CP1' must be 16–40 characters",
        f"CP1 {PASSWORD}\nCP1 {PASSWORD}\n": ":2: station 'CP1' appears twice",
        "# nothing\n": "no 'STATION_ID PASSWORD' line",
    }
    for text, message in cases.items():
        good.write_text(text)
        with pytest.raises(PasswordFileError, match=message) as caught:
            load_password_file(good)
        assert "short-secret" not in str(caught.value)
    with pytest.raises(PasswordFileError, match="cannot read"):
        load_password_file(tmp_path / "missing.txt")


def test_station_certificates_per_id_and_redacted_spellings(tmp_path: Path) -> None:
    profile = station_profile(
        "CP7",
        security_profile=3,
        password=None,
        password_file=None,
        cert=str(tmp_path / "{id}.pem"),
        key=str(tmp_path / "{id}.key"),
        ca=tmp_path / "ca.pem",
    )
    assert profile.client_cert_file == tmp_path / "CP7.pem"
    assert profile.client_key_file == tmp_path / "CP7.key"
    basic = SecurityProfile(profile=ProfileLevel.BASIC, passwords={"CP1": PASSWORD})
    assert secret_forms(basic) == (
        PASSWORD,
        PASSWORD.encode().hex(),
        base64.b64encode(f"CP1:{PASSWORD}".encode()).decode(),
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["simulate", "--csms", "ws://127.0.0.1:9/x", "--security-profile", "2", "--ca", "c"],
            "needs password",
        ),
        (
            ["simulate", "--csms", "ws://127.0.0.1:9/x", "--security-profile", "2",
             "--ca", "c.pem", "--password", PASSWORD],
            "security profile 2 connects to a wss:// URL",
        ),
        (
            ["serve", "--port", "0", "--capabilities", str(HERE / "sim-station.yaml"),
             "--security-profile", "3"],
            "needs server_cert_file, server_key_file, ca_file",
        ),
        (["run", "--security-profile", "1"], "applies to --target listen only"),
    ],
)  # fmt: skip
def test_incomplete_security_options_are_clear_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert PASSWORD not in err


async def test_run_target_listen_with_profile_1(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(CASE)
    (tmp_path / "passwords.txt").write_text(f"CP1 {PASSWORD}\n")
    port = free_port()
    argv = [
        "run", str(tmp_path / "case.yaml"), "--target", f"listen 127.0.0.1:{port}",
        "--capabilities", str(HERE / "sim-station.yaml"), "--out", str(tmp_path / "runs"),
        "--security-profile", "1", "--password-file", str(tmp_path / "passwords.txt"),
    ]  # fmt: skip
    run = asyncio.create_task(asyncio.to_thread(main, argv))
    url = f"ws://127.0.0.1:{port}/CP1"

    def station(password: str) -> tuple[SimulatedStation, dict[str, object]]:
        profile = SecurityProfile(profile=1, station_id="CP1", password=password)
        config = StationConfig(station_id="CP1", ocpp_version=OcppVersion.V16)
        return SimulatedStation(config, clock=ScaledClock()), connect_options(profile)

    wrong, options = station("Wrong-password-0123456")
    refusal: BaseException | None = None
    try:
        async with asyncio.timeout(20):
            while refusal is None:  # until the listener is up: the first answer is the refusal
                try:
                    await wrong.connect(url, **options)
                except HandshakeRefused as exc:
                    refusal = exc
                except (TransportError, OSError):
                    await asyncio.sleep(0.1)
        right, options = station(PASSWORD)
        await asyncio.wait_for(right.connect(url, **options), 20)
    finally:
        if not run.done():  # the listener waits for ever: give it its station to finish
            last, options = station(PASSWORD)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(last.connect(url, **options), 20)
    assert await asyncio.wait_for(run, 20) == 0
    assert isinstance(refusal, HandshakeRefused)
    assert refusal.status_code == 401
    [run_dir] = (tmp_path / "runs").iterdir()
    assert [r.verdict for r in RunStore.open(run_dir).results()] == [Verdict.PASS]
