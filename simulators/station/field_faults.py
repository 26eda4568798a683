"""Station faults that distort the limit on its way to the pilot (see :mod:`.faults`).

Applied by the core to each EVSE's target after the smart-charging engine computed it, so
the engine stays correct and the defect sits where a real station's would: in the code that
turns a limit into a duty cycle.
"""

from __future__ import annotations

import math
from dataclasses import replace

from simulators.iec61851 import MIN_SIGNALLED_CURRENT_A
from simulators.station.config import StationConfig
from simulators.station.faults import StationFault
from simulators.station.limits import AppliedLimit

__all__ = ["distort"]


def distort(
    target: AppliedLimit, *, previous: AppliedLimit | None, config: StationConfig
) -> AppliedLimit:
    """``target`` as a station with ``config``'s limit faults applies it; ``previous`` is
    the limit it applied before (``None``: none yet, this is the session's first)."""
    if target.digital or target.discharge_w:
        if (
            config.has(StationFault.NO_SCHEDULE_RENEGOTIATION)
            and previous is not None
            and previous.digital
            and not target.discharge_w
        ):
            return previous  # the defect: the schedule agreed at the start stays
        return target  # an ISO 15118 / 2.1 setpoint does not go through the duty cycle
    if config.has(StationFault.IGNORES_BELOW_MINIMUM) and 0 < target.limit_a < (
        MIN_SIGNALLED_CURRENT_A
    ):
        # The defect: the low limit changes nothing; the previous limit stays.
        kept = config.max_current_per_evse_a if previous is None else previous.limit_a
        target = replace(target, limit_a=kept)
    if config.has(StationFault.ROUNDS_LIMIT):
        target = replace(target, limit_a=float(math.floor(target.limit_a + 0.5)))
    return target
