"""Test certificates: what they contain (OCPP A00 rules), file modes, and the CLI."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.cli import main
from harness.security import CertificateError, create_station_certificate
from tests.security.conftest import NOW, Lab


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def names(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


def test_station_certificate_subject_key_and_issuer(lab: Lab) -> None:
    cert = load(lab.cp1.cert_file)
    assert names(cert, NameOID.COMMON_NAME) == ["CP1"]
    assert names(cert, NameOID.ORGANIZATION_NAME) == ["ACME CSO"]
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"  # ≥ 224-bit EC: OCPP's minimum strength
    assert cert.issuer == load(lab.ca.cert_file).subject
    cert.verify_directly_issued_by(load(lab.ca.cert_file))
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_server_certificate_names_loopback(lab: Lab) -> None:
    cert = load(lab.server.cert_file)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    cert.verify_directly_issued_by(load(lab.ca.cert_file))
    assert load(lab.ca.cert_file).extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_private_keys_are_owner_only(lab: Lab) -> None:
    for pair in (lab.ca, lab.server, lab.cp1, lab.cp2):
        assert stat.S_IMODE(pair.key_file.stat().st_mode) == 0o600
        assert "PRIVATE KEY" in pair.key_file.read_text()


def test_library_errors(tmp_path: Path, lab: Lab) -> None:
    with pytest.raises(CertificateError, match="no test CA"):
        create_station_certificate(tmp_path, "CP1", now=NOW)
    with pytest.raises(CertificateError, match="already exist"):
        create_station_certificate(lab.folder, "CP1", now=NOW)
    with pytest.raises(CertificateError, match="station id 'bad/id'"):
        create_station_certificate(lab.folder, "bad/id", now=NOW)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_init_and_station(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "certs"
    code, out, _ = run(
        [
            "certs",
            "init",
            str(folder),
            "--ca-name",
            "Lab CA",
            "--server-host",
            "csms.lab",
            "--server-host",
            "10.0.0.5",
        ],
        capsys,
    )
    assert code == 0
    for name in ("ca.pem", "ca.key", "server.pem", "server.key"):
        assert str(folder / name) in out
    assert names(load(folder / "ca.pem"), NameOID.COMMON_NAME) == ["Lab CA"]
    sans = (
        load(folder / "server.pem")
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert "csms.lab" in sans.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("10.0.0.5") in sans.get_values_for_type(x509.IPAddress)

    code, out, _ = run(["certs", "station", str(folder), "CP-7", "--org", "Lab CSO"], capsys)
    assert code == 0
    assert str(folder / "CP-7.pem") in out
    assert "mode 0600" in out
    cert = load(folder / "CP-7.pem")
    assert names(cert, NameOID.COMMON_NAME) == ["CP-7"]
    assert names(cert, NameOID.ORGANIZATION_NAME) == ["Lab CSO"]
    assert stat.S_IMODE((folder / "CP-7.key").stat().st_mode) == 0o600


def test_cli_does_not_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "certs"
    assert run(["certs", "init", str(folder)], capsys)[0] == 0
    ca_before = (folder / "ca.pem").read_bytes()
    code, _, err = run(["certs", "init", str(folder)], capsys)
    assert code == 1
    assert "already exist" in err
    assert "--force" in err
    assert (folder / "ca.pem").read_bytes() == ca_before
    assert run(["certs", "station", str(folder), "CP1"], capsys)[0] == 0
    station_before = (folder / "CP1.pem").read_bytes()
    code, _, err = run(["certs", "station", str(folder), "CP1"], capsys)
    assert code == 1
    assert "CP1.pem" in err
    assert (folder / "CP1.pem").read_bytes() == station_before

    assert run(["certs", "init", str(folder), "--force"], capsys)[0] == 0
    assert (folder / "ca.pem").read_bytes() != ca_before
    assert run(["certs", "station", str(folder), "CP1", "--force"], capsys)[0] == 0
    assert (folder / "CP1.pem").read_bytes() != station_before


def test_cli_init_refuses_when_only_the_server_files_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path.joinpath("server.pem").write_text("mine")
    code, _, err = run(["certs", "init", str(tmp_path)], capsys)
    assert code == 1
    assert "server.pem" in err
    assert not (tmp_path / "ca.pem").exists()  # nothing half-made


def test_cli_station_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["certs", "station", str(tmp_path), "CP1"], capsys)
    assert code == 1
    assert "no test CA" in err
    assert "ocpp-harness certs init" in err
    assert "Traceback" not in err
    assert run(["certs", "init", str(tmp_path)], capsys)[0] == 0
    code, _, err = run(["certs", "station", str(tmp_path), "a b"], capsys)
    assert code == 1
    assert "station id 'a b'" in err
    code, _, err = run(["certs", "station", str(tmp_path), "CP1", "--org", " "], capsys)
    assert code == 1
    assert "organization name" in err
