"""Smart-charging request handling shared by the version adapters (through the station's
own engine, :mod:`simulators.station.smartcharging`).

Each function takes the request payload as received and returns what the core decided,
in protocol-neutral terms; the version modules render the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.versions import OcppVersion
from simulators.station.core import StationCore
from simulators.station.events import CompositeRefused
from simulators.station.smartcharging import (
    Accepted,
    ChargingProfile,
    ClearCriteria,
    PayloadError,
    Purpose,
    RateUnit,
    Rejected,
    accepted_payload,
    parse_profile_payload,
    refused_payload,
)

__all__ = ["clear_profiles", "composite", "install_profile", "parse_profile"]


def parse_profile(
    version: OcppVersion, evse_id: int, raw: dict[str, Any]
) -> ChargingProfile | PayloadError:
    """The model of a profile given with a remote start (or a SetChargingProfile)."""
    key = "csChargingProfiles" if version is OcppVersion.V16 else "chargingProfile"
    id_key = "connectorId" if version is OcppVersion.V16 else "evseId"
    try:
        return parse_profile_payload({id_key: evse_id, key: raw}, version)[1]
    except PayloadError as exc:
        return exc


def install_profile(
    core: StationCore, version: OcppVersion, payload: dict[str, Any], *, now: datetime
) -> Accepted | Rejected | PayloadError:
    """SetChargingProfile: parse (the version's schema) and install through the core."""
    try:
        evse_id, profile = parse_profile_payload(payload, version)
    except PayloadError as exc:
        return exc
    if evse_id != 0 and evse_id not in core.evse_ids:
        return PayloadError("evseId", f"an EVSE of the station {list(core.evse_ids)}")
    return core.set_charging_profile(evse_id, profile, now=now)


def clear_profiles(
    core: StationCore,
    *,
    profile_id: int | None,
    evse_id: int | None,
    purpose: str | None,
    stack_level: int | None,
    now: datetime,
) -> tuple[int, ...]:
    """ClearChargingProfile with the given criteria; the ids removed."""
    criteria = ClearCriteria(
        profile_id=profile_id,
        evse_id=evse_id,
        purpose=None if purpose is None else Purpose.from_wire(purpose),
        stack_level=stack_level,
    )
    return core.clear_charging_profiles(criteria, now=now)


def composite(
    core: StationCore,
    version: OcppVersion,
    *,
    evse_id: int,
    duration_s: int,
    unit: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The GetCompositeSchedule answer (the faults' post-processing is in the core)."""
    schedule = core.composite_schedule(
        evse_id,
        start=now.replace(microsecond=0),
        duration_s=duration_s,
        unit=None if unit is None else RateUnit(unit),
    )
    if isinstance(schedule, CompositeRefused):
        return refused_payload(version, schedule.reason_code)
    return accepted_payload(schedule, version)
