"""The smart-charging oracle: charging-profile model, validation, composite schedule, judge.

Pure functions and values, no I/O and no clock reads: instants come in as aware UTC
datetimes, station state as a :class:`StationContext`.

Typical use (a station simulator; ``OcppVersion`` comes from :mod:`harness.versions`)::

    store = ProfileStore(OcppVersion.V201)
    evse_id, profile = parse_set_charging_profile(payload, version=OcppVersion.V201)
    outcome = store.install(evse_id, profile, context)          # Accepted | Rejected
    schedule = store.composite(evse_id=1, start=now, duration_s=3600, unit=RateUnit.A,
                               context=context, default_limit=Decimal(32))
    limit = store.limit_at(evse_id=1, at=now, context=context)  # current_a, power_w, ...
"""

from harness.smartcharging.composite import (
    CompositePeriod,
    CompositeSchedule,
    InstalledProfile,
    UnknownEvse,
    composite_schedule,
)
from harness.smartcharging.judge import (
    ONE_DIGIT_RULE,
    Difference,
    ScheduleComparison,
    compare_composite,
    limit_digit_problems,
)
from harness.smartcharging.model import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
    StationContext,
    Transaction,
)
from harness.smartcharging.payloads import (
    PayloadError,
    external_limit_request,
    parse_clear_charging_profile,
    parse_set_charging_profile,
)
from harness.smartcharging.responses import (
    composite_response,
    parse_composite_response,
    rejected_response,
)
from harness.smartcharging.rules import RULES, Rejected, Rule, validate_profile, violations
from harness.smartcharging.store import Accepted, ClearCriteria, InstantLimit, ProfileStore
from harness.smartcharging.units import PRECISION, convert

__all__ = [
    "ONE_DIGIT_RULE",
    "PRECISION",
    "RULES",
    "Accepted",
    "ChargingProfile",
    "ChargingSchedule",
    "ClearCriteria",
    "CompositePeriod",
    "CompositeSchedule",
    "Difference",
    "InstalledProfile",
    "InstantLimit",
    "Kind",
    "OperationMode",
    "PayloadError",
    "ProfileStore",
    "Purpose",
    "RateUnit",
    "Recurrency",
    "Rejected",
    "Rule",
    "ScheduleComparison",
    "SchedulePeriod",
    "StationContext",
    "Transaction",
    "UnknownEvse",
    "compare_composite",
    "composite_response",
    "composite_schedule",
    "convert",
    "external_limit_request",
    "limit_digit_problems",
    "parse_clear_charging_profile",
    "parse_composite_response",
    "parse_set_charging_profile",
    "rejected_response",
    "validate_profile",
    "violations",
]
