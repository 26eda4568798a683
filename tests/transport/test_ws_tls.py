"""TLS (wss://) on both sides, with a throwaway self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.transport import OcppSubprotocol, TransportError, connect_ocpp
from tests.transport.helpers import WAIT_S, running_server

# A fixed validity window around a fixed date keeps the certificate independent of the clock
# except for the check the TLS library itself makes, which the window comfortably covers.
NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
NOT_AFTER = NOT_BEFORE + timedelta(days=365 * 50)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(cert.pem, key.pem)`` for a CSMS at 127.0.0.1, self-signed."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ocpp-harness test CSMS")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


async def test_wss_connection_with_a_trusted_certificate(certificate: tuple[Path, Path]) -> None:
    cert_path, key_path = certificate
    trusting = ssl.create_default_context(cafile=str(cert_path))
    async with running_server(ssl=server_context(cert_path, key_path)) as (server, accepted):
        url = server.url("CP1")
        assert url.startswith("wss://127.0.0.1:")
        async with connect_ocpp(url, ssl=trusting, subprotocols=[OcppSubprotocol.V201]) as client:
            csms = await accepted.next()
            await client.send('[2,"1","Heartbeat",{}]')
            async with asyncio.timeout(WAIT_S):
                assert await csms.recv() == '[2,"1","Heartbeat",{}]'
            assert client.subprotocol is OcppSubprotocol.V201


async def test_untrusted_server_certificate_fails_the_connection(
    certificate: tuple[Path, Path],
) -> None:
    cert_path, key_path = certificate
    trusting_nobody = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts no CA
    async with running_server(ssl=server_context(cert_path, key_path)) as (server, accepted):
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            await connect_ocpp(server.url("CP1"), ssl=trusting_nobody, open_timeout_s=WAIT_S)
    assert accepted.calls == 0


def test_ssl_context_with_a_ws_url_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="incompatible with a ws:// URL"):
        connect_ocpp("ws://127.0.0.1:1/CP1", ssl=ssl.create_default_context())
