"""The simulated station's own smart-charging engine.

Written from the OCPP specifications, apart from the harness's oracle (this package never
imports it; ``tests/simulators/station/smartcharging/test_independence.py`` checks): the
simulated stations must not agree with the judge by construction. Where the two are meant
to agree, the differential tests compare them
(``tests/simulators/station/smartcharging/test_differential.py``).

* :mod:`.model` — profiles, schedules, periods; :mod:`.wire` — SetChargingProfile payloads;
* :mod:`.rules` — why a station refuses a profile; :mod:`.store` — what a station holds;
* :mod:`.composite` — what an EVSE may draw, instant by instant, and the composite schedule;
* :mod:`.render` — the GetCompositeSchedule answer of each version.
"""

from simulators.station.smartcharging.composite import (
    Composite,
    CompositeStep,
    NoSuchEvse,
    Station,
    change_instants,
    composite,
    draw_at,
)
from simulators.station.smartcharging.model import (
    Accepted,
    ChargingProfile,
    ChargingSchedule,
    ClearCriteria,
    Kind,
    OperationMode,
    Placed,
    Purpose,
    RateUnit,
    Recurrency,
    Rejected,
    SchedulePeriod,
    epoch_s,
    instant,
)
from simulators.station.smartcharging.render import accepted_payload, refused_payload
from simulators.station.smartcharging.rules import MODE_CHECKS, Facts, broken, first_broken
from simulators.station.smartcharging.store import STEP, Allowance, Profiles
from simulators.station.smartcharging.wire import (
    LOCAL_LIMIT_PROFILE_ID,
    PayloadError,
    local_limit_payload,
    parse_profile_payload,
)

__all__ = [
    "LOCAL_LIMIT_PROFILE_ID",
    "MODE_CHECKS",
    "STEP",
    "Accepted",
    "Allowance",
    "ChargingProfile",
    "ChargingSchedule",
    "ClearCriteria",
    "Composite",
    "CompositeStep",
    "Facts",
    "Kind",
    "NoSuchEvse",
    "OperationMode",
    "PayloadError",
    "Placed",
    "Profiles",
    "Purpose",
    "RateUnit",
    "Recurrency",
    "Rejected",
    "SchedulePeriod",
    "Station",
    "accepted_payload",
    "broken",
    "change_instants",
    "composite",
    "draw_at",
    "epoch_s",
    "first_broken",
    "instant",
    "local_limit_payload",
    "parse_profile_payload",
    "refused_payload",
]
