"""Security profiles 1–3 through the lab server and the station simulator, on loopback with
generated certificates: the right station runs its case, the wrong ones are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.clock import ScaledClock
from harness.lab import LabPlan, LabServer
from harness.results import RunStore, Verdict
from harness.runner import AutoOperator, PlannedCase, RunOptions
from harness.scenario import load_capabilities, load_case_file, resolve_parameters
from harness.security import ProfileLevel, SecurityProfile, connect_options, tls_refusal
from harness.transport import HandshakeRefused, TransportError
from harness.versions import OcppVersion
from simulators.station.config import StationConfig
from simulators.station.runtime import SimulatedStation
from tests.security.conftest import OTHER_PASSWORD, PASSWORD, Lab, make_lab

HERE = Path(__file__).parent
CASE = """
id: SEC_RUN
title: an admitted station runs its case
suite: lab-test
ocpp_versions: ["1.6"]
dut_role: station
requirements: [{id: R1, level: MUST, text: a profile can be cleared}]
steps:
  - kind: clear_profile
    requirement: R1
    expect: {status: {one_of: [Accepted, Unknown]}}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def rogue(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_lab(tmp_path_factory.mktemp("rogue"))


def _station(level: int, trust: Lab, certs: Lab | None, **changes: Any) -> SecurityProfile:
    fields: dict[str, Any] = {
        "profile": ProfileLevel(level),
        "station_id": "CP1",
        "password": PASSWORD,
        "ca_file": trust.ca.cert_file,
        "client_cert_file": None if certs is None else certs.cp1.cert_file,
        "client_key_file": None if certs is None else certs.cp1.key_file,
    }
    return SecurityProfile(**{**fields, **changes})


async def _attempt(url: str, profile: SecurityProfile) -> BaseException:
    station = SimulatedStation(
        StationConfig(station_id="CP1", ocpp_version=OcppVersion.V16), clock=ScaledClock()
    )
    with pytest.raises((TransportError, OSError)) as caught:
        await asyncio.wait_for(station.connect(url, **connect_options(profile)), 10)
    return caught.value


@pytest.mark.parametrize("level", [1, 2, 3])
async def test_profile_admits_the_right_station_and_refuses_the_others(
    level: int, lab: Lab, rogue: Lab, tmp_path: Path
) -> None:
    csms = SecurityProfile(
        profile=ProfileLevel(level),
        passwords={"CP1": PASSWORD, "CP2": OTHER_PASSWORD},
        ca_file=lab.ca.cert_file,
        server_cert_file=lab.server.cert_file,
        server_key_file=lab.server.key_file,
    )
    (tmp_path / "case.yaml").write_text(CASE)
    cases = load_case_file(tmp_path / "case.yaml")
    caps = load_capabilities(HERE / "sim-station.yaml")
    lines: list[str] = []
    server = LabServer(
        LabPlan(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            capabilities=lambda sid: caps,
            out=tmp_path / "runs",
            options=RunOptions(connect_timeout_s=None, boot_wait_s=5),
            secrets=csms.secrets(),
            station_limit=1,
        ),
        clock=ScaledClock(),
        operators=lambda sid: AutoOperator(),
        echo=lines.append,
        security=csms,
    )
    await server.start()
    url = f"{server.url}/CP1"
    assert url.startswith("wss://" if level >= 2 else "ws://")
    try:
        # The refusals first: none of them may start a run.
        if level in (1, 2):
            wrong = await _attempt(url, _station(level, lab, None, password=OTHER_PASSWORD))
            assert isinstance(wrong, HandshakeRefused)
            assert wrong.status_code == 401
            assert "wrong password for station 'CP1'" in str(wrong)
        if level == 3:
            # An untrusted client certificate, or none (TLS without one: profile 2's side).
            for attempt in (_station(3, lab, rogue), _station(2, lab, None)):
                error = await _attempt(url, attempt)
                assert tls_refusal(error) is not None
        if level >= 2:
            # The station refuses a CSMS whose certificate it does not trust: correct.
            distrust = await _attempt(url, _station(level, rogue, lab))
            assert tls_refusal(distrust) == "CERTIFICATE_VERIFY_FAILED"
        assert server.runs == {}
        # The right station is admitted and runs its case.
        good = SimulatedStation(
            StationConfig(station_id="CP1", ocpp_version=OcppVersion.V16), clock=ScaledClock()
        )
        task = asyncio.create_task(good.connect(url, **connect_options(_station(level, lab, lab))))
        await asyncio.wait_for(server.wait_done(), 20)
        await good.stop()
        await asyncio.wait_for(task, 10)
    finally:
        await server.close()
    run = server.runs["CP1"]
    assert run.run_dir is not None
    assert [r.verdict for r in RunStore.open(run.run_dir).results()] == [Verdict.PASS]
    # What the lab showed and kept of the refusals.
    layers = [(r.station_id, r.layer) for r in server.refusals]
    if level in (1, 2):
        assert ("CP1", "HTTP 401") in layers
        assert any("refused (HTTP 401): wrong password for station 'CP1'" in x for x in lines)
    if level == 3:
        tls = [r.reason for r in server.refusals if r.layer == "TLS"]
        assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in tls
        assert any("CERTIFICATE" in reason or "UNKNOWN_CA" in reason for reason in tls)
    assert not any(PASSWORD in x or OTHER_PASSWORD in x for x in lines)


async def test_simulate_command_with_profile_3_and_a_certificate_per_station(
    lab: Lab, tmp_path: Path
) -> None:
    """``simulate --security-profile 3 --cert 'DIR/{id}.pem'``: two stations, each with its
    own certificate, admitted by a profile-3 lab server and run."""
    (tmp_path / "case.yaml").write_text(CASE)
    cases = load_case_file(tmp_path / "case.yaml")
    caps = load_capabilities(HERE / "sim-station.yaml")
    csms = SecurityProfile(
        profile=ProfileLevel.TLS_CLIENT_CERT,
        ca_file=lab.ca.cert_file,
        server_cert_file=lab.server.cert_file,
        server_key_file=lab.server.key_file,
    )
    server = LabServer(
        LabPlan(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            capabilities=lambda sid: caps,
            out=tmp_path / "runs",
            options=RunOptions(connect_timeout_s=None, boot_wait_s=5),
            station_limit=2,
        ),
        clock=ScaledClock(),
        operators=lambda sid: AutoOperator(),
        echo=lambda line: None,
        security=csms,
    )
    await server.start()
    argv = [
        "simulate", "--csms", server.url, "--stations", "2", "--id-prefix", "CP",
        "--no-auto-start", "--meter-interval", "0", "--security-profile", "3",
        "--ca", str(lab.ca.cert_file), "--cert", str(lab.folder / "{id}.pem"),
        "--key", str(lab.folder / "{id}.key"),
    ]  # fmt: skip
    try:
        simulate = asyncio.create_task(asyncio.to_thread(main, argv))
        await asyncio.wait_for(server.wait_done(), 30)
        assert await asyncio.wait_for(simulate, 20) == 0
    finally:
        await server.close()
    assert sorted(server.runs) == ["CP1", "CP2"]
    for run in server.runs.values():
        assert run.run_dir is not None
        assert [r.verdict for r in RunStore.open(run.run_dir).results()] == [Verdict.PASS]
    assert server.refusals == []
