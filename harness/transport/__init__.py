"""Transports: websockets client and server, and an in-memory pair for tests.

Everything the layers above need is importable from here::

    from harness.transport import connect_ocpp, serve_ocpp, memory_pair, OcppSubprotocol
"""

from harness.transport.base import (
    BinaryFrameReceived,
    DelegatingTransport,
    HandshakeRefused,
    OcppSubprotocol,
    Transport,
    TransportClosed,
    TransportError,
)
from harness.transport.limits import AuthThrottle, IncomingRateLimit, policy_close_reason
from harness.transport.memory import MemoryTransport, memory_pair
from harness.transport.ws import DEFAULT_MAX_FRAME_BYTES, WebSocketTransport, connect_ocpp
from harness.transport.ws_server import (
    DEFAULT_SUBPROTOCOLS,
    Authorizer,
    ConnectionHandler,
    HandshakeAuthorizer,
    HandshakeRequest,
    OcppServer,
    Refused,
    SubprotocolMismatch,
    serve_ocpp,
)

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_SUBPROTOCOLS",
    "AuthThrottle",
    "Authorizer",
    "BinaryFrameReceived",
    "ConnectionHandler",
    "DelegatingTransport",
    "HandshakeAuthorizer",
    "HandshakeRefused",
    "HandshakeRequest",
    "IncomingRateLimit",
    "MemoryTransport",
    "OcppServer",
    "OcppSubprotocol",
    "Refused",
    "SubprotocolMismatch",
    "Transport",
    "TransportClosed",
    "TransportError",
    "WebSocketTransport",
    "connect_ocpp",
    "memory_pair",
    "policy_close_reason",
    "serve_ocpp",
]
