"""The station fault catalogue: misbehaviours seen in the field, switchable one by one.

:class:`StationFault` is the closed set; ``faults.yaml`` (next to this module) says, for each
fault, what it models and the public evidence (loaded and checked by :func:`load_faults`).
A :class:`~simulators.station.config.StationConfig` carries a set of faults, and the core
changes its behaviour exactly where the real defect sits:

* ``accepts_but_ignores`` — ``set_charging_profile`` answers Accepted and the composite
  shows the profile, but the limit on the pilot never follows profiles: it keeps the old
  current (the hardware maximum).
* ``late_apply`` — limit pipeline: a new limit reaches the pilot after
  ``late_apply_delay_s`` (45 s) instead of ``apply_delay_s``; so also a late pause: it keeps
  charging 45 s after a 0 A limit.
* ``empty_composite`` — ``composite_schedule``: Accepted with no periods while any profile
  is installed (post-processing of the engine's answer).
* ``endless_composite`` — ``composite_schedule``: covers :data:`ENDLESS_DURATION_S` (a day,
  or twice the request if longer) instead of the requested duration.
* ``unit_ignored`` — ``composite_schedule``: answers in W when A was asked and in A when W
  was asked.
* ``redundant_periods`` — ``composite_schedule``: the engine's periods are split again at
  every profile boundary, so adjacent periods may carry equal limits.
* ``accepts_unknown_transaction`` — ``set_charging_profile``: a TxProfile whose
  transactionId is not the running transaction's is Accepted and bound to the running one
  (with no transaction running it is still Rejected).
* ``too_many_decimals`` — ``composite_schedule``: limits are not rounded to the version's
  precision (7.246376811594203 A from a W → A conversion).
* ``crashes_on_malformed`` — transport (:mod:`simulators.station.crash`): the first received
  request that is malformed (not JSON, wrong shape, unknown action, schema fault) drops the
  connection (close 1011) before any answer.
* ``ignores_phase_switch`` — limit pipeline: the phases energized when a transaction starts
  stay for the whole session, whatever numberPhases asks; the per-phase current of the
  profile is applied on them.
* ``never_discharges`` — limit pipeline (2.1): a negative setpoint is accepted and shown in
  the composite, but the station never asks the vehicle to export (it idles instead).
* ``ignores_allowed_energy_transfer`` — 2.1 adapter: the modes a CSMS allows with
  NotifyAllowedEnergyTransfer are answered Accepted but not enforced, so the station still
  discharges when no bidirectional mode is allowed.
* ``accepts_invalid_v2x_profile`` — ``set_charging_profile`` (2.1): a profile that breaks only
  the operation-mode rules (a setpoint in ChargingOnly or Idle, CentralSetpoint without a
  setpoint, a missing limit where the mode needs one, a setpoint in a station maximum) is
  Accepted and applied as plain charging instead of being Rejected.
* ``smart_charging_not_implemented`` — runtime: SetChargingProfile, ClearChargingProfile,
  GetCompositeSchedule and GetChargingProfiles have no handler, so the connection answers
  CALLERROR NotImplemented (a station whose firmware lacks smart charging, whatever its
  declaration says).
* ``clear_always_accepted`` — ClearChargingProfile answers Accepted even when no profile
  matched (1.6 §5.5 / 2.0.1 K10: Unknown).
* ``accepts_start_when_busy`` — a remote start on an EVSE that already has a transaction (or
  a pending start) is answered Accepted, and nothing happens, instead of Rejected.
* ``rounds_limit`` — limit pipeline (:mod:`simulators.station.field_faults`): the limit on the
  pilot is rounded to a whole ampere, half up (6.5 A → 7 A, 10.6 A → 11 A, 7.4 A → 7 A).
* ``ignores_below_minimum`` — limit pipeline: a limit above 0 A but below 6 A changes nothing;
  the station keeps the limit it applied before (0 A still pauses).
* ``reports_suspended_evse_for_ev`` — connector status: while the pilot offers current and
  the vehicle does not draw, the station reports SuspendedEVSE instead of SuspendedEV.
* ``no_schedule_renegotiation`` — limit pipeline and 2.x adapter: with an ISO 15118 vehicle
  the station never renegotiates the schedule after the first one, so the vehicle keeps the
  limit agreed when the transaction started, and no NotifyEVChargingSchedule is sent.
* ``no_charging_without_schedule`` — 2.x adapter: with an ISO 15118 vehicle whose charging
  needs the CSMS rejects (no schedule to offer), or does not answer with a profile, the
  station keeps the vehicle waiting for a schedule for ever instead of going on with its
  own limits: no energy flows.
* ``ignores_ev_renegotiation`` — 2.x adapter: when an ISO 15118 vehicle asks to renegotiate
  its schedule, the station does not report its new charging needs to the CSMS (no
  NotifyEVChargingNeeds) and keeps the schedule it has.
* ``forgets_profiles_on_reset`` — 2.x adapter: the charging profiles are kept in volatile
  memory only: after a reboot (Reset) the station has none (OCPP 2.0.1 K01: they persist).
* ``drops_offline_events`` — 2.x adapter: the TransactionEvents of a time offline
  (:meth:`~simulators.station.runtime.SimulatedStation.go_offline`) are discarded instead of
  queued, so the CSMS never learns what happened meanwhile.
* ``no_offline_flag`` — 2.x adapter: the TransactionEvents queued offline are sent once back
  without ``offline: true`` (OCPP 2.0.1 E04).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "ENDLESS_DURATION_S",
    "FaultCatalogueError",
    "FaultEntry",
    "StationFault",
    "load_faults",
]

ENDLESS_DURATION_S = 86_400
"""Duration (s) an ``endless_composite`` station answers with (or twice the request if longer)."""


class StationFault(StrEnum):
    """A switchable station misbehaviour (see the module table for what each one changes)."""

    ACCEPTS_BUT_IGNORES = "accepts_but_ignores"
    LATE_APPLY = "late_apply"
    EMPTY_COMPOSITE = "empty_composite"
    ENDLESS_COMPOSITE = "endless_composite"
    UNIT_IGNORED = "unit_ignored"
    REDUNDANT_PERIODS = "redundant_periods"
    ACCEPTS_UNKNOWN_TRANSACTION = "accepts_unknown_transaction"
    TOO_MANY_DECIMALS = "too_many_decimals"
    IGNORES_PHASE_SWITCH = "ignores_phase_switch"
    CRASHES_ON_MALFORMED = "crashes_on_malformed"
    NEVER_DISCHARGES = "never_discharges"
    IGNORES_ALLOWED_ENERGY_TRANSFER = "ignores_allowed_energy_transfer"
    ACCEPTS_INVALID_V2X_PROFILE = "accepts_invalid_v2x_profile"
    SMART_CHARGING_NOT_IMPLEMENTED = "smart_charging_not_implemented"
    CLEAR_ALWAYS_ACCEPTED = "clear_always_accepted"
    ACCEPTS_START_WHEN_BUSY = "accepts_start_when_busy"
    ROUNDS_LIMIT = "rounds_limit"
    IGNORES_BELOW_MINIMUM = "ignores_below_minimum"
    REPORTS_SUSPENDED_EVSE_FOR_EV = "reports_suspended_evse_for_ev"
    NO_SCHEDULE_RENEGOTIATION = "no_schedule_renegotiation"
    NO_CHARGING_WITHOUT_SCHEDULE = "no_charging_without_schedule"
    IGNORES_EV_RENEGOTIATION = "ignores_ev_renegotiation"
    DROPS_OFFLINE_EVENTS = "drops_offline_events"
    NO_OFFLINE_FLAG = "no_offline_flag"
    FORGETS_PROFILES_ON_RESET = "forgets_profiles_on_reset"


class FaultCatalogueError(ValueError):
    """The fault catalogue file is malformed: names the file, the entry and what was expected."""


@dataclass(frozen=True, slots=True)
class FaultEntry:
    """One catalogue entry: the fault, what it models, and the public evidence for it."""

    fault: StationFault
    models: str
    evidence: tuple[str, ...]


def _entry(source: str, name: str, raw: Any) -> FaultEntry:
    where = f"{source}, fault {name!r}"
    try:
        fault = StationFault(name)
    except ValueError:
        known = ", ".join(StationFault)
        raise FaultCatalogueError(f"{where}: expected one of {known}") from None
    if not isinstance(raw, dict):
        raise FaultCatalogueError(f"{where}: expected a mapping with models and evidence")
    extra = sorted(set(raw) - {"models", "evidence"})
    if extra:
        raise FaultCatalogueError(f"{where}: unknown field {extra[0]!r}")
    models = raw.get("models")
    if not isinstance(models, str) or not models.strip():
        raise FaultCatalogueError(f"{where}, models: expected a sentence, got {models!r}")
    evidence = raw.get("evidence")
    if (
        not isinstance(evidence, list)
        or not evidence
        or not all(isinstance(e, str) and e.strip() for e in evidence)
    ):
        raise FaultCatalogueError(
            f"{where}, evidence: expected a non-empty list of sentences, got {evidence!r}"
        )
    return FaultEntry(fault, " ".join(models.split()), tuple(evidence))


def load_faults(
    text: str | None = None, *, source: str = "faults.yaml"
) -> dict[StationFault, FaultEntry]:
    """The catalogue (by default the packaged ``faults.yaml``), one entry per fault.

    Raises :class:`FaultCatalogueError` on a malformed file, an unknown fault, or a fault of
    :class:`StationFault` that has no entry.
    """
    if text is None:
        text = resources.files(__package__).joinpath("faults.yaml").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FaultCatalogueError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("faults"), dict):
        raise FaultCatalogueError(f"{source}: expected a top-level mapping 'faults:'")
    entries: dict[StationFault, FaultEntry] = {}
    for name, raw in data["faults"].items():
        entry = _entry(source, str(name), raw)
        entries[entry.fault] = entry
    missing = [f for f in StationFault if f not in entries]
    if missing:
        raise FaultCatalogueError(f"{source}: no entry for fault {missing[0]!s}")
    return entries
