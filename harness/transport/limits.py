"""Limits the harness puts on what a peer may send, and how a connection closed under one.

A misbehaving device must not be able to exhaust the harness: incoming messages are bounded
in size (websockets' ``max_size``, see :data:`~harness.transport.ws.DEFAULT_MAX_FRAME_BYTES`)
and, optionally, in rate (:class:`IncomingRateLimit`). When the harness closes a connection
because of one of its own limits — or because the station opened a new connection under the
same id — the transport remembers why (:func:`policy_close_reason`): the runner then says
so in the case's verdict instead of blaming an ordinary disconnection.

Close codes (RFC 6455 §7.4.1): 1009 (message too big) for the size limit, 1008 (policy
violation) for the rate limit and for a connection replaced by a newer one.

Failed authentication is slowed down per station id and per address (:class:`AuthThrottle`):
each further attempt after a failure is answered only after a growing delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "RATE_LIMIT_CLOSE_CODE",
    "REPLACED_CLOSE_CODE",
    "SIZE_LIMIT_CLOSE_CODE",
    "AuthThrottle",
    "IncomingRateLimit",
    "policy_close_reason",
]

SIZE_LIMIT_CLOSE_CODE: Final = 1009
RATE_LIMIT_CLOSE_CODE: Final = 1008
REPLACED_CLOSE_CODE: Final = 1008


@dataclass(slots=True)
class IncomingRateLimit:
    """A token bucket over incoming messages: ``messages_per_s`` sustained, bursts of
    ``burst`` (default: one second's worth). Sans-I/O: the caller feeds monotonic times.

    ``admit(now_s)`` takes one token and says whether the message is within the limit.
    """

    messages_per_s: float
    burst: float | None = None
    _tokens: float = field(default=-1.0, init=False)
    _last_s: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.messages_per_s > 0:
            raise ValueError(f"messages_per_s must be > 0, got {self.messages_per_s!r}")
        if self.burst is None:
            self.burst = max(1.0, float(self.messages_per_s))
        elif self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst!r}")
        self._tokens = self.burst

    @property
    def capacity(self) -> float:
        """The largest burst admitted at once."""
        assert self.burst is not None
        return self.burst

    def admit(self, now_s: float) -> bool:
        """Count one message arriving at ``now_s`` (seconds, monotonic); ``False``: over."""
        if self._last_s is not None:
            elapsed = max(0.0, now_s - self._last_s)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.messages_per_s)
        self._last_s = now_s
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def describe(self) -> str:
        """The limit in words, for close reasons and verdicts."""
        return f"{self.messages_per_s:g} messages/s (bursts of {self.capacity:g})"


def policy_close_reason(transport: object) -> str | None:
    """Why the harness closed ``transport`` under one of its limits or policies, if it did.

    ``None`` for a connection the peer closed, that dropped, or that is still open; also for
    transports that enforce no limits (the in-memory pair).
    """
    reason = getattr(transport, "policy_close", None)
    return reason if isinstance(reason, str) else None


@dataclass(slots=True)
class AuthThrottle:
    """Slows down repeated failed authentication, per station id and per client address.

    Sans-I/O: the caller feeds monotonic times. After ``n`` failures (of the id *or* the
    address, whichever has more) the next attempt waits ``first_delay_s * 2 ** (n - 1)``
    seconds, at most ``max_delay_s``, before it is answered; a failure older than
    ``forget_after_s`` is forgotten, and a success forgets the id's failures. At most
    ``max_keys`` ids and addresses are remembered (the oldest are dropped), so a flood of
    made-up ids cannot grow memory without bound.
    """

    first_delay_s: float = 0.25
    max_delay_s: float = 5.0
    forget_after_s: float = 300.0
    max_keys: int = 10_000
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict, init=False)

    def delay_s(self, *, station_id: str, address: str, now_s: float) -> float:
        """How long to hold the next attempt of ``station_id`` from ``address``."""
        count = max(self._count(f"id:{station_id}", now_s), self._count(f"ip:{address}", now_s))
        if count == 0:
            return 0.0
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** min(count - 1, 30)))

    def failed(self, *, station_id: str, address: str, now_s: float) -> int:
        """Count a failed attempt; return the failures now held against the id/address."""
        counts = []
        for key in (f"id:{station_id}", f"ip:{address}"):
            count = self._count(key, now_s) + 1
            self._failures.pop(key, None)
            self._failures[key] = (count, now_s)
            counts.append(count)
        while len(self._failures) > self.max_keys:
            del self._failures[next(iter(self._failures))]
        return max(counts)

    def succeeded(self, *, station_id: str) -> None:
        """Forget the failures of ``station_id`` (its address stays slowed)."""
        self._failures.pop(f"id:{station_id}", None)

    def _count(self, key: str, now_s: float) -> int:
        entry = self._failures.get(key)
        if entry is None:
            return 0
        count, last_s = entry
        if now_s - last_s > self.forget_after_s:
            del self._failures[key]
            return 0
        return count
