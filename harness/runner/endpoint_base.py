"""What the harness's end of one OCPP-J connection is in either role.

:class:`EndpointBase` holds the :class:`~harness.connection.OcppConnection` and what both
roles do the same way: starting it, knowing when it is closed (and how, in words), the trace
indices of each message id (evidence for checks), and turning a CALL's outcome — result,
CALLERROR, timeout, invalid answer, connection gone — into a :class:`CallOutcome` value.
The roles add their own answers to the peer's requests and trace sinks:
:class:`harness.runner.endpoint.CsmsEndpoint` (harness as CSMS) and
:class:`harness.runner.station_role.endpoint.StationEndpoint` (harness as station).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harness.clock import Clock
from harness.connection import ConnectionClosed, OcppConnection
from harness.session import CallErrorReceived, CallTimeout, RemoteProtocolError, ResultReceived
from harness.transport import policy_close_reason

__all__ = ["CallOutcome", "EndpointBase", "plain_json"]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What came of one CALL the harness sent. Exactly one of the first four is set."""

    payload: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str = ""
    failure: str | None = None
    """No valid answer: ``"timeout"``, ``"closed"`` or ``"invalid"`` (see ``detail``)."""
    detail: str = ""
    frames: tuple[int, ...] = ()


def plain_json(value: Any) -> Any:
    """``value`` with :class:`~decimal.Decimal` numbers (the session's exact decoding) as
    ``int``/``float``, the form the oracle's schema validators take."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    return value


class EndpointBase:
    """One connection of the harness to the peer under test (see the module docstring).

    A subclass opens :attr:`connection` in its ``__init__`` (with its handlers and its
    trace sink, which fills :attr:`_frames_by_id`) after calling this ``__init__``."""

    peer = "the peer"
    """The other side in words, for outcome texts (``"the DUT"``, ``"the CSMS"``)."""

    connection: OcppConnection

    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self._frames_by_id: dict[str, list[int]] = {}
        self._closed_task: asyncio.Future[None] | None = None

    # ------------------------------------------------------------ the connection

    @property
    def closed(self) -> bool:
        """True once the connection is closed."""
        return self.connection.transport.closed

    def start(self) -> None:
        """Start answering the peer."""
        self.connection.start()
        if self._closed_task is None:
            self._closed_task = asyncio.ensure_future(self.connection.wait_closed())

    def closed_waiter(self) -> asyncio.Future[None]:
        """A future that completes when the connection closes (cancelling it leaves the
        connection alone)."""
        if self._closed_task is None:
            self.start()
        assert self._closed_task is not None
        return asyncio.shield(self._closed_task)

    async def close(self) -> None:
        """Close the connection (normal closure)."""
        await self.connection.close()

    @property
    def policy_close(self) -> str | None:
        """Why the harness closed the connection under a limit or policy (size, rate, a newer
        connection of the station); ``None`` if it did not."""
        return policy_close_reason(self.connection.transport)

    def _how_closed(self) -> str:
        transport = self.connection.transport
        code = transport.close_code
        reason = transport.close_reason or ""
        return f" (close code {code}{', ' + reason if reason else ''})" if code else ""

    def closed_text(self) -> str:
        """How the connection ended, in words (for verdicts)."""
        policy = self.policy_close
        if policy is not None:
            return f"the harness closed the connection: {policy}"
        return f"{self.peer}'s connection closed{self._how_closed()}"

    def frames_of(self, message_id: str) -> tuple[int, ...]:
        """Trace indices (current case) of the frames with this message id."""
        return tuple(self._frames_by_id.get(message_id, ()))

    # -------------------------------------------------------------------- calling

    def _call_timed_out(self, message_id: str, action: str) -> None:
        """Told of each CALL that timed out (a subclass may remember it: a late answer)."""

    async def _outcome(
        self, action: str, timeout_s: float, pending: Awaitable[ResultReceived]
    ) -> CallOutcome:
        """Await ``pending`` (a CALL named ``action`` in texts, given ``timeout_s`` clock
        seconds) and turn whatever happens into a :class:`CallOutcome`; raises only for the
        harness's own faults (:class:`~harness.session.LocalProtocolError`)."""
        try:
            result = await pending
        except CallErrorReceived as exc:
            return CallOutcome(
                error_code=str(exc.code),
                error_description=str(exc.description or ""),
                frames=self.frames_of(exc.message_id),
            )
        except CallTimeout as exc:
            self._call_timed_out(exc.message_id, action)
            return CallOutcome(
                failure="timeout",
                detail=f"no answer to {action} within {timeout_s:g} s",
                frames=self.frames_of(exc.message_id),
            )
        except RemoteProtocolError as exc:
            message_id = exc.violation.message_id
            return CallOutcome(
                failure="invalid",
                detail=f"invalid answer to {action}: {exc}",
                frames=self.frames_of(message_id) if message_id is not None else (),
            )
        except ConnectionClosed:
            return CallOutcome(failure="closed", detail=self._closed_before(action))
        return CallOutcome(payload=dict(result.payload), frames=self.frames_of(result.message_id))

    def _closed_before(self, action: str) -> str:
        policy = self.policy_close
        if policy is not None:
            return f"the harness closed the connection before {action} was answered: {policy}"
        return f"{self.peer}'s connection closed before it answered {action}{self._how_closed()}"
