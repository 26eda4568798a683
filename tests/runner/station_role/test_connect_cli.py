"""``ocpp-harness run --target connect URL``: the command against the test CSMS (run in a
thread with its own event loop, since the command runs its own)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.results import RunStore, Verdict
from tests.runner.station_role.fake_csms import TestCsms
from tests.runner.station_role.helpers import LIBRARY, hook_parameters


def csms_in_thread(faults: frozenset[str]) -> Iterator[TestCsms]:
    loop = asyncio.new_event_loop()
    csms = TestCsms(faults=faults)
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        async with csms:
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield csms
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.fixture
def good_csms() -> Iterator[TestCsms]:
    yield from csms_in_thread(frozenset())


@pytest.fixture
def faulty_csms() -> Iterator[TestCsms]:
    yield from csms_in_thread(frozenset({"over_max"}))


def run(
    csms: TestCsms, tmp_path: Path, capsys: pytest.CaptureFixture[str], *, what: str = "ocpp16"
) -> tuple[int, str, Path]:
    """The 1.6 CSMS suite (or one case file ``what``) with the hooks' parameter file."""
    params = tmp_path / "hooks.yaml"
    params.write_text(yaml.safe_dump({"parameters": hook_parameters(csms, timeout_s=3)}))
    code = main(
        [
            "run",
            str(LIBRARY / what),
            "--target",
            "connect",
            csms.url("CP-CLI"),
            "--params",
            str(params),
            "--out",
            str(tmp_path / "runs"),
        ]
    )
    captured = capsys.readouterr()
    out = captured.out
    match = re.search(r"^Run folder: (.+)$", out, re.MULTILINE)
    assert match is not None, f"exit {code}\n{out}\n{captured.err}"
    return code, out, Path(match.group(1))


def test_connect_passes_against_a_good_csms(
    good_csms: TestCsms, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, run_dir = run(good_csms, tmp_path, capsys)
    assert code == 0, out
    assert "6 passed" in out
    results = RunStore.open(run_dir).results()
    assert [r.verdict for r in results] == [Verdict.PASS] * 6
    assert RunStore.open(run_dir).manifest.target.startswith("connect ws://127.0.0.1:")


def test_connect_fails_against_a_faulty_csms_and_names_the_fault(
    faulty_csms: TestCsms, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(faulty_csms, tmp_path, capsys)
    assert code == 1
    assert "0 passed, 6 failed" in out
    assert "above the station's declared maximum of 32 A" in out


def test_connect_without_a_url_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(LIBRARY / "ocpp16"), "--target", "connect"])
    assert code == 2
    assert "--target connect needs the CSMS URL" in capsys.readouterr().err


def test_a_bad_station_parameter_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "run",
            str(LIBRARY / "ocpp16" / "TC_056_CSMS.yaml"),
            "--target",
            "connect",
            "ws://127.0.0.1:9/CP",
            "--param",
            "station_units=kW",
        ]
    )
    assert code == 2
    assert "TC_056_CSMS: station_units: expected A, W or A,W, got 'kW'" in capsys.readouterr().err


def test_one_parameter_file_serves_a_single_case(
    good_csms: TestCsms, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hooks file names hook_clear, hook_composite... which TC_056_CSMS does not declare."""
    code, out, _ = run(good_csms, tmp_path, capsys, what="ocpp16/TC_056_CSMS.yaml")
    assert code == 0, out
    assert "1 passed" in out


def test_an_invalid_token_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "run",
            str(LIBRARY / "ocpp201" / "TC_K_60_CSMS.yaml"),
            "--target",
            "connect",
            "ws://127.0.0.1:9/CP",
            "--param",
            "id_token=HARNESS-TAG",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "TC_K_60_CSMS: id_token: 'HARNESS-TAG' is not an ISO14443 UID" in err
