"""OCPP security profiles 0–3 as one small config, and the pieces each side needs.

========  ===========  ==================================  =========================
profile   transport    the station authenticates with      the CSMS authenticates with
========  ===========  ==================================  =========================
0         ``ws://``    nothing (labs only; not in OCPP)    nothing
1         ``ws://``    HTTP Basic (station id + password)  nothing
2         ``wss://``   HTTP Basic                          its server certificate
3         ``wss://``   client certificate (CN = id)        its server certificate
========  ===========  ==================================  =========================

CSMS side (the harness plays the CSMS)::

    server = serve_ocpp(handler, **serve_options(profile))

Station side (the simulator connects)::

    transport = await connect_ocpp(url, **connect_options(profile))

A refused station sees :class:`~harness.transport.HandshakeRefused` with HTTP 401 (Basic) or a
:class:`~harness.transport.TransportError` caused by a TLS alert (untrusted certificate);
:func:`tls_refusal` tells the two apart. Passwords are kept out of ``repr``.
"""

from __future__ import annotations

import base64
import hmac
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from harness.logs import get_logger
from harness.transport import HandshakeRequest, TransportError

__all__ = [
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "SERVER_CLOSED_TLS",
    "CsmsAuthorizer",
    "ProfileLevel",
    "SecurityProfile",
    "SecurityProfileError",
    "TlsFailureHook",
    "authorization_key_hex",
    "basic_auth_header",
    "client_ssl_context",
    "connect_options",
    "csms_authorizer",
    "password_problem",
    "serve_options",
    "server_ssl_context",
    "tls_refusal",
]

# OCPP 2.0.1 Part 2 A00.FR.205 / SecurityCtrlr.BasicAuthPassword: a passwordString of
# minimum 16 and maximum 40 characters. (The 1.6 security whitepaper's AuthorizationKey is
# 16–20 bytes, sent hex-encoded as 32–40 characters, which fits the same bounds.)
MIN_PASSWORD_CHARS: Final = 16
MAX_PASSWORD_CHARS: Final = 40


class ProfileLevel(IntEnum):
    """The security profile number (``SecurityCtrlr.SecurityProfile`` / 1.6 ``SecurityProfile``)."""

    NONE = 0
    BASIC = 1
    TLS_BASIC = 2
    TLS_CLIENT_CERT = 3


class SecurityProfileError(ValueError):
    """A :class:`SecurityProfile` is incomplete or inconsistent for what is asked of it."""


def password_problem(password: str) -> str | None:
    """Why ``password`` breaks the OCPP Basic-auth rules, or ``None`` if it is acceptable.

    A00.FR.205 (2.0.1): 16–40 characters; and the user-pass of RFC 7617 may not hold control
    characters.
    """
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        return (
            f"must be {MIN_PASSWORD_CHARS}–{MAX_PASSWORD_CHARS} characters long "
            f"(OCPP 2.0.1 A00.FR.205), got {len(password)}"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in password):
        return "must not contain control characters"
    return None


@dataclass(frozen=True)
class SecurityProfile:
    """Which profile, and the credentials and files it needs (unused fields stay ``None``).

    CSMS side: ``passwords`` (station id → password, profiles 1–2), ``server_cert_file`` and
    ``server_key_file`` (profiles 2–3), ``ca_file`` (profile 3: the CA that signs station
    certificates). Station side: ``station_id`` and ``password`` (profiles 1–2), ``ca_file``
    (profiles 2–3: the CA the station trusts), ``client_cert_file``/``client_key_file``
    (profile 3). :meth:`check_server` and :meth:`check_client` say what is missing.
    """

    profile: ProfileLevel = ProfileLevel.NONE
    station_id: str | None = None
    password: str | None = field(default=None, repr=False)
    passwords: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    ca_file: Path | None = None
    server_cert_file: Path | None = None
    server_key_file: Path | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "profile", ProfileLevel(self.profile))
        except ValueError:
            raise SecurityProfileError(
                f"security profile {self.profile!r}: expected 0, 1, 2 or 3"
            ) from None
        object.__setattr__(self, "passwords", MappingProxyType(dict(self.passwords)))
        for name in (
            "ca_file",
            "server_cert_file",
            "server_key_file",
            "client_cert_file",
            "client_key_file",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        for station_id, password in self.passwords.items():
            problem = password_problem(password)
            if problem:
                raise SecurityProfileError(f"passwords[{station_id!r}]: the password {problem}")
        if self.password is not None:
            problem = password_problem(self.password)
            if problem:
                raise SecurityProfileError(f"password: {problem}")

    @property
    def uses_tls(self) -> bool:
        """True for profiles 2 and 3 (``wss://``)."""
        return self.profile >= ProfileLevel.TLS_BASIC

    @property
    def uses_basic_auth(self) -> bool:
        """True for profiles 1 and 2."""
        return self.profile in (ProfileLevel.BASIC, ProfileLevel.TLS_BASIC)

    @property
    def scheme(self) -> str:
        """``"wss"`` or ``"ws"``."""
        return "wss" if self.uses_tls else "ws"

    def secrets(self) -> tuple[str, ...]:
        """Every password this profile holds: pass them to the redaction (logs, run store)."""
        found = [*self.passwords.values()]
        if self.password:
            found.append(self.password)
        return tuple(found)

    def check_server(self) -> None:
        """Raise :class:`SecurityProfileError` naming what the CSMS side lacks."""
        missing = []
        if self.uses_basic_auth and not self.passwords:
            missing.append("passwords (station id → password)")
        if self.uses_tls:
            missing += [n for n in ("server_cert_file", "server_key_file") if not getattr(self, n)]
        if self.profile is ProfileLevel.TLS_CLIENT_CERT and self.ca_file is None:
            missing.append("ca_file (the CA that signs station certificates)")
        if missing:
            raise SecurityProfileError(
                f"security profile {int(self.profile)} (CSMS side) needs {', '.join(missing)}"
            )

    def check_client(self) -> None:
        """Raise :class:`SecurityProfileError` naming what the station side lacks."""
        missing = []
        if self.uses_basic_auth:
            missing += [n for n in ("station_id", "password") if getattr(self, n) is None]
        if self.uses_tls and self.ca_file is None:
            missing.append("ca_file (the CA the station trusts)")
        if self.profile is ProfileLevel.TLS_CLIENT_CERT:
            missing += [n for n in ("client_cert_file", "client_key_file") if not getattr(self, n)]
        if missing:
            raise SecurityProfileError(
                f"security profile {int(self.profile)} (station side) needs {', '.join(missing)}"
            )


def _tls12_or_newer(context: ssl.SSLContext) -> ssl.SSLContext:
    # A00.FR.313 (2.0.1) / 1.6 security whitepaper: TLS 1.2 or above only; no compression.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def _load_chain(context: ssl.SSLContext, cert: Path, key: Path, what: str) -> None:
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise SecurityProfileError(f"{what}: cannot load {cert} / {key}: {exc}") from None


def _load_ca(context: ssl.SSLContext, ca_file: Path) -> None:
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SecurityProfileError(f"ca_file: cannot load {ca_file}: {exc}") from None


TlsFailureHook = Callable[[str], None]
"""Called with the OpenSSL reason (``"TLSV1_ALERT_UNKNOWN_CA"``, ``"CERTIFICATE_VERIFY_FAILED"``,
``"PEER_DID_NOT_RETURN_A_CERTIFICATE"`` …) each time a TLS handshake on the server fails."""


class _ObservedSSLObject(ssl.SSLObject):
    """An ``SSLObject`` that reports a failed server-side TLS setup (asyncio drops it).

    Failures count until the first application byte arrives: with TLS 1.3 the server's
    handshake is over before the client has checked the server's certificate, so a station
    that refuses it sends its alert where the server first *reads*.
    """

    on_failure: TlsFailureHook | None = None
    _set_up = False

    def _report(self, exc: ssl.SSLError) -> None:
        if self.on_failure is not None and not self._set_up:
            self._set_up = True  # once per connection
            self.on_failure(exc.reason or type(exc).__name__)

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise  # the normal "need more bytes" of a non-blocking handshake
        except ssl.SSLError as exc:
            self._report(exc)
            raise

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        try:
            data = super().read(len, buffer)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, ssl.SSLZeroReturnError):
            raise
        except ssl.SSLError as exc:
            self._report(exc)
            raise
        if data:
            self._set_up = True
        return data


def server_ssl_context(
    profile: SecurityProfile, *, on_tls_failure: TlsFailureHook | None = None
) -> ssl.SSLContext | None:
    """The CSMS's TLS context (``None`` for profiles 0 and 1).

    Profile 3 requires a client certificate that chains to ``ca_file``: a station without one,
    or with one from another CA, fails the TLS handshake (the server sends a TLS alert).

    asyncio discards failed TLS handshakes silently, so ``on_tls_failure`` (if given) is
    called with the reason of each one: the CSMS's evidence that a station tried and was
    refused, or — ``"TLSV1_ALERT_UNKNOWN_CA"``, ``"SSLV3_ALERT_BAD_CERTIFICATE"`` — that the
    station refused *our* certificate. Each failure is also logged (``tls_handshake_failed``).
    A station that drops the connection without sending a TLS alert (an asyncio client does
    that when it rejects our certificate) leaves no trace here: asyncio gives the server no
    hook for a handshake that ends in a bare close.
    """
    profile.check_server()
    if not profile.uses_tls:
        return None
    context = _tls12_or_newer(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    log = get_logger("security.tls")

    def failed(reason: str) -> None:
        log.warning("tls_handshake_failed", reason=reason, profile=int(profile.profile))
        if on_tls_failure is not None:
            on_tls_failure(reason)

    observed = type(
        "ObservedSSLObject", (_ObservedSSLObject,), {"on_failure": staticmethod(failed)}
    )
    context.sslobject_class = observed
    assert profile.server_cert_file is not None
    assert profile.server_key_file is not None
    _load_chain(context, profile.server_cert_file, profile.server_key_file, "server certificate")
    if profile.profile is ProfileLevel.TLS_CLIENT_CERT:
        assert profile.ca_file is not None
        _load_ca(context, profile.ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_ssl_context(profile: SecurityProfile) -> ssl.SSLContext | None:
    """The station's TLS context (``None`` for profiles 0 and 1): trusts only ``ca_file``,
    checks the host name, and presents the client certificate for profile 3."""
    profile.check_client()
    if not profile.uses_tls:
        return None
    context = _tls12_or_newer(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    assert profile.ca_file is not None
    _load_ca(context, profile.ca_file)
    if profile.profile is ProfileLevel.TLS_CLIENT_CERT:
        assert profile.client_cert_file is not None
        assert profile.client_key_file is not None
        _load_chain(
            context, profile.client_cert_file, profile.client_key_file, "client certificate"
        )
    return context


def authorization_key_hex(password: str) -> str:
    """The OCPP 1.6 ``AuthorizationKey`` value for ``password``: its UTF-8 bytes, hex-encoded.

    OCPP 1.6 security whitepaper (ed. 2), configuration key AuthorizationKey: the Basic-auth
    password is 16–20 bytes and is sent hex-encoded (at most 40 hex characters) in
    ChangeConfiguration.req. Raises :class:`SecurityProfileError` outside 16–20 bytes.
    """
    data = password.encode()
    if not 16 <= len(data) <= 20:
        raise SecurityProfileError(
            f"an OCPP 1.6 AuthorizationKey password is 16–20 bytes, got {len(data)}"
        )
    return data.hex()


def basic_auth_header(station_id: str, password: str) -> dict[str, str]:
    """``{"Authorization": "Basic base64(<station_id>:<password>)"}`` (RFC 7617, UTF-8).

    A00.FR.204: the user name is the Charging Station's identity. No checks here, so negative
    tests can send anything; :class:`SecurityProfile` checks the password rules.
    """
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


class CsmsAuthorizer:
    """``serve_ocpp(authorize_handshake=...)`` for a profile: the CSMS's admission check.

    * profiles 1–2: the ``Authorization: Basic`` header must carry user = the station id in
      the URL (A00.FR.204) and that station's password (compared in constant time);
    * profile 3: the verified client certificate's subject CN must equal the station id in
      the URL (the TLS layer already refused certificates from other CAs and no certificate);
    * profile 2 and 3 refuse a non-TLS connection, profile 0 accepts everyone.

    A refusal's reason never contains the presented password.
    """

    def __init__(self, profile: SecurityProfile) -> None:
        profile.check_server()
        self._profile = profile

    def __call__(self, request: HandshakeRequest) -> str | None:
        level = self._profile.profile
        if level is ProfileLevel.NONE:
            return None
        if self._profile.uses_tls and not request.tls:
            return f"security profile {int(level)} requires TLS (wss://)"
        if level is ProfileLevel.TLS_CLIENT_CERT:
            return _check_certificate(request)
        return self._check_basic(request)

    def _check_basic(self, request: HandshakeRequest) -> str | None:
        values = request.headers.get_all("Authorization")
        if not values:
            return "HTTP Basic authentication required (no Authorization header)"
        if len(values) > 1:
            return "more than one Authorization header"
        scheme, _, token = values[0].strip().partition(" ")
        if scheme.lower() != "basic":  # not echoed: a misconfigured client may put a secret here
            return "the Authorization scheme is not Basic"
        try:
            user_pass = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "Authorization Basic credentials are not valid base64 of UTF-8 text"
        user, colon, password = user_pass.partition(":")
        if not colon:
            return "Authorization Basic credentials have no ':' between user and password"
        # A00.FR.204: the user name SHALL be the Charging Station's identity.
        # The user given is not repeated (logs, terminal, 401 body): a station that swapped
        # the fields would have its password shown.
        if user != request.station_id:
            return f"the Basic auth user is not the station id {request.station_id!r}"
        expected = self._profile.passwords.get(request.station_id)
        # Compare even for an unknown station, so timing does not reveal which ids exist.
        reference = (expected or "\x00" * MAX_PASSWORD_CHARS).encode()
        if not hmac.compare_digest(password.encode(), reference) or expected is None:
            return f"wrong password for station {request.station_id!r}"
        return None


def _common_names(peer: Mapping[str, object]) -> list[str]:
    names: list[str] = []
    subject = peer.get("subject", ())
    if isinstance(subject, tuple):
        for rdn in subject:
            for attribute in rdn:
                if attribute[0] == "commonName":
                    names.append(str(attribute[1]))
    return names


def _check_certificate(request: HandshakeRequest) -> str | None:
    peer = request.peer_certificate
    if peer is None:
        return "security profile 3 requires a verified client certificate"
    # A00.FR.4xx: the CSMS checks that the certificate belongs to this station: its subject
    # CN is the station identity (its serial number) used in the connection URL.
    names = _common_names(peer)
    if names != [request.station_id]:
        return (
            f"client certificate CN {', '.join(names) or '(none)'} is not the station id "
            f"{request.station_id!r}"
        )
    return None


def csms_authorizer(profile: SecurityProfile) -> CsmsAuthorizer:
    """The CSMS-side admission check for ``profile`` (see :class:`CsmsAuthorizer`)."""
    return CsmsAuthorizer(profile)


def serve_options(
    profile: SecurityProfile, *, on_tls_failure: TlsFailureHook | None = None
) -> dict[str, Any]:
    """Keyword arguments for :func:`~harness.transport.serve_ocpp`: ``ssl`` and
    ``authorize_handshake`` for ``profile`` (CSMS side); ``on_tls_failure`` as in
    :func:`server_ssl_context`."""
    return {
        "ssl": server_ssl_context(profile, on_tls_failure=on_tls_failure),
        "authorize_handshake": csms_authorizer(profile),
    }


def connect_options(profile: SecurityProfile) -> dict[str, Any]:
    """Keyword arguments for :func:`~harness.transport.connect_ocpp`: ``ssl`` and
    ``extra_headers`` for ``profile`` (station side). The URL must use :attr:`scheme`."""
    options: dict[str, Any] = {"ssl": client_ssl_context(profile)}
    if profile.uses_basic_auth:
        assert profile.station_id is not None
        assert profile.password is not None
        options["extra_headers"] = basic_auth_header(profile.station_id, profile.password)
    return options


SERVER_CLOSED_TLS: Final = "server closed the TLS connection without an HTTP answer"
"""What :func:`tls_refusal` reports when the server dropped a ``wss://`` connection during
TLS setup without a TLS alert the client could read (see there)."""


def tls_refusal(error: BaseException) -> str | None:
    """Why a ``connect_ocpp`` to a ``wss://`` URL failed at the TLS level, or ``None``.

    * The station refused the server: the :class:`ssl.SSLError` reason, e.g.
      ``"CERTIFICATE_VERIFY_FAILED"`` for an untrusted server certificate (a station that
      does this is behaving correctly).
    * The server refused the station (no client certificate, one from another CA): the
      server aborts the TLS session. With TLS 1.3 that happens after the client has finished
      its side of the handshake, and asyncio does not hand the alert to the client, so all
      the station sees is the connection closing (or being reset) before any HTTP answer:
      reported as :data:`SERVER_CLOSED_TLS`. The server's side of the story (its handler
      never ran) is the stronger evidence.

    ``None`` when the failure is not about TLS (an HTTP 401, a refused TCP connection, a
    plain ``ws://`` URL).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    dropped = False
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current.reason or type(current).__name__
        if isinstance(current, EOFError | ConnectionResetError | ConnectionAbortedError):
            dropped = True
        current = current.__cause__ or current.__context__
    url = getattr(error, "url", None)
    if url is None and isinstance(error, TransportError):
        text = str(error)
        url = text[text.find("wss://") :] if "wss://" in text else None
    status = getattr(error, "status_code", None)
    if dropped and status is None and isinstance(url, str) and url.startswith("wss://"):
        return SERVER_CLOSED_TLS
    return None
