"""What a live view of ``serve`` is told as the lab runs (see :class:`LabObserver`).

:class:`~harness.lab.server.LabServer` calls these as things happen, on the event loop; an
observer must not block or raise. The web console (:mod:`harness.console`) is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from harness.lab.status import StationStatus
from harness.results import CaseResult
from harness.runner.observations import LimitRecord, MeterSample
from harness.scenario import Step

__all__ = ["LabObserver"]


class LabObserver(Protocol):
    """Told of every change of a station's run, as it happens."""

    def station_changed(self, status: StationStatus) -> None:
        """The station connected, booted, disconnected, started or finished a case or run."""
        ...

    def step_started(
        self, station_id: str, case_id: str, number: int, step: Step, variables: Mapping[str, Any]
    ) -> None:
        """A step of ``case_id`` starts (``variables``: the case's parameters and variables)."""
        ...

    def waiting(self, station_id: str, remaining_s: float, total_s: float) -> None:
        """A ``wait`` step: ``remaining_s`` of ``total_s`` clock seconds are left."""
        ...

    def judged(self, station_id: str, result: CaseResult) -> None:
        """A case has its verdict."""
        ...

    def observed(self, station_id: str, item: MeterSample | LimitRecord) -> None:
        """A meter sample arrived, or the limit in force changed."""
        ...
