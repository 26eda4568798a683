"""Command-line security options for both sides: the CSMS (``serve``, ``run --target
listen``) and the simulated station (``simulate``).

CSMS side: ``--security-profile N``, ``--password-file FILE`` (one ``STATION_ID PASSWORD``
per line, ``#`` comments; profiles 1–2), ``--cert``/``--key`` (the CSMS's server
certificate; profiles 2–3) and ``--ca`` (the CA that signs station certificates; profile 3).

Station side: ``--security-profile N``, ``--password`` (or the environment variable
``OCPP_HARNESS_PASSWORD``, or ``--password-file`` whose first line is the password; profiles
1–2), ``--ca`` (the CA the station trusts; profiles 2–3), ``--cert``/``--key`` (the station's
client certificate; profile 3; ``{id}`` in the path stands for the station id, so
``--cert certs/{id}.pem`` serves many stations).

Passwords are never printed: they are handed to the redaction of logs and traces
(:meth:`SecurityProfile.secrets`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from harness.security.profiles import (
    ProfileLevel,
    SecurityProfile,
    SecurityProfileError,
    password_problem,
)

__all__ = [
    "PASSWORD_ENV",
    "PasswordFileError",
    "csms_profile",
    "csms_security_options",
    "load_password_file",
    "station_profile",
    "station_security_options",
]

PASSWORD_ENV = "OCPP_HARNESS_PASSWORD"
"""Environment variable for the simulated station's Basic-auth password."""

F = TypeVar("F", bound=Callable[..., Any])


class PasswordFileError(ValueError):
    """A password file cannot be read or a line is malformed (the message names file:line)."""


def load_password_file(path: Path) -> dict[str, str]:
    """``{station_id: password}`` from ``path``: ``STATION_ID PASSWORD`` per line (the id is
    the first word; the password is the rest of the line, stripped), blank lines and lines
    starting with ``#`` ignored. Errors name the file and line, never the password."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PasswordFileError(f"{path}: cannot read the password file: {exc}") from None
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(None, 1)
        if len(parts) != 2:
            raise PasswordFileError(
                f"{path}:{number}: expected 'STATION_ID PASSWORD', got one word only"
            )
        station_id, password = parts[0], parts[1].strip()
        problem = password_problem(password)
        if problem:
            raise PasswordFileError(f"{path}:{number}: the password of {station_id!r} {problem}")
        if station_id in found:
            raise PasswordFileError(f"{path}:{number}: station {station_id!r} appears twice")
        found[station_id] = password
    if not found:
        raise PasswordFileError(f"{path}: no 'STATION_ID PASSWORD' line")
    return found


def _first_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PasswordFileError(f"{path}: cannot read the password file: {exc}") from None
    if not lines or not lines[0].strip():
        raise PasswordFileError(f"{path}:1: expected the password on the first line")
    return lines[0].strip()


_PROFILE = click.option(
    "--security-profile",
    "security_profile",
    type=click.IntRange(0, 3),
    default=0,
    show_default=True,
    help="OCPP security profile: 0 none, 1 HTTP Basic, 2 TLS + Basic, 3 TLS + client cert.",
)


def csms_security_options(function: F) -> F:
    """Add ``--security-profile --password-file --cert --key --ca`` (CSMS side)."""
    path = click.Path(dir_okay=False, path_type=Path)
    for option in reversed(
        [
            _PROFILE,
            click.option(
                "--password-file",
                type=path,
                help="Station passwords (profiles 1–2): 'STATION_ID PASSWORD' per line.",
            ),
            click.option("--cert", type=path, help="CSMS server certificate (profiles 2–3)."),
            click.option("--key", type=path, help="Its private key (profiles 2–3)."),
            click.option("--ca", type=path, help="CA of the station certificates (profile 3)."),
        ]
    ):
        function = option(function)
    return function


def station_security_options(function: F) -> F:
    """Add ``--security-profile --password --password-file --cert --key --ca`` (station)."""
    path = click.Path(dir_okay=False, path_type=Path)
    for option in reversed(
        [
            _PROFILE,
            click.option(
                "--password",
                envvar=PASSWORD_ENV,
                default=None,
                help=f"Basic-auth password (profiles 1–2; or ${PASSWORD_ENV}).",
            ),
            click.option(
                "--password-file", type=path, help="File whose first line is the password."
            ),
            click.option(
                "--cert",
                type=str,
                default=None,
                help="Client certificate (profile 3); {id} stands for the station id.",
            ),
            click.option("--key", type=str, default=None, help="Its private key ({id} too)."),
            click.option("--ca", type=path, help="CA the station trusts (profiles 2–3)."),
        ]
    ):
        function = option(function)
    return function


def csms_profile(
    *,
    security_profile: int,
    password_file: Path | None,
    cert: Path | None,
    key: Path | None,
    ca: Path | None,
) -> SecurityProfile:
    """The CSMS's :class:`SecurityProfile` from the options; raises
    :class:`SecurityProfileError` or :class:`PasswordFileError` saying what is missing."""
    level = ProfileLevel(security_profile)
    passwords: Mapping[str, str] = {}
    if password_file is not None:
        passwords = load_password_file(password_file)
    profile = SecurityProfile(
        profile=level,
        passwords=passwords,
        server_cert_file=cert,
        server_key_file=key,
        ca_file=ca,
    )
    profile.check_server()
    return profile


def station_profile(
    station_id: str,
    *,
    security_profile: int,
    password: str | None,
    password_file: Path | None,
    cert: str | None,
    key: str | None,
    ca: Path | None,
) -> SecurityProfile:
    """The station ``station_id``'s :class:`SecurityProfile` from the options (``{id}`` in
    ``cert``/``key`` replaced); raises :class:`SecurityProfileError` or
    :class:`PasswordFileError` saying what is missing."""
    if password is None and password_file is not None:
        password = _first_line(password_file)
    profile = SecurityProfile(
        profile=ProfileLevel(security_profile),
        station_id=station_id,
        password=password,
        ca_file=ca,
        client_cert_file=Path(cert.replace("{id}", station_id)) if cert else None,
        client_key_file=Path(key.replace("{id}", station_id)) if key else None,
    )
    profile.check_client()
    return profile


SecurityOptionError = (SecurityProfileError, PasswordFileError)
"""What the two builders raise for bad input (catch both, show the message)."""


def redact_secrets_in_logs(secrets: tuple[str, ...]) -> None:
    """Configure logging again, as the ``ocpp-harness`` group did, but also hiding the
    literal ``secrets`` (the passwords a sub-command just read). Outside a click context
    (a library call) it does nothing."""
    from harness.logs import configure_logging

    context = click.get_current_context(silent=True)
    if context is None or not secrets:
        return
    root = context.find_root().params
    configure_logging(
        json_lines=bool(root.get("log_json", False)),
        level=str(root.get("log_level", "WARNING")),
        secrets=secrets,
    )


def secret_forms(profile: SecurityProfile) -> tuple[str, ...]:
    """Every spelling of the profile's passwords that could reach an artefact: the password,
    its OCPP 1.6 ``AuthorizationKey`` hex form, and each station's HTTP Basic token. Give
    them to :meth:`harness.results.RunStore.create`, ``run_cases(secrets=...)`` and the
    logging, which hide them wherever they appear."""
    import base64

    forms: list[str] = []
    pairs = list(profile.passwords.items())
    if profile.password is not None and profile.station_id is not None:
        pairs.append((profile.station_id, profile.password))
    for station_id, password in pairs:
        forms += [
            password,
            password.encode().hex(),
            base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii"),
        ]
    return tuple(dict.fromkeys(forms))
