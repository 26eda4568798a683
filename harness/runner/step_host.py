"""What a step kind kept in its own module (``fuzz``: :mod:`harness.runner.fuzz_step`,
``expect_settled``: :mod:`harness.runner.settled_step`) may use of the case engine running it.

The engine passes itself as a :class:`StepHost`; the step module depends on this protocol
only, never on :mod:`harness.runner.engine`, so the engine can import the step kinds without
an import loop (``tests/test_import_graph.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

from harness.clock import Clock
from harness.results import MeasurementSource
from harness.runner.endpoint import CsmsEndpoint
from harness.runner.labmeter import LabMeter
from harness.runner.mirror import MirrorStore
from harness.runner.stall import StallMonitor
from harness.scenario import Capabilities, Step

__all__ = ["StepHost"]


class StepHost(Protocol):
    """The case engine as a step kind sees it: the connection, the clock, the profile
    mirror, the declaration, and the verdict bookkeeping of the running case."""

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
    def stall_monitor(self) -> StallMonitor | None:
        """Set on an accelerated clock (see :mod:`harness.runner.stall`)."""

    @property
    def lab_meter(self) -> LabMeter | None:
        """A lab's own meter, when it judges ``expect_settled``."""

    def variables(self) -> Mapping[str, Any]:
        """The case's parameters and stored variables."""

    def judge(self, step: Step, **kwargs: Any) -> None:
        """Record a judged step (pass or fail)."""

    def unjudgeable(self, step: Step, **kwargs: Any) -> None:
        """Record a step the harness could not judge (INCONCLUSIVE)."""

    def note(self, text: str) -> None:
        """Add a line to the step log."""

    def measured_by(self, source: MeasurementSource) -> None:
        """Record whose measurements a step judged."""

    async def wait_closed_or(self, awaitable: Awaitable[Any], timeout_s: float) -> None:
        """Wait for ``awaitable`` at most ``timeout_s`` of clock time."""
