"""The runner: executes scenario cases against a DUT, with the harness as CSMS.

Public API::

    from harness.runner import (CaseEngine, CsmsEndpoint, PlannedCase, RunOptions, run_cases,
                                SimProvider, ListenProvider, SimSpec, FleetVehicle,
                                AutoOperator, TerminalOperator, NoOperator,
                                VehiclesStayPluggedIn)

    provider = SimProvider(factory, SimSpec("SIM-1", OcppSubprotocol.V16, clock, vehicle))
    with RunStore.create("runs", manifest) as writer:
        results = await run_cases([PlannedCase(case, params)], provider=provider,
                                  writer=writer, clock=clock, operator=AutoOperator(),
                                  capabilities=caps)

``ocpp-harness run`` and ``ocpp-harness list`` (:mod:`harness.runner.cli`) sit on top.
"""

from harness.runner.endpoint import CallOutcome, CsmsEndpoint, Received
from harness.runner.engine import CaseEngine, EngineOutcome
from harness.runner.mirror import MirrorStore
from harness.runner.observations import MeterSample, ObservationLog, ObservedTransaction
from harness.runner.operator import (
    AutoOperator,
    NoOperator,
    Operator,
    SimulationControl,
    TerminalOperator,
    VehiclesStayPluggedIn,
)
from harness.runner.run import PlannedCase, RunOptions, reset, run_cases
from harness.runner.settle import SettleJudge, SettleState
from harness.runner.targets import (
    DutProvider,
    FleetVehicle,
    ListenLimits,
    ListenProvider,
    SimProvider,
    SimSpec,
    SimStation,
    StationFactory,
)

__all__ = [
    "AutoOperator",
    "CallOutcome",
    "CaseEngine",
    "CsmsEndpoint",
    "DutProvider",
    "EngineOutcome",
    "FleetVehicle",
    "ListenLimits",
    "ListenProvider",
    "MeterSample",
    "MirrorStore",
    "NoOperator",
    "ObservationLog",
    "ObservedTransaction",
    "Operator",
    "PlannedCase",
    "Received",
    "RunOptions",
    "SettleJudge",
    "SettleState",
    "SimProvider",
    "SimSpec",
    "SimStation",
    "SimulationControl",
    "StationFactory",
    "TerminalOperator",
    "VehiclesStayPluggedIn",
    "reset",
    "run_cases",
]
