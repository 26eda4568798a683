"""TLS (wss://) on both sides, with a throwaway self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from harness.transport import OcppSubprotocol, TransportError, connect_ocpp
from tests.tls_helpers import self_signed
from tests.transport.helpers import WAIT_S, running_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(cert.pem, key.pem)`` for a CSMS at 127.0.0.1, self-signed."""
    return self_signed(tmp_path_factory.mktemp("tls"), common_name="ocpp-harness test CSMS")


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
