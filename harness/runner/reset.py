"""The reset before each case: bring the DUT back to idle, using only what the case needs.

:func:`reset` (traced into the case's own trace) does, until the station is idle or
``timeout_s`` has passed:

1. **stop every open transaction** the harness observed — RemoteStopTransaction (1.6) or
   RequestStopTransaction (2.x), once per transaction — also one that starts while the
   reset runs (a remote start the DUT accepted in the previous case whose StartTransaction /
   TransactionEvent comes late: it is waited for :data:`START_GRACE_S`, then stopped);
2. in simulation, **unplug** every EVSE's vehicle;
3. **wait for idle**: no observed transaction, no accepted remote start still to show its
   transaction, a status report from each connector whose transaction the reset stopped
   (waited for :data:`START_GRACE_S` as well), and no connector in a transaction status
   (1.6 Charging, SuspendedEV, SuspendedEVSE; after the harness unplugged the vehicle also
   Preparing and Finishing in 1.6, Occupied in 2.x — the connector must be Available again);
4. **clear the charging profiles** (ClearChargingProfile without criteria; ``Unknown`` —
   nothing to clear — is fine) only when the case uses charging profiles and the declaration
   claims smart charging (or V2X) — see :func:`clears_profiles`. A station that declares no
   smart charging is never sent a ClearChargingProfile (OCA TC_K_38_CS runs against it);
5. checks idle again (a transaction may have started while the profiles were cleared).

What cannot be reached becomes the next case's reason (INCONCLUSIVE: "the reset before the
case failed: …"), naming what is still busy. A request the declaration says the station
supports, answered CALLERROR NotImplemented/NotSupported, is the station's FAIL instead
(:mod:`harness.runner.declared`): :attr:`ResetProblem.declared` says which field.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from harness.clock import Clock
from harness.runner.declared import declared_unsupported
from harness.runner.endpoint import CallOutcome, CsmsEndpoint
from harness.runner.operator import VehiclesStayPluggedIn
from harness.scenario import Capabilities, Case, Step
from harness.versions import OcppVersion

if TYPE_CHECKING:
    from harness.runner.engine import CaseEngine

__all__ = ["START_GRACE_S", "ResetProblem", "clears_profiles", "reset"]

START_GRACE_S = 10.0
"""How long (clock seconds after the DUT accepted it) the reset waits for an accepted remote
start to show its transaction, so that it can stop it (raised to the endpoint's wall-time
minimum on an accelerated clock)."""

_PROFILE_ACTIONS = frozenset(
    {"SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "GetChargingProfiles"}
)
_PROFILE_KINDS = frozenset(
    {"set_profile", "clear_profile", "compare_composite", "expect_settled", "fuzz"}
)
_BUSY_16 = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})
_BUSY_16_UNPLUGGED = _BUSY_16 | {"Preparing", "Finishing"}
_BUSY_2X_UNPLUGGED = frozenset({"Occupied"})


@dataclass(frozen=True, slots=True)
class ResetProblem:
    """Why the reset did not bring the DUT to idle (the next case's reason)."""

    reason: str
    declared: str | None = None
    """Set when the DUT answered a request it declares supported with "not supported": the
    sentence citing the declaration field (the case FAILs instead of INCONCLUSIVE)."""
    action: str = ""
    """The request concerned (with ``declared``)."""
    frames: tuple[int, ...] = ()


def _steps(steps: Sequence[Step]) -> Iterator[Step]:
    for step in steps:
        yield step
        inner = getattr(step, "steps", None)
        if step.kind == "repeat" and inner is not None:
            yield from _steps(inner)


def _touches_profiles(step: Step) -> bool:
    if step.kind in _PROFILE_KINDS:
        return True
    action = getattr(step, "action", None)
    if step.kind == "send" and action in _PROFILE_ACTIONS:
        return True
    payload = getattr(step, "payload", None)
    return step.kind == "send" and isinstance(payload, dict) and "chargingProfile" in payload


def clears_profiles(case: Case, capabilities: Capabilities | None) -> bool:
    """Whether the reset before ``case`` clears the charging profiles: the declaration claims
    smart charging (or V2X), and the case needs it or sends, reads or relies on profiles."""
    if capabilities is not None and not (capabilities.smart_charging or capabilities.v2x):
        return False
    if any(n.name in {"smart_charging", "v2x"} and not n.negated for n in case.needs):
        return True
    return any(_touches_profiles(step) for step in _steps(case.steps))


@dataclass
class _Reset:
    endpoint: CsmsEndpoint
    engine: CaseEngine
    clock: Clock
    timeout_s: float
    deadline: float
    asked: dict[str, str] = field(default_factory=dict)
    """Transaction id → how its stop request was answered (for the reason)."""
    stopped: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    """EVSE of a transaction the reset stopped → (its status count, the time) at the stop
    request: the connector's status after the stop is awaited (:data:`START_GRACE_S`)."""
    unplugged: bool = False

    @property
    def v16(self) -> bool:
        return str(self.endpoint.version) == OcppVersion.V16.value

    def declared_problem(self, action: str, outcome: CallOutcome) -> ResetProblem | None:
        """The problem when ``outcome`` says "not supported" to a request the declaration
        promises (:mod:`harness.runner.declared`), else ``None``."""
        caps = self.engine.capabilities
        cited = declared_unsupported(
            action,
            error_code=outcome.error_code,
            payload=outcome.payload,
            capabilities=caps,
            version=str(self.endpoint.version),
        )
        if cited is None:
            return None
        what = f"CALLERROR {outcome.error_code}" if outcome.error_code else "NotSupported"
        detail = f" ({outcome.error_description})" if outcome.error_description else ""
        return ResetProblem(
            f"{action} answered {what}{detail}", cited, action, tuple(outcome.frames)
        )

    async def _stop(self) -> ResetProblem | None:
        log = self.endpoint.observations
        for tx in list(log.transactions.values()):
            if tx.transaction_id in self.asked:
                continue
            if self.v16:
                action = "RemoteStopTransaction"
                try:
                    tx_value: Any = int(tx.transaction_id)
                except ValueError:
                    tx_value = tx.transaction_id
            else:
                action, tx_value = "RequestStopTransaction", tx.transaction_id
            self.stopped[tx.evse] = (log.status_count.get(tx.evse, 0), self.clock.now())
            outcome = await self.endpoint.call(
                action, {"transactionId": tx_value}, timeout_s=self.timeout_s
            )
            if outcome.failure is not None:
                return ResetProblem(outcome.detail)
            declared = self.declared_problem(action, outcome)
            if declared is not None:
                return declared
            if outcome.payload is not None:
                self.asked[tx.transaction_id] = f"{action} answered {outcome.payload.get('status')}"
            else:
                self.asked[tx.transaction_id] = f"{action} answered CALLERROR {outcome.error_code}"
        return None

    def _busy_statuses(self) -> frozenset[str]:
        control = self.engine.control
        unplugged = control is not None and not isinstance(control, VehiclesStayPluggedIn)
        if self.v16:
            return _BUSY_16_UNPLUGGED if unplugged else _BUSY_16
        return _BUSY_2X_UNPLUGGED if unplugged else frozenset()

    def busy(self) -> str | None:
        """What keeps the DUT from being idle now, or ``None``."""
        log = self.endpoint.observations
        parts = [
            f"transaction {tx.transaction_id} on EVSE {tx.evse} still runs"
            + (f" ({self.asked[tx.transaction_id]})" if tx.transaction_id in self.asked else "")
            for tx in log.transactions.values()
        ]
        grace = timedelta(seconds=self.endpoint.patience_s(START_GRACE_S))
        now = self.clock.now()
        for evse, at in list(log.pending_starts.items()):
            if now - at >= grace:
                del log.pending_starts[evse]  # it never came: nothing to stop
                continue
            where = "an EVSE of its choice" if evse is None else f"EVSE {evse}"
            parts.append(f"a remote start accepted for {where} has not shown its transaction yet")
        for evse, (count, at) in list(self.stopped.items()):
            if log.status_count.get(evse, 0) > count or now - at >= grace:
                del self.stopped[evse]  # its status came (judged below), or it never will
                continue
            parts.append(f"connector {evse} has not reported its status since its stop")
        busy = self._busy_statuses()
        parts += [
            f"connector {evse} is {status}"
            for evse, status in sorted(log.status.items())
            if evse != 0 and status in busy
        ]
        return "; ".join(parts) or None

    def _next_wake_s(self) -> float:
        remaining = self.deadline - self.clock.monotonic()
        grace = timedelta(seconds=self.endpoint.patience_s(START_GRACE_S))
        now = self.clock.now()
        moments = [*self.endpoint.observations.pending_starts.values()]
        moments += [at for _, at in self.stopped.values()]
        for at in moments:
            remaining = min(remaining, max((at + grace - now).total_seconds(), 0.0))
        return remaining

    async def idle(self) -> ResetProblem | None:
        """Stop, unplug and wait until :meth:`busy` is ``None`` (or the deadline)."""
        log = self.endpoint.observations
        while True:
            problem = await self._stop()
            if problem is not None:
                return problem
            control = self.engine.control
            if control is not None and not self.unplugged:
                for evse in self.engine.mirror.context().evse_ids:
                    await control.unplug(evse=evse)
                self.unplugged = True
            busy = self.busy()
            if busy is None:
                return None
            if self.clock.monotonic() >= self.deadline:
                return ResetProblem(
                    f"the station did not become idle within {self.timeout_s:g} s: {busy}"
                )
            if self.endpoint.closed:
                return ResetProblem(f"{self.endpoint.closed_text()} while it was not idle: {busy}")
            log.changed.clear()
            with contextlib.suppress(TimeoutError):
                await self.clock.wait_for(log.changed.wait(), max(self._next_wake_s(), 0.0))


async def reset(
    endpoint: CsmsEndpoint,
    engine: CaseEngine,
    *,
    clock: Clock,
    timeout_s: float,
    case: Case | None = None,
) -> ResetProblem | None:
    """Bring the DUT back to idle before ``case`` (see the module docstring); return what
    went wrong, or ``None``. Without ``case`` the profiles are cleared whenever the
    declaration (the engine's) claims smart charging."""
    state = _Reset(endpoint, engine, clock, timeout_s, clock.monotonic() + timeout_s)
    capabilities = engine.capabilities
    if case is not None:
        cleared = not clears_profiles(case, capabilities)
    else:
        cleared = capabilities is not None and not (capabilities.smart_charging or capabilities.v2x)
    while True:
        problem = await state.idle()
        if problem is not None:
            return problem
        if cleared:
            break
        cleared = True
        outcome = await endpoint.call("ClearChargingProfile", {}, timeout_s=timeout_s)
        declared = state.declared_problem("ClearChargingProfile", outcome)
        if declared is not None:
            return declared
        if outcome.payload is None:
            what = outcome.detail or f"CALLERROR {outcome.error_code}"
            return ResetProblem(f"ClearChargingProfile: {what}")
        if outcome.payload.get("status") not in {"Accepted", "Unknown"}:
            return ResetProblem(f"ClearChargingProfile answered {outcome.payload.get('status')}")
    engine.mirror.reset()
    endpoint.observations.clear_case()
    await asyncio.sleep(0)
    return None
