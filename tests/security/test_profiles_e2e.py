"""Security profiles 1–3 end to end on loopback: who is admitted, who is refused, and how."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from harness.security import (
    SERVER_CLOSED_TLS,
    ProfileLevel,
    SecurityProfile,
    basic_auth_header,
    client_ssl_context,
    connect_options,
    serve_options,
    server_ssl_context,
    tls_refusal,
)
from harness.transport import HandshakeRefused, OcppSubprotocol, TransportError, connect_ocpp
from tests.security.conftest import OTHER_PASSWORD, PASSWORD, Lab
from tests.transport.helpers import WAIT_S, running_server


def csms(level: int, lab: Lab) -> SecurityProfile:
    return SecurityProfile(
        profile=ProfileLevel(level),
        passwords={"CP1": PASSWORD, "CP2": OTHER_PASSWORD},
        ca_file=lab.ca.cert_file,
        server_cert_file=lab.server.cert_file,
        server_key_file=lab.server.key_file,
    )


def station(level: int, lab: Lab, **changes: Any) -> SecurityProfile:
    fields: dict[str, Any] = {
        "profile": ProfileLevel(level),
        "station_id": "CP1",
        "password": PASSWORD,
        "ca_file": lab.ca.cert_file,
        "client_cert_file": lab.cp1.cert_file,
        "client_key_file": lab.cp1.key_file,
    }
    fields.update(changes)
    return SecurityProfile(**fields)


async def exchange(url: str, accepted: Any, **options: Any) -> None:
    """Connect, send one frame, and see it arrive at the CSMS."""
    async with connect_ocpp(url, open_timeout_s=WAIT_S, **options) as client:
        server_side = await accepted.next()
        await client.send('[2,"1","Heartbeat",{}]')
        async with asyncio.timeout(WAIT_S):
            assert await server_side.recv() == '[2,"1","Heartbeat",{}]'
        assert server_side.station_id == "CP1"


async def refused(url: str, **options: Any) -> BaseException:
    with pytest.raises(TransportError) as info:
        await connect_ocpp(url, open_timeout_s=WAIT_S, **options)
    return info.value


# ------------------------------------------------------------------ profile 0 and 1


async def test_profile_0_admits_anyone_over_ws(lab: Lab) -> None:
    async with running_server(**serve_options(csms(0, lab))) as (server, accepted):
        assert server.url("CP1").startswith("ws://")
        await exchange(server.url("CP1"), accepted, **connect_options(station(0, lab)))


async def test_profile_1_right_password_is_accepted(lab: Lab) -> None:
    async with running_server(**serve_options(csms(1, lab))) as (server, accepted):
        assert server.url("CP1").startswith("ws://")
        await exchange(server.url("CP1"), accepted, **connect_options(station(1, lab)))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (basic_auth_header("CP1", OTHER_PASSWORD), "wrong password for station 'CP1'"),
        (basic_auth_header("CP2", OTHER_PASSWORD), "user is not the station id 'CP1'"),
        # issue #16: the password put in the user field is not echoed in the 401 body
        (basic_auth_header(PASSWORD, "CP1"), "user is not the station id 'CP1'"),
        ({"Authorization": f"{PASSWORD} abc"}, "is not Basic"),
        ({}, "no Authorization header"),
        ({"Authorization": "Bearer abc"}, "is not Basic"),
        ({"Authorization": "Basic !!!"}, "not valid base64"),
        (basic_auth_header("CP1", PASSWORD[:-1]), "wrong password"),
        (basic_auth_header("CP1", PASSWORD + "x"), "wrong password"),
    ],
)
async def test_profile_1_refuses_with_401(lab: Lab, headers: dict[str, str], reason: str) -> None:
    async with running_server(**serve_options(csms(1, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), extra_headers=headers)
    assert isinstance(error, HandshakeRefused)
    assert error.status_code == 401
    assert reason in error.reason
    assert PASSWORD not in str(error)
    assert OTHER_PASSWORD not in str(error)
    assert tls_refusal(error) is None
    assert accepted.calls == 0


async def test_profile_1_unknown_station_is_refused(lab: Lab) -> None:
    async with running_server(**serve_options(csms(1, lab))) as (server, accepted):
        error = await refused(server.url("CP9"), extra_headers=basic_auth_header("CP9", PASSWORD))
    assert isinstance(error, HandshakeRefused)
    assert error.status_code == 401
    assert accepted.calls == 0


# ------------------------------------------------------------------ profile 2


async def test_profile_2_accepted_with_the_ca(lab: Lab) -> None:
    async with running_server(**serve_options(csms(2, lab))) as (server, accepted):
        assert server.url("CP1").startswith("wss://127.0.0.1:")
        await exchange(
            server.url("CP1"),
            accepted,
            subprotocols=[OcppSubprotocol.V201],
            **connect_options(station(2, lab)),
        )


async def test_profile_2_wrong_password_over_tls_gets_401(lab: Lab) -> None:
    options = connect_options(station(2, lab, password=OTHER_PASSWORD))
    async with running_server(**serve_options(csms(2, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), **options)
    assert isinstance(error, HandshakeRefused)
    assert error.status_code == 401
    assert accepted.calls == 0


async def test_a_station_that_does_not_trust_the_server_refuses_correctly(
    lab: Lab, rogue_lab: Lab
) -> None:
    # The station trusts only the rogue CA: the CSMS's certificate is untrusted to it.
    distrustful = station(2, lab, ca_file=rogue_lab.ca.cert_file)
    async with running_server(**serve_options(csms(2, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), **connect_options(distrustful))
    assert tls_refusal(error) == "CERTIFICATE_VERIFY_FAILED"
    assert accepted.calls == 0


async def test_profile_2_server_refuses_plain_ws_clients(lab: Lab) -> None:
    # A CSMS configured for profile 2 but reached without TLS (a mis-wired proxy) refuses.
    profile = csms(2, lab)
    options = serve_options(profile)
    options["ssl"] = None
    async with running_server(**options) as (server, _accepted):
        error = await refused(server.url("CP1"), extra_headers=basic_auth_header("CP1", PASSWORD))
    assert isinstance(error, HandshakeRefused)
    assert error.status_code == 401
    assert "requires TLS" in error.reason


# ------------------------------------------------------------------ profile 3


async def test_profile_3_accepted_with_a_station_certificate_of_the_ca(lab: Lab) -> None:
    async with running_server(**serve_options(csms(3, lab))) as (server, accepted):
        await exchange(server.url("CP1"), accepted, **connect_options(station(3, lab)))


async def test_profile_3_refuses_a_certificate_from_another_ca(lab: Lab, rogue_lab: Lab) -> None:
    rogue = station(
        3, lab, client_cert_file=rogue_lab.cp1.cert_file, client_key_file=rogue_lab.cp1.key_file
    )
    async with running_server(**serve_options(csms(3, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), **connect_options(rogue))
    assert tls_refusal(error) == SERVER_CLOSED_TLS  # the server refused, not the station
    assert accepted.calls == 0


@pytest.mark.parametrize("tls_max", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_profile_3_refusal_is_seen_as_tls_with_either_tls_version(
    lab: Lab, rogue_lab: Lab, tls_max: ssl.TLSVersion
) -> None:
    rogue = station(
        3, lab, client_cert_file=rogue_lab.cp1.cert_file, client_key_file=rogue_lab.cp1.key_file
    )
    options = connect_options(rogue)
    options["ssl"].maximum_version = tls_max
    async with running_server(**serve_options(csms(3, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), **options)
    assert tls_refusal(error) == SERVER_CLOSED_TLS
    assert accepted.calls == 0


async def test_tls_refusal_is_none_for_a_closed_port_and_for_http_refusals(lab: Lab) -> None:
    async with running_server(**serve_options(csms(2, lab))) as (server, _):
        url = server.url("CP1")
    error = await refused(url, **connect_options(station(2, lab)))  # nobody listens now
    assert tls_refusal(error) is None
    assert tls_refusal(HandshakeRefused(url, "wrong password", status_code=401)) is None


@pytest.mark.parametrize("level", [2, 3])
def test_both_sides_allow_tls_1_2_or_newer_only(lab: Lab, level: int) -> None:
    # A00.FR.313: TLS 1.2 or above only. (A client that offers only TLS 1.0/1.1 cannot even
    # be built with this OpenSSL's security level, so this is checked on the contexts.)
    server = server_ssl_context(csms(level, lab))
    client = client_ssl_context(station(level, lab))
    assert server is not None
    assert client is not None
    assert server.minimum_version is ssl.TLSVersion.TLSv1_2
    assert client.minimum_version is ssl.TLSVersion.TLSv1_2
    assert client.verify_mode is ssl.CERT_REQUIRED
    assert client.check_hostname
    expected = ssl.CERT_REQUIRED if level == 3 else ssl.CERT_NONE
    assert server.verify_mode is expected


def test_profiles_0_and_1_have_no_tls(lab: Lab) -> None:
    for level in (0, 1):
        assert server_ssl_context(csms(level, lab)) is None
        assert client_ssl_context(station(level, lab)) is None


async def test_profile_3_refuses_a_station_without_a_certificate(lab: Lab) -> None:
    # Profile 2's client context: trusts the CA, presents no certificate.
    context = client_ssl_context(station(2, lab))
    async with running_server(**serve_options(csms(3, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), ssl=context)
    assert tls_refusal(error) == SERVER_CLOSED_TLS
    assert accepted.calls == 0


async def test_profile_3_refuses_the_certificate_of_another_station(lab: Lab) -> None:
    other = station(3, lab, client_cert_file=lab.cp2.cert_file, client_key_file=lab.cp2.key_file)
    async with running_server(**serve_options(csms(3, lab))) as (server, accepted):
        error = await refused(server.url("CP1"), **connect_options(other))
    assert isinstance(error, HandshakeRefused)
    assert error.status_code == 401
    assert "CN CP2 is not the station id 'CP1'" in error.reason
    assert accepted.calls == 0
