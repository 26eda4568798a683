"""The untrusted-server probe: a station that refuses the certificate passes, one that talks
to the impostor fails, one that does nothing is inconclusive."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest

from harness.clock import ScaledClock
from harness.lab.probes import (
    PROBE_CASE_ID,
    ProbeRecorder,
    UntrustedServerProbe,
    make_untrusted_certificate,
)
from harness.results import RunStore, Verdict
from harness.security import ProfileLevel, SecurityProfile, connect_options
from harness.transport import TransportError, connect_ocpp
from tests.security.conftest import NOW, PASSWORD, Lab, make_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_lab(tmp_path_factory.mktemp("lab"))


async def _probe(tmp_path: Path, *, timeout_s: float = 5.0) -> UntrustedServerProbe:
    pair = make_untrusted_certificate(tmp_path / "untrusted", now=NOW)
    probe = UntrustedServerProbe(pair, clock=ScaledClock(), request_timeout_s=timeout_s)
    await probe.start()
    return probe


async def _settled(probe: UntrustedServerProbe, count: int) -> None:
    async with asyncio.timeout(5):
        while len(probe.attempts) < count:  # noqa: ASYNC110 (the probe has no event to wait on)
            await asyncio.sleep(0.02)


async def test_a_station_that_trusts_only_its_ca_refuses_and_passes(
    lab: Lab, tmp_path: Path
) -> None:
    probe = await _probe(tmp_path)
    try:
        station = SecurityProfile(
            profile=ProfileLevel.TLS_BASIC,
            station_id="CP1",
            password=PASSWORD,
            ca_file=lab.ca.cert_file,
        )
        with pytest.raises(TransportError):
            await connect_ocpp(f"{probe.url}/CP1", open_timeout_s=5, **connect_options(station))
        await _settled(probe, 1)
    finally:
        await probe.close()
    [attempt] = probe.attempts
    assert attempt.verdict is Verdict.PASS
    assert attempt.station_id is None  # a refusing station never says who it is
    assert attempt.remote.startswith("127.0.0.1:")


async def test_a_station_that_connects_to_the_impostor_fails(tmp_path: Path) -> None:
    probe = await _probe(tmp_path)
    careless = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    careless.check_hostname = False
    careless.verify_mode = ssl.CERT_NONE  # checks nothing: the defect under test
    try:
        with pytest.raises(TransportError):
            await connect_ocpp(f"{probe.url}/CP9", open_timeout_s=5, ssl=careless)
        await _settled(probe, 1)
    finally:
        await probe.close()
    [attempt] = probe.attempts
    assert attempt.verdict is Verdict.FAIL
    assert attempt.station_id == "CP9"
    assert "GET /CP9 HTTP/1.1" in attempt.actual


async def test_a_connection_that_says_nothing_is_inconclusive(tmp_path: Path) -> None:
    probe = await _probe(tmp_path, timeout_s=0.3)
    try:
        with socket.create_connection(("127.0.0.1", probe.port)):
            await _settled(probe, 1)
    finally:
        await probe.close()
    assert [a.verdict for a in probe.attempts] == [Verdict.INCONCLUSIVE]


async def test_recorder_stores_each_attempt_as_a_judged_case(lab: Lab, tmp_path: Path) -> None:
    clock = ScaledClock()
    recorder = ProbeRecorder(tmp_path / "runs", clock=clock, target="probe test")
    pair = make_untrusted_certificate(tmp_path / "untrusted", now=NOW)
    probe = UntrustedServerProbe(pair, clock=clock, on_attempt=recorder.record)
    await probe.start()
    careless = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    careless.check_hostname = False
    careless.verify_mode = ssl.CERT_NONE
    careful = SecurityProfile(
        profile=ProfileLevel.TLS_BASIC,
        station_id="CP1",
        password=PASSWORD,
        ca_file=lab.ca.cert_file,
    )
    try:
        with pytest.raises(TransportError):
            await connect_ocpp(f"{probe.url}/CP1", open_timeout_s=5, **connect_options(careful))
        await _settled(probe, 1)
        with pytest.raises(TransportError):
            await connect_ocpp(f"{probe.url}/CP9", open_timeout_s=5, ssl=careless)
        await _settled(probe, 2)
    finally:
        await probe.close()
        recorder.finish()
    assert recorder.run_dir is not None
    results = list(RunStore.open(recorder.run_dir).results())
    assert [(r.info.case_id, r.verdict) for r in results] == [
        (PROBE_CASE_ID, Verdict.PASS),
        (PROBE_CASE_ID, Verdict.FAIL),
    ]
    failed = results[1]
    assert failed.info.devices[0].id == "CP9 #2"
    [check] = failed.checks
    assert check.requirement.id == "SEC-SERVER-CERT"
    assert "accepted the untrusted certificate" in check.actual
