"""The CSMS side sees failed TLS handshakes (asyncio drops them): the evidence for judging
a station that refused our certificate, or one we refused."""

from __future__ import annotations

import asyncio
import socket
import ssl

from harness.security import client_ssl_context, connect_options, serve_options
from harness.transport import TransportError, connect_ocpp
from tests.security.conftest import Lab
from tests.security.test_profiles_e2e import csms, station
from tests.transport.helpers import WAIT_S, running_server


class Failures:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.seen = asyncio.Event()

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)
        self.seen.set()

    async def first(self) -> str:
        async with asyncio.timeout(WAIT_S):
            await self.seen.wait()
        return self.reasons[0]


async def attempt(url: str, **options: object) -> BaseException:
    try:
        await connect_ocpp(url, open_timeout_s=WAIT_S, **options)  # type: ignore[arg-type]
    except TransportError as exc:
        return exc
    raise AssertionError("the connection was expected to fail")


def blocking_tls_connect(port: int, context: ssl.SSLContext) -> str:
    """A station on a blocking OpenSSL socket (as embedded stacks are): it sends its alert
    before closing, where an asyncio client just drops the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as raw:
        try:
            context.wrap_socket(raw, server_hostname="127.0.0.1").close()
        except ssl.SSLCertVerificationError as exc:
            return str(exc.reason)
    raise AssertionError("the station accepted a certificate it does not trust")


async def test_server_sees_a_station_refusing_its_certificate(lab: Lab, rogue_lab: Lab) -> None:
    failures = Failures()
    distrustful = client_ssl_context(station(2, lab, ca_file=rogue_lab.ca.cert_file))
    assert distrustful is not None
    options = serve_options(csms(2, lab), on_tls_failure=failures)
    async with running_server(**options) as (server, accepted):
        station_reason = await asyncio.to_thread(blocking_tls_connect, server.port, distrustful)
        reason = await failures.first()
    assert station_reason == "CERTIFICATE_VERIFY_FAILED"
    assert reason in ("TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE")
    assert accepted.calls == 0


async def test_server_sees_why_it_refused_a_station(lab: Lab, rogue_lab: Lab) -> None:
    rogue = station(
        3, lab, client_cert_file=rogue_lab.cp1.cert_file, client_key_file=rogue_lab.cp1.key_file
    )
    bare = client_ssl_context(station(2, lab))  # trusts the CA, sends no certificate
    for client_ssl, expected in (
        (connect_options(rogue)["ssl"], "CERTIFICATE_VERIFY_FAILED"),
        (bare, "PEER_DID_NOT_RETURN_A_CERTIFICATE"),
    ):
        failures = Failures()
        options = serve_options(csms(3, lab), on_tls_failure=failures)
        async with running_server(**options) as (server, accepted):
            await attempt(server.url("CP1"), ssl=client_ssl)
            assert await failures.first() == expected
        assert accepted.calls == 0


async def test_successful_handshakes_report_nothing(lab: Lab) -> None:
    failures = Failures()
    options = serve_options(csms(3, lab), on_tls_failure=failures)
    async with (
        running_server(**options) as (server, accepted),
        connect_ocpp(server.url("CP1"), **connect_options(station(3, lab))),
    ):
        await accepted.next()
    assert failures.reasons == []
    assert isinstance(options["ssl"], ssl.SSLContext)
