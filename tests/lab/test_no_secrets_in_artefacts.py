"""A whole lab run with security profile 2, through the command line: serve, one station
with the right password and one with a wrong one. Every artefact — the run folders, the
reports, every process's output at DEBUG with JSON logs — is searched for the passwords,
their Basic-auth tokens and the CSMS's private key; none may be there."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from harness.cli import main
from harness.results import RunStore, Verdict
from harness.security.options import PASSWORD_ENV
from tests.lab.processes import Child

HERE = Path(__file__).parent
PASSWORD = "Lab-secret-0123456789-pw"  # 24 characters
WRONG = "Not-the-password-987654321"


def _needles(key_file: Path) -> dict[str, str]:
    key_lines = [
        line for line in key_file.read_text().splitlines() if line and not line.startswith("-----")
    ]
    needles = {
        "password": PASSWORD,
        "password as AuthorizationKey": PASSWORD.encode().hex(),
        "wrong password": WRONG,
        "Basic token": base64.b64encode(f"LAB-OK1:{PASSWORD}".encode()).decode(),
        "wrong Basic token": base64.b64encode(f"LAB-BAD1:{WRONG}".encode()).decode(),
    }
    needles.update({f"private key line {i}": line for i, line in enumerate(key_lines)})
    return needles


# The password also goes over the wire: the case sets it as the station's AuthorizationKey
# (OCPP 1.6 security whitepaper: hex-encoded), so the trace has a frame that carries it.
CASE = f"""
id: SEC_KEY
title: the station accepts a new Basic-auth password
suite: lab-test
ocpp_versions: ["1.6"]
dut_role: station
requirements: [{{id: R1, level: MUST, text: ChangeConfiguration is answered}}]
steps:
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {{key: AuthorizationKey, value: "{PASSWORD.encode().hex()}"}}
    expect: {{status: {{one_of: [Accepted, Rejected, NotSupported, RebootRequired]}}}}
"""


async def test_no_password_or_private_key_in_any_artefact(tmp_path: Path) -> None:
    certs, out = tmp_path / "certs", tmp_path / "runs"
    (tmp_path / "case.yaml").write_text(CASE)
    assert main(["certs", "init", str(certs)]) == 0
    (tmp_path / "passwords.txt").write_text(f"# lab stations\nLAB-OK1 {PASSWORD}\n")
    debug = ("--log-level", "DEBUG", "--log-json")
    serve = await Child.start(
        *debug,
        "serve",
        str(tmp_path / "case.yaml"),
        "--port",
        "0",
        "--host",
        "localhost",
        "--capabilities",
        str(HERE / "sim-station.yaml"),
        "--stations",
        "1",
        "--out",
        str(out),
        "--security-profile",
        "2",
        "--password-file",
        str(tmp_path / "passwords.txt"),
        "--cert",
        str(certs / "server.pem"),
        "--key",
        str(certs / "server.key"),
        "--probe-untrusted-port",
        "0",
    )
    children = [serve]
    try:
        url = (await serve.wait_for_line(r" at (wss://\S+)/<station-id> \(", timeout_s=120)).group(
            1
        )
        probe = await serve.wait_for_line(r"probe at (wss://\S+)/<station-id>", timeout_s=60)
        common = (*debug, "simulate", "--csms", url, "--security-profile", "2", "--ca")
        common = (*common, str(certs / "ca.pem"), "--no-auto-start", "--meter-interval", "0")
        bad, good, careful = await asyncio.gather(
            Child.start(*common, "--id-prefix", "LAB-BAD", env={PASSWORD_ENV: WRONG}),
            Child.start(*common, "--id-prefix", "LAB-OK", env={PASSWORD_ENV: PASSWORD}),
            # The security probe: this station trusts only the lab CA, so it must refuse.
            Child.start(
                *common[:5],
                probe.group(1),
                *common[6:],
                "--id-prefix",
                "LAB-PROBE",
                env={PASSWORD_ENV: PASSWORD},
            ),
        )
        children += [bad, good, careful]
        assert await careful.wait(timeout_s=120) == 1, careful.output
        assert "TLS refused: CERTIFICATE_VERIFY_FAILED" in careful.output
        assert await bad.wait(timeout_s=120) == 1, bad.output  # refused every time
        assert "refused by the CSMS" in bad.output
        assert await serve.wait(timeout_s=180) == 0, serve.output
        assert await good.wait(timeout_s=120) == 0, good.output
    finally:
        for child in children:
            await child.stop()
    assert "[LAB-BAD1] refused (HTTP 401): wrong password for station 'LAB-BAD1'" in serve.output
    assert "SEC_KEY: PASS" in serve.output
    assert "[probe] a station at 127.0.0.1:" in serve.output
    probe_runs = [p for p in out.iterdir() if p.name.endswith("-untrusted-server-probe")]
    assert len(probe_runs) == 1
    assert {r.verdict for r in RunStore.open(probe_runs[0]).results()} == {Verdict.PASS}

    artefacts = {f"{' '.join(c.args[:4])} output": c.output for c in children}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "index.html" for p in files)
    assert any(p.suffix == ".jsonl" for p in files)
    artefacts.update({str(p): p.read_text(errors="replace") for p in files})
    # The password did go over the wire: its frame is in the trace, with the value hidden.
    traces = [text for name, text in artefacts.items() if "/traces/" in name]
    assert any("AuthorizationKey" in t and "«redacted»" in t for t in traces)
    for what, needle in _needles(certs / "server.key").items():
        for name, text in artefacts.items():
            assert needle not in text, f"{what} found in {name}"
