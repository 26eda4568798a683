"""OCPP security profiles 0–3: test certificates, TLS contexts, HTTP Basic, redaction.

Usage (the harness as CSMS, a simulated station connecting with profile 3)::

    from harness.security import SecurityProfile, ProfileLevel, serve_options, connect_options
    csms = SecurityProfile(profile=ProfileLevel.TLS_CLIENT_CERT, ca_file=ca,
                           server_cert_file=srv_pem, server_key_file=srv_key)
    async with serve_ocpp(handler, **serve_options(csms)) as server:
        station = SecurityProfile(profile=3, ca_file=ca, client_cert_file=cp_pem,
                                  client_key_file=cp_key)
        transport = await connect_ocpp(server.url("CP1"), **connect_options(station))

Certificates: :mod:`harness.security.certs` (and ``ocpp-harness certs``); redaction:
:mod:`harness.security.redaction`.

The names below are imported on first use (PEP 562): importing one submodule, such as the
redaction every trace line goes through, does not load the certificate and TLS code (and
with it ``cryptography`` and ``websockets``) that most commands never need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.security.certs import (
        CertificateError,
        CertificatePair,
        create_ca,
        create_server_certificate,
        create_station_certificate,
        station_files,
    )
    from harness.security.profiles import (
        MAX_PASSWORD_CHARS,
        MIN_PASSWORD_CHARS,
        SERVER_CLOSED_TLS,
        CsmsAuthorizer,
        ProfileLevel,
        SecurityProfile,
        SecurityProfileError,
        TlsFailureHook,
        authorization_key_hex,
        basic_auth_header,
        client_ssl_context,
        connect_options,
        csms_authorizer,
        password_problem,
        serve_options,
        server_ssl_context,
        tls_refusal,
    )
    from harness.security.redaction import REDACTED, RedactProcessor, redact, redact_frame

__all__ = [
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "REDACTED",
    "SERVER_CLOSED_TLS",
    "CertificateError",
    "CertificatePair",
    "CsmsAuthorizer",
    "ProfileLevel",
    "RedactProcessor",
    "SecurityProfile",
    "SecurityProfileError",
    "TlsFailureHook",
    "authorization_key_hex",
    "basic_auth_header",
    "client_ssl_context",
    "connect_options",
    "create_ca",
    "create_server_certificate",
    "create_station_certificate",
    "csms_authorizer",
    "password_problem",
    "redact",
    "redact_frame",
    "serve_options",
    "server_ssl_context",
    "station_files",
    "tls_refusal",
]

_SUBMODULE_OF: dict[str, str] = {
    "CertificateError": "certs",
    "CertificatePair": "certs",
    "create_ca": "certs",
    "create_server_certificate": "certs",
    "create_station_certificate": "certs",
    "station_files": "certs",
    "MAX_PASSWORD_CHARS": "profiles",
    "MIN_PASSWORD_CHARS": "profiles",
    "SERVER_CLOSED_TLS": "profiles",
    "CsmsAuthorizer": "profiles",
    "ProfileLevel": "profiles",
    "SecurityProfile": "profiles",
    "SecurityProfileError": "profiles",
    "TlsFailureHook": "profiles",
    "authorization_key_hex": "profiles",
    "basic_auth_header": "profiles",
    "client_ssl_context": "profiles",
    "connect_options": "profiles",
    "csms_authorizer": "profiles",
    "password_problem": "profiles",
    "serve_options": "profiles",
    "server_ssl_context": "profiles",
    "tls_refusal": "profiles",
    "REDACTED": "redaction",
    "RedactProcessor": "redaction",
    "redact": "redaction",
    "redact_frame": "redaction",
}


def __getattr__(name: str) -> Any:
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
