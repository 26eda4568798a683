"""SecurityProfile: validation, what each side lacks, Basic header, the authorizer's rules."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from websockets.datastructures import Headers

from harness.security import (
    MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
    ProfileLevel,
    SecurityProfile,
    SecurityProfileError,
    authorization_key_hex,
    basic_auth_header,
    csms_authorizer,
    password_problem,
    server_ssl_context,
)
from harness.transport import HandshakeRequest
from tests.security.conftest import PASSWORD, Lab


def test_basic_auth_header_is_rfc_7617() -> None:
    header = basic_auth_header("CP1", "p:ss word")
    assert header == {"Authorization": "Basic " + base64.b64encode(b"CP1:p:ss word").decode()}


@pytest.mark.parametrize(
    ("length", "ok"),
    [
        (MIN_PASSWORD_CHARS - 1, False),
        (MIN_PASSWORD_CHARS, True),
        (MAX_PASSWORD_CHARS, True),
        (MAX_PASSWORD_CHARS + 1, False),
    ],
)
def test_password_length_bounds(length: int, ok: bool) -> None:
    assert (password_problem("a" * length) is None) is ok
    if not ok:
        with pytest.raises(SecurityProfileError, match="16–40 characters"):
            SecurityProfile(profile=ProfileLevel.BASIC, station_id="CP1", password="a" * length)


def test_control_characters_and_bad_level_are_refused() -> None:
    assert password_problem("a" * 20 + "\n") == "must not contain control characters"
    with pytest.raises(SecurityProfileError, match=r"passwords\['CP1'\]"):
        SecurityProfile(profile=ProfileLevel.BASIC, passwords={"CP1": "short"})
    with pytest.raises(SecurityProfileError, match="expected 0, 1, 2 or 3"):
        SecurityProfile(profile=4)  # type: ignore[arg-type]


def test_passwords_stay_out_of_repr_and_are_listed_as_secrets() -> None:
    profile = SecurityProfile(
        profile=ProfileLevel.BASIC,
        station_id="CP1",
        password=PASSWORD,
        passwords={"CP2": PASSWORD + "2"},
    )
    assert PASSWORD not in repr(profile)
    assert set(profile.secrets()) == {PASSWORD, PASSWORD + "2"}
    assert profile.profile is ProfileLevel.BASIC


@pytest.mark.parametrize(
    ("profile", "side", "missing"),
    [
        (SecurityProfile(profile=ProfileLevel.BASIC), "server", "passwords"),
        (SecurityProfile(profile=ProfileLevel.BASIC), "client", "station_id, password"),
        (
            SecurityProfile(profile=ProfileLevel.TLS_BASIC, station_id="C", password=PASSWORD),
            "client",
            "ca_file",
        ),
        (
            SecurityProfile(profile=ProfileLevel.TLS_CLIENT_CERT),
            "server",
            "server_cert_file, server_key_file, ca_file",
        ),
        (
            SecurityProfile(profile=ProfileLevel.TLS_CLIENT_CERT, ca_file=Path("ca.pem")),
            "client",
            "client_cert_file, client_key_file",
        ),
    ],
)
def test_missing_pieces_are_named(profile: SecurityProfile, side: str, missing: str) -> None:
    check = profile.check_server if side == "server" else profile.check_client
    with pytest.raises(SecurityProfileError, match=missing):
        check()


def test_unreadable_files_give_a_clear_error(tmp_path: Path, lab: Lab) -> None:
    profile = SecurityProfile(
        profile=ProfileLevel.TLS_BASIC,
        passwords={"CP1": PASSWORD},
        server_cert_file=tmp_path / "nope.pem",
        server_key_file=lab.server.key_file,
    )
    with pytest.raises(SecurityProfileError, match="server certificate: cannot load"):
        server_ssl_context(profile)


def request(
    headers: dict[str, str], *, tls: bool = False, cn: str | None = None
) -> HandshakeRequest:
    peer = (
        None if cn is None else {"subject": ((("commonName", cn),), (("organizationName", "O"),))}
    )
    return HandshakeRequest("CP1", Headers(headers), tls, peer, ("127.0.0.1", 1))


def test_authorizer_rules_without_a_network() -> None:
    basic = csms_authorizer(
        SecurityProfile(profile=ProfileLevel.BASIC, passwords={"CP1": PASSWORD})
    )
    assert basic(request(basic_auth_header("CP1", PASSWORD))) is None
    assert basic(request({"Authorization": "Basic " + base64.b64encode(b"CP1").decode()})) == (
        "Authorization Basic credentials have no ':' between user and password"
    )
    two = Headers()
    two["Authorization"] = basic_auth_header("CP1", PASSWORD)["Authorization"]
    two["Authorization"] = basic_auth_header("CP1", PASSWORD)["Authorization"]
    assert basic(HandshakeRequest("CP1", two, False, None, None)) == (
        "more than one Authorization header"
    )
    cert = csms_authorizer(
        SecurityProfile(
            profile=ProfileLevel.TLS_CLIENT_CERT,
            ca_file=Path("ca.pem"),
            server_cert_file=Path("s.pem"),
            server_key_file=Path("s.key"),
        )
    )
    assert cert(request({}, tls=True, cn="CP1")) is None
    assert cert(request({}, tls=True, cn="CP2")) == (
        "client certificate CN CP2 is not the station id 'CP1'"
    )
    assert (
        cert(request({}, tls=True)) == "security profile 3 requires a verified client certificate"
    )
    assert cert(request({}, tls=False, cn="CP1")) == "security profile 3 requires TLS (wss://)"
    none = csms_authorizer(SecurityProfile())
    assert none(request({})) is None


def test_authorization_key_hex_for_ocpp_16() -> None:
    assert authorization_key_hex("0123456789abcdef") == b"0123456789abcdef".hex()
    assert len(authorization_key_hex("x" * 20)) == 40
    for bad in ("x" * 15, "x" * 21, "é" * 11):  # 22 bytes
        with pytest.raises(SecurityProfileError, match="16–20 bytes"):
            authorization_key_hex(bad)
