"""Transports: websockets client and server, and an in-memory pair for tests."""

from harness.transport.base import OcppSubprotocol, Transport, TransportClosed

__all__ = ["OcppSubprotocol", "Transport", "TransportClosed"]
