"""Lab mode: the harness as CSMS for several real stations at once (``ocpp-harness serve``).

Usage::

    from harness.lab import LabPlan, LabServer, MqttDesk
    async with MqttDesk(MqttSettings.from_url(url, prefix="lab"), now=clock.now) as desk:
        server = LabServer(LabPlan(planned, capabilities=lambda sid: caps, out=Path("runs"),
                                   station_limit=2), clock=clock, operators=desk.operator,
                           echo=print, port=9000)
        await server.start(); await server.wait_done(); await server.close()

See :mod:`harness.lab.server` (runs, run folders), :mod:`harness.lab.operators` (prompt
topics and payloads), :mod:`harness.lab.status` (the status table).
"""

from harness.lab.observer import LabObserver
from harness.lab.operators import DEFAULT_OPERATOR_PREFIX, MqttDesk, OperatorError, TerminalDesk
from harness.lab.server import LabPlan, LabServer, Refusal, StationRun
from harness.lab.status import BootInfo, StationState, StationStatus, StatusBoard, boot_info

__all__ = [
    "DEFAULT_OPERATOR_PREFIX",
    "BootInfo",
    "LabObserver",
    "LabPlan",
    "LabServer",
    "MqttDesk",
    "OperatorError",
    "Refusal",
    "StationRun",
    "StationState",
    "StationStatus",
    "StatusBoard",
    "TerminalDesk",
    "boot_info",
]
