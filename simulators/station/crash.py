"""The ``crashes_on_malformed`` fault: a station whose firmware dies on a malformed message.

:class:`CrashOnMalformed` wraps the station's transport. The first received frame that is
not a well-formed CALL the station understands — not JSON, the wrong shape, an unknown
action, a payload that breaks its schema — "crashes" the station before it can answer: the
connection closes with 1011 (internal error) and a reason naming the frame's fault. Every
other frame passes through untouched. Responses to the station's own CALLs are not checked
(the crash models a request parser).
"""

from __future__ import annotations

from harness.logs import get_logger
from harness.session.frames import Call, FrameError, parse_frame
from harness.session.schemas import PayloadKind, schema_set
from harness.transport import DelegatingTransport, Transport, TransportClosed
from harness.versions import OcppVersion

__all__ = ["CRASH_CLOSE_CODE", "CrashOnMalformed", "malformed_request"]

CRASH_CLOSE_CODE = 1011


def malformed_request(text: str, version: OcppVersion) -> str | None:
    """What is wrong with ``text`` as a request to a station (``None``: nothing, or not a
    request)."""
    try:
        frame = parse_frame(text)
    except FrameError as exc:
        return f"{exc.kind.value}: {exc.detail}"
    if not isinstance(frame, Call):
        return None
    schemas = schema_set(version)
    if frame.action not in schemas.actions:
        return f"unknown action {frame.action!r}"
    fault = schemas.check(frame.action, PayloadKind.REQUEST, frame.payload)
    return None if fault is None else f"{fault.kind.value}: {fault.detail}"


class CrashOnMalformed(DelegatingTransport):
    """A :class:`~harness.transport.Transport` that drops the connection on a malformed
    request (see the module docstring)."""

    def __init__(self, inner: Transport) -> None:
        super().__init__(inner)
        self._version = inner.subprotocol.version
        self._log = get_logger("station.fault", station=inner.station_id)

    async def recv(self) -> str:
        text = await self._inner.recv()
        problem = malformed_request(text, self._version)
        if problem is None:
            return text
        reason = f"station crashed on a malformed message ({problem})"
        self._log.warning("crashed_on_malformed", problem=problem[:200])
        await self._inner.close(code=CRASH_CLOSE_CODE, reason=reason)
        raise TransportClosed(CRASH_CLOSE_CODE, reason)
