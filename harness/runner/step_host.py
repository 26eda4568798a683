"""What a step kind of the harness-as-CSMS role may use of the engine running it.

Every step kind (:mod:`harness.runner.steps`, :mod:`harness.runner.fuzz_step`,
:mod:`harness.runner.settled_step`) is a handler ``async (step, record, host)``
(:mod:`harness.runner.stepping`): it records through the
:class:`~harness.runner.verdicts.CaseRecord` and uses this protocol for what only the engine
has or decides — the DUT's connection, the clock, the profile mirror, the declaration, the lab
resources, and judging a step (which may stop the case). The step modules depend on this
protocol only, never on :mod:`harness.runner.engine`, so the engine imports them without an
import loop (``tests/test_import_graph.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from harness.clock import Clock
from harness.results import MeasurementSource
from harness.runner.endpoint import CsmsEndpoint, Waiter
from harness.runner.labmeter import LabMeter
from harness.runner.mirror import MirrorStore
from harness.runner.operator import Operator, SimulationControl
from harness.runner.progress import WaitProgress
from harness.runner.stall import StallMonitor
from harness.scenario import Capabilities, ExpectRequestStep, Step

__all__ = ["Reconnect", "StepHost"]

Reconnect = Callable[[float], Awaitable[CsmsEndpoint | None]]
"""Takes the DUT's next connection within the clock seconds given (see
:attr:`StepHost.reconnect`)."""


class StepHost(Protocol):
    """The CSMS-role case engine as a step kind sees it (see the module docstring)."""

    @property
    def endpoint(self) -> CsmsEndpoint:
        """The DUT's connection (harness as CSMS)."""

    @property
    def clock(self) -> Clock:
        """The run's clock."""

    @property
    def mirror(self) -> MirrorStore:
        """The profiles the harness set on the DUT, as the oracle sees them."""

    @property
    def capabilities(self) -> Capabilities | None:
        """The DUT's declaration, if any."""

    @property
    def control(self) -> SimulationControl | None:
        """Drives the simulated vehicles and station (``None``: a lab, the operator does)."""

    @property
    def operator(self) -> Operator:
        """Whoever answers prompts."""

    @property
    def wait_progress(self) -> WaitProgress | None:
        """Told the time left during ``wait`` steps (a lab's countdown)."""

    @property
    def time_tolerance_s(self) -> float:
        """The composite checks' time tolerance when the case gives none."""

    @property
    def stall_monitor(self) -> StallMonitor | None:
        """Set on an accelerated clock (see :mod:`harness.runner.stall`)."""

    @property
    def lab_meter(self) -> LabMeter | None:
        """A lab's own meter, when it judges ``expect_settled``."""

    @property
    def reconnect(self) -> Reconnect | None:
        """Takes the DUT's next connection (a new, not yet started endpoint, or ``None``
        when none came within the clock seconds given); ``None`` when the run cannot."""

    def take_connection(self, new: CsmsEndpoint) -> None:
        """Go on on the DUT's new connection ``new`` (from :attr:`reconnect`): the waiters
        armed on the old one are dropped, the case's trace, the mirror and the lab meter
        carry over, ``new`` is started and becomes :attr:`endpoint`."""

    def judge(
        self,
        step: Step,
        *,
        ok: bool,
        expected: str,
        actual: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
        declared: str | None = None,
    ) -> None:
        """Record a judged step (pass or fail) in the running case's record; raises
        :class:`~harness.runner.stepping.StopCase` when the case cannot go on (a failed
        precondition, a step failed after the harness's own limit cut the DUT off)."""

    def take_armed(self, step: ExpectRequestStep) -> Waiter | None:
        """The waiter armed for ``step`` before the step that preceded it ran, if any."""

    def measured_by(self, source: MeasurementSource) -> None:
        """Record whose measurements a step judged (the case's measurement source)."""

    async def wait_closed_or(self, awaitable: Awaitable[Any], timeout_s: float) -> None:
        """Wait for ``awaitable`` at most ``timeout_s`` of clock time."""
