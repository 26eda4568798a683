"""Where an MQTT pilot link lives: the broker (:class:`MqttSettings`) and the topics of one
EVSE (:class:`PilotTopics`). Pure values, no I/O; :mod:`simulators.pilot.mqtt` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

from harness.security.redaction import redact

__all__ = ["DEFAULT_PREFIX", "MqttSettings", "PilotTopics"]

DEFAULT_PREFIX = "ocpp-harness"
"""First topic level(s) of every pilot link topic unless configured otherwise."""

_PORTS = {"mqtt": 1883, "mqtts": 8883}


def _check_level(value: str, what: str) -> None:
    if not value or any(c in value for c in "/+#\0"):
        raise ValueError(
            f"{what}: expected a non-empty topic level without / + # or NUL, got {value!r}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttSettings:
    """Where the broker is and how to log in; build it with :meth:`from_url`."""

    host: str
    port: int
    tls: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        levels = self.prefix.split("/")
        if self.prefix.startswith("$"):
            raise ValueError(f"prefix: topics starting with $ are reserved, got {self.prefix!r}")
        for level in levels:
            _check_level(level, f"prefix {self.prefix!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port: expected 1–65535, got {self.port!r}")
        if self.ca_file is not None and not self.tls:
            raise ValueError("ca_file is only used with TLS (an mqtts:// URL)")

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        ca_file: Path | None = None,
    ) -> Self:
        """Parse ``mqtt://[user[:password]@]host[:port]`` (or ``mqtts://`` for TLS).

        ``username``/``password`` given here win over those in the URL. Raises
        ``ValueError`` naming what is wrong with the URL.
        """
        parts = urlsplit(url)
        url = redact(url)  # the errors below name the URL without its password
        if parts.scheme not in _PORTS:
            raise ValueError(
                f"broker URL {url!r}: expected the scheme mqtt:// or mqtts://, got "
                f"{parts.scheme + '://' if parts.scheme else 'none'}"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"broker URL {url!r}: expected a port number 1–65535") from None
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r}: expected a host name")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"broker URL {url!r}: expected no path, query or fragment")
        return cls(
            host=parts.hostname,
            port=port if port is not None else _PORTS[parts.scheme],
            tls=parts.scheme == "mqtts",
            ca_file=ca_file,
            username=username if username is not None else _unquoted(parts.username),
            password=password if password is not None else _unquoted(parts.password),
            prefix=prefix,
        )

    @property
    def url(self) -> str:
        """The broker URL without credentials (safe to log)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def _unquoted(value: str | None) -> str | None:
    return None if value is None else unquote(value)


@dataclass(frozen=True, slots=True)
class PilotTopics:
    """The topics of one EVSE's link (see the module docstring for directions and QoS)."""

    base: str

    @classmethod
    def for_evse(cls, *, prefix: str = DEFAULT_PREFIX, station_id: str, evse_id: int) -> Self:
        """Topics under ``{prefix}/{station_id}/{evse_id}``; ``ValueError`` for a bad id."""
        _check_level(station_id, "station_id")
        if isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id < 1:
            raise ValueError(f"evse_id: expected an integer ≥ 1, got {evse_id!r}")
        return cls(f"{prefix}/{station_id}/{evse_id}")

    @property
    def pilot(self) -> str:
        return f"{self.base}/pilot"

    @property
    def plug_set(self) -> str:
        return f"{self.base}/plug/set"

    @property
    def v2x(self) -> str:
        return f"{self.base}/v2x"

    @property
    def vehicle(self) -> str:
        return f"{self.base}/vehicle"

    @property
    def plug(self) -> str:
        return f"{self.base}/plug"

    @property
    def v2x_answer(self) -> str:
        return f"{self.base}/v2x/answer"

    @property
    def link(self) -> str:
        return f"{self.base}/link"
