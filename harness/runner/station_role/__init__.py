"""The harness as charging station: ``dut_role: csms`` cases against a CSMS under test.

Public API::

    from harness.runner.station_role import (StationCaseEngine, StationEndpoint, StationState,
                                             StationDeclaration, judge_profile, run_hook)

:func:`harness.runner.connect.run_connect` runs cases against ``ws://…/{stationId}`` (what
``ocpp-harness run --target connect URL`` does): one fresh connection per case, every frame
in the case's trace, the station described by :class:`StationDeclaration` (from the
``station_*`` parameters, see :func:`declaration_from_parameters`).
"""

from harness.runner.station_role.endpoint import CsmsRequest, StationEndpoint, Waiter
from harness.runner.station_role.engine import StationCaseEngine
from harness.runner.station_role.hooks import HookResult, parse_hook, run_hook
from harness.runner.station_role.judge import (
    Finding,
    ProfileJudgement,
    StationDeclaration,
    judge_composite_request,
    judge_profile,
)
from harness.runner.station_role.state import StationState, declaration_from_parameters

__all__ = [
    "CsmsRequest",
    "Finding",
    "HookResult",
    "ProfileJudgement",
    "StationCaseEngine",
    "StationDeclaration",
    "StationEndpoint",
    "StationState",
    "Waiter",
    "declaration_from_parameters",
    "judge_composite_request",
    "judge_profile",
    "parse_hook",
    "run_hook",
]
