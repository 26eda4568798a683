"""The OCPP-J protocol versions: the one enum every package uses.

This module imports nothing of the project, so any layer may use it (the session, the
oracle, the scenario language, the simulators). Which WebSocket subprotocol carries a version
is the transport's business: :class:`harness.transport.OcppSubprotocol` (``.version``,
``OcppSubprotocol.of(version)``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["OcppVersion"]


class OcppVersion(StrEnum):
    """OCPP-J protocol versions (YAML may write ``1.6`` and ``2.1`` unquoted)."""

    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"
