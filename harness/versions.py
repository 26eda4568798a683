"""The OCPP-J protocol versions: the one enum every package uses."""

from __future__ import annotations

from enum import StrEnum

from harness.transport.base import OcppSubprotocol

__all__ = ["OcppVersion"]


class OcppVersion(StrEnum):
    """OCPP-J protocol versions (YAML may write ``1.6`` and ``2.1`` unquoted)."""

    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @classmethod
    def from_subprotocol(cls, subprotocol: OcppSubprotocol) -> OcppVersion:
        """The version that a negotiated WebSocket subprotocol stands for."""
        return {
            OcppSubprotocol.V16: cls.V16,
            OcppSubprotocol.V201: cls.V201,
            OcppSubprotocol.V21: cls.V21,
        }[subprotocol]

    @property
    def subprotocol(self) -> OcppSubprotocol:
        """The WebSocket subprotocol that carries this version."""
        return {
            OcppVersion.V16: OcppSubprotocol.V16,
            OcppVersion.V201: OcppSubprotocol.V201,
            OcppVersion.V21: OcppSubprotocol.V21,
        }[self]
