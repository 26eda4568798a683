"""Test certificates for OCPP security profiles 2 and 3: a CA, a CSMS server certificate,
and charging station client certificates, written as PEM files.

These are for labs and tests, never for production: keys are written unencrypted (mode
``0600``) and the CA key sits next to its certificate.

OCPP rules followed (OCPP 2.0.1 Part 2 §A00 "Certificate properties", which the 1.6
security whitepaper ed. 2 shares):

* keys give at least 112 bits of security — RSA ≥ 2048 bits or elliptic curve ≥ 224 bits;
  we use EC P-256 (``secp256r1``) with SHA-256 signatures, which every TLS 1.2 cipher suite
  OCPP lists for ECDSA (``TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`` …) can use;
* a Charging Station certificate's subject has ``CN`` = the station's identity (its serial
  number, as used in the connection URL) and ``O`` = the CSO's organization name: the CSMS
  checks both for security profile 3 (A00.FR.4xx, CSMS verification of the client
  certificate);
* the CSMS server certificate names the host the stations connect to (subjectAltName).

Files (in ``DIR``): ``ca.pem``/``ca.key``, ``server.pem``/``server.key`` and, per station,
``<station-id>.pem``/``<station-id>.key``; nothing existing is overwritten unless
``force=True``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_CERT",
    "CA_KEY",
    "DEFAULT_SERVER_HOSTS",
    "SERVER_CERT",
    "SERVER_KEY",
    "CertificateError",
    "CertificatePair",
    "create_ca",
    "create_server_certificate",
    "create_station_certificate",
    "station_files",
]

CA_CERT: Final = "ca.pem"
CA_KEY: Final = "ca.key"
SERVER_CERT: Final = "server.pem"
SERVER_KEY: Final = "server.key"
DEFAULT_SERVER_HOSTS: Final = ("localhost", "127.0.0.1", "::1")
DEFAULT_VALIDITY: Final = timedelta(days=825)
# Station ids become file names; the OCPP identity is at most 48 characters (identifierString
# in 2.0.1, CiString in 1.6) and must survive a URL path and an X.509 CN (≤ 64 characters).
_STATION_ID = re.compile(r"^[A-Za-z0-9._:*+@|=-]{1,48}$")


class CertificateError(Exception):
    """A certificate could not be made: bad input, missing CA, or a file already there."""


@dataclass(frozen=True, slots=True)
class CertificatePair:
    """Where one certificate and its private key were written."""

    cert_file: Path
    key_file: Path


def station_files(directory: Path | str, station_id: str) -> CertificatePair:
    """The file names :func:`create_station_certificate` uses for ``station_id``."""
    folder = Path(directory)
    return CertificatePair(folder / f"{station_id}.pem", folder / f"{station_id}.key")


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _check_free(paths: Sequence[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise CertificateError(
            f"{', '.join(existing)} already exist(s); pass --force (force=True) to overwrite"
        )


def _write(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, pair: CertificatePair) -> None:
    pair.cert_file.parent.mkdir(parents=True, exist_ok=True)
    pair.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created 0600 from the start (never briefly world-readable); an overwritten file is
    # re-moded too.
    fd = os.open(pair.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(pair.key_file, 0o600)


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_file, key_file = directory / CA_CERT, directory / CA_KEY
    if not cert_file.exists() or not key_file.exists():
        raise CertificateError(
            f"{directory}: no test CA ({CA_CERT}, {CA_KEY}); run `ocpp-harness certs init "
            f"{directory}` first"
        )
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except ValueError as exc:
        raise CertificateError(f"{directory}: cannot read the CA files: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError(f"{key_file}: expected an EC private key")
    return cert, key


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + DEFAULT_VALIDITY)
    )


def create_ca(
    directory: Path | str,
    *,
    now: datetime,
    ca_name: str = "ocpp-harness test CA",
    force: bool = False,
) -> CertificatePair:
    """Write a self-signed test CA (``ca.pem``, ``ca.key``) into ``directory``.

    ``now`` is the start of validity (pass the clock's time; certificates are valid from an
    hour before it for 825 days).
    """
    folder = Path(directory)
    pair = CertificatePair(folder / CA_CERT, folder / CA_KEY)
    _check_free([pair.cert_file, pair.key_file], force)
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    cert = (
        _builder(name, name, key, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(cert, key, pair)
    return pair


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def create_server_certificate(
    directory: Path | str,
    *,
    now: datetime,
    hosts: Sequence[str] = (),
    org: str | None = None,
    force: bool = False,
) -> CertificatePair:
    """Write the CSMS certificate (``server.pem``, ``server.key``) signed by the test CA.

    Its subjectAltName holds ``localhost``, ``127.0.0.1``, ``::1`` and any extra ``hosts``
    (names or IP addresses); CN is the first of them.
    """
    folder = Path(directory)
    ca_cert, ca_key = _load_ca(folder)
    pair = CertificatePair(folder / SERVER_CERT, folder / SERVER_KEY)
    _check_free([pair.cert_file, pair.key_file], force)
    names = list(dict.fromkeys([*DEFAULT_SERVER_HOSTS, *hosts]))
    for host in names:
        if not host or any(c.isspace() for c in host):
            raise CertificateError(f"server host {host!r} is not a host name or IP address")
    key = _new_key()
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, names[0])]
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    cert = (
        _builder(x509.Name(attributes), ca_cert.subject, key, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_alt_name(h) for h in names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(cert, key, pair)
    return pair


def create_station_certificate(
    directory: Path | str,
    station_id: str,
    *,
    now: datetime,
    org: str = "ocpp-harness test CSO",
    force: bool = False,
) -> CertificatePair:
    """Write ``<station_id>.pem``/``.key``: a client certificate signed by the test CA.

    Subject: ``CN=<station_id>, O=<org>`` (the CSMS checks CN against the identity in the URL
    for security profile 3; ``org`` is the CSO's organization name).
    """
    if not _STATION_ID.match(station_id):
        raise CertificateError(
            f"station id {station_id!r}: expected 1–48 characters of letters, digits and "
            "._:*+@|=- (it names the files and the certificate's CN)"
        )
    if not org.strip():
        raise CertificateError("org: the organization name (O) must not be empty")
    folder = Path(directory)
    ca_cert, ca_key = _load_ca(folder)
    pair = station_files(folder, station_id)
    _check_free([pair.cert_file, pair.key_file], force)
    key = _new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, station_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )
    cert = (
        _builder(subject, ca_cert.subject, key, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(cert, key, pair)
    return pair
