"""Step kinds of the scenario language (a union discriminated by ``kind``).

Every step may carry ``requirement`` (the id of one of the case's requirements that the
step checks), ``level`` (MUST/SHOULD; default: the requirement's level, else MUST — a
failed SHOULD step gives NON_STRICT), ``note`` (shown in reports) and ``precondition``
(the step only brings the DUT into the state the case needs: if it fails, the verdict is
INCONCLUSIVE, because the requirement under test was never exercised).

Numbers marked *Seconds* / *Amount* accept ``${parameter}``; payloads and matchers accept
any ``${...}`` reference (see :mod:`harness.scenario.values`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from harness.scenario.fields import (
    Amount,
    Integer,
    MatcherField,
    Name,
    NonNegative,
    Payload,
    Percent,
    Seconds,
    StoreMap,
    TargetField,
)
from harness.scenario.matchers import Equals, Matcher, Subset
from harness.scenario.values import ParamRef, parse_whole_ref, resolve_int, substitute
from harness.versions import OcppVersion

__all__ = [
    "CallErrorCode",
    "ClearProfileStep",
    "CompareCompositeStep",
    "EvScheduleStep",
    "ExpectMeterValuesStep",
    "ExpectNoRequestStep",
    "ExpectProfileStep",
    "ExpectRequestStep",
    "ExpectSettledStep",
    "ExpectWakeUpStep",
    "ExternalLimitStep",
    "FuzzStep",
    "Level",
    "Mutation",
    "OfflineStep",
    "PromptResponse",
    "PromptStep",
    "Quantity",
    "Relation",
    "RepeatStep",
    "SendStep",
    "SetProfileStep",
    "Step",
    "TriggerStep",
    "VehicleAction",
    "VehicleStep",
    "WaitStep",
]

ACTION_PATTERN = r"^[A-Z][A-Za-z0-9]*$"


class Level(StrEnum):
    """Requirement level: a broken MUST is FAIL, a broken SHOULD is NON_STRICT."""

    MUST = "MUST"
    SHOULD = "SHOULD"


class CallErrorCode(StrEnum):
    """OCPP-J CALLERROR codes (1.6 and 2.x spellings both, as DUTs use either)."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str | None = Field(default=None, description="Requirement id this step checks.")
    level: Level | None = Field(default=None, description="Overrides the requirement's level.")
    note: str | None = Field(default=None, description="Free text shown in reports.")
    precondition: StrictBool = Field(
        default=False,
        description="Setup, not a check: if it fails the case is INCONCLUSIVE, not FAIL.",
    )

    needs_open_connection: ClassVar[bool] = True
    """Whether the step can only begin on the DUT's open connection (the engine stops the
    case before a step that needs one when it has closed)."""


class SendStep(_Step):
    """The harness sends a request and judges the answer.

    ``expect`` matches the CALLRESULT payload; ``expect_call_error`` lists acceptable
    CALLERROR codes. With both, either outcome passes; with only ``expect_call_error``, a
    CALLERROR is required; with neither, any CALLRESULT passes (a CALLERROR fails).
    """

    kind: Literal["send"]
    action: str = Field(pattern=ACTION_PATTERN, description="OCPP action, e.g. SetChargingProfile")
    payload: Payload = Field(default_factory=dict)
    expect: MatcherField | None = None
    expect_call_error: tuple[CallErrorCode, ...] | None = Field(default=None, min_length=1)
    timeout_s: Seconds = 30.0
    store: StoreMap = Field(default_factory=dict, description="variable: path in the response")


class ExpectRequestStep(_Step):
    """The DUT must send ``action`` within ``within_s``; the harness answers ``respond_with``.

    Other requests arriving meanwhile are answered by the runner's defaults and do not fail
    the step. ``respond_with`` ``None`` means the runner's default answer for the action.

    The first request of ``action`` is judged against ``expect``; with ``skip_unmatched``,
    requests of ``action`` that do not match are answered by default and passed over, and
    the step waits for one that matches (for streams such as OCPP 2.x TransactionEvent,
    where Updated events come before the Ended one).
    """

    kind: Literal["expect_request"]
    action: str = Field(pattern=ACTION_PATTERN)
    within_s: Seconds
    expect: MatcherField | None = None
    respond_with: Payload | None = None
    store: StoreMap = Field(default_factory=dict, description="variable: path in the request")
    skip_unmatched: StrictBool = Field(
        default=False,
        description="Pass over requests of the action that do not match expect; wait for one.",
    )


class ProfileAction(StrEnum):
    """Requests of a CSMS that carry a charging profile."""

    SET_CHARGING_PROFILE = "SetChargingProfile"
    REMOTE_START_TRANSACTION = "RemoteStartTransaction"
    """OCPP 1.6 only."""
    REQUEST_START_TRANSACTION = "RequestStartTransaction"
    """OCPP 2.x only."""


class ProfilePurposeName(StrEnum):
    """Version-neutral purposes an ``expect_profile`` step may ask for."""

    STATION_MAX = "station_max"
    TX_DEFAULT = "tx_default"
    TX = "tx"


class ExpectProfileStep(_Step):
    """(Harness as station, ``dut_role: csms``.) The CSMS must send a charging profile.

    The first ``action`` request (SetChargingProfile by default; RemoteStartTransaction in
    1.6 or RequestStartTransaction in 2.x for a profile given with a remote start) whose
    profile has ``purpose`` (any purpose when omitted) is claimed within ``within_s``. It
    passes when it is schema-valid, ``expect`` matches the whole request payload, the oracle
    finds no reason a conforming station would reject the profile (each reason quotes its
    requirement), and every limit respects the station's declared maximum and units (the
    station-role runner's ``station_*`` parameters). ``respond_with`` omitted: Accepted when
    a conforming station would accept, else Rejected.
    """

    kind: Literal["expect_profile"]
    action: ProfileAction = ProfileAction.SET_CHARGING_PROFILE
    purpose: ProfilePurposeName | None = None
    within_s: Seconds
    expect: MatcherField | None = None
    respond_with: Payload | None = None
    store: StoreMap = Field(default_factory=dict, description="variable: path in the request")


class ExpectNoRequestStep(_Step):
    """(Harness as station, ``dut_role: csms``.) The CSMS must not send ``action`` unasked.

    The station waits ``within_s`` (answering as usual); then every ``action`` request that
    came after the last request an ``expect_*`` step claimed (from the start of the case when
    none did), that no step claimed and that matches ``expect`` (when given) fails the step,
    each cited. Such a request got the station's default answer. Example: after an ISO 15118
    negotiation the CSMS does not renegotiate without cause (TC_K_53).
    """

    kind: Literal["expect_no_request"]
    action: str = Field(pattern=ACTION_PATTERN)
    within_s: Seconds
    expect: MatcherField | None = None


class EvScheduleStep(_Step):
    """(Harness as station, ``dut_role: csms``; ISO 15118 at the OCPP level.) The station
    forwards the charging schedule the EV proposes: a NotifyEVChargingSchedule request.

    ``payload`` is the request; its ``chargingSchedule`` is usually a schedule the CSMS sent
    (stored by an earlier step). The EV keeps to it (``factor`` 1) or exceeds it: with
    ``factor`` above 1 every period's ``limit`` becomes ``max(limit × factor, limit + 1)``
    (so a limit of 0 is exceeded too), in the schedule's own unit. The answer is judged as a
    ``send`` step's (``expect``, ``timeout_s``).
    """

    kind: Literal["ev_schedule"]
    payload: Payload
    factor: NonNegative = 1.0
    expect: MatcherField | None = None
    timeout_s: Seconds = 30.0


class TriggerStep(_Step):
    """(Harness as station, ``dut_role: csms``.) Make the CSMS act.

    With ``hook`` (a command line, usually ``${parameter}`` set in a lab parameter file)
    the runner runs the command (split like a shell would, without a shell) and waits at
    most ``timeout_s`` for it to exit 0; the command gets ``OCPP_HARNESS_STATION_ID``,
    ``OCPP_HARNESS_CASE_ID``, ``OCPP_HARNESS_OCPP_VERSION``, ``OCPP_HARNESS_MESSAGE`` and
    every variable as ``OCPP_HARNESS_VAR_<NAME>`` in its environment. Without a hook (or an
    empty one) the operator is shown ``message`` and acknowledges it. A trigger that fails
    (non-zero exit, timeout, no operator) makes the case INCONCLUSIVE: the CSMS was never
    told to act. Requests the CSMS sends meanwhile are answered by the following
    ``expect_*`` steps.
    """

    kind: Literal["trigger"]
    message: str = Field(min_length=1, description="What the CSMS must be made to do")
    hook: str | None = Field(default=None, description="Command line; empty: ask the operator")
    timeout_s: Seconds = 60.0


class WaitStep(_Step):
    """Let clock time pass (the runner keeps answering the DUT meanwhile)."""

    kind: Literal["wait"]
    duration_s: Seconds


class VehicleAction(StrEnum):
    """What can be done to the vehicle."""

    PLUG_IN = "plug_in"
    UNPLUG = "unplug"
    SET_SOC = "set_soc"
    WAKE = "wake"
    RENEGOTIATE = "renegotiate"
    """An ISO 15118 vehicle asks to renegotiate its charging schedule (OCPP 2.x K17)."""


class VehicleStep(_Step):
    """Change the vehicle. In simulation the simulated vehicle does it; in a lab, plug_in,
    unplug and wake become an operator prompt, and set_soc makes the case NOT_APPLICABLE
    (see :attr:`possible_in_lab` and :func:`harness.scenario.capabilities.selects`). An
    unattended lab run keeps the vehicles plugged in and skips plug_in / unplug, unless the
    step is a ``precondition`` (the case needs the cable event itself): then the case is
    INCONCLUSIVE."""

    kind: Literal["vehicle"]
    action: VehicleAction
    evse: Integer = 1
    soc_percent: Percent | None = Field(default=None, description="Only for set_soc: 0..100")

    @property
    def possible_in_lab(self) -> bool:
        """Whether an operator can do this in a lab."""
        return self.action is not VehicleAction.SET_SOC

    def lab_prompt(self, *, evse: int | None = None) -> str:
        """The operator instruction that replaces this step in a lab (``evse``: the resolved
        EVSE id, when :attr:`evse` is a ``${parameter}``)."""
        words = {
            VehicleAction.PLUG_IN: "Plug the vehicle in at EVSE {evse}",
            VehicleAction.UNPLUG: "Unplug the vehicle from EVSE {evse}",
            VehicleAction.WAKE: "Wake the vehicle at EVSE {evse} (unlock it or open a door)",
            VehicleAction.SET_SOC: "Bring the vehicle at EVSE {evse} to the state of charge",
            VehicleAction.RENEGOTIATE: (
                "Make the ISO 15118 vehicle (or EV emulator) at EVSE {evse} renegotiate its"
                " charging schedule"
            ),
        }
        shown = self.evse if evse is None else evse
        return words[self.action].format(evse=shown) + ", then confirm."


class ExpectWakeUpStep(_Step):
    """What woke the vehicle during this case (after a long pause, say): nothing, or a
    wake-up of the station's (pilot toggle B↔C, state F). Passes when no wake-up was
    needed; a wake-up the station had to use (or tried in vain) fails the step's
    requirement, and the check's Actual names it (``woken by: <method>``), so a report can
    show per vehicle what it needed. A simulated station reports what it did; in a lab the
    operator is asked."""

    kind: Literal["expect_wake_up"]
    evse: Integer = 1

    def lab_prompt(self, *, evse: int) -> str:
        """The operator question that replaces the station's own record in a lab."""
        return (
            f"Did the vehicle at EVSE {evse} resume by itself, without the station "
            "interrupting the pilot (toggle or state F) and without an unplug?"
        )


class ReconnectStep(_Step):
    """The DUT's connection ends — it reboots (after a Reset, say) — and the DUT connects
    again within ``within_s`` (clock seconds from the step's start); the case goes on on the
    new connection (the harness answers as before, the trace goes on). With ``boot`` the DUT
    must also send a BootNotification on the new connection (the harness accepts it). A DUT
    that keeps its connection open, or does not come back in time, fails the step (and ends
    the case: what follows needs the new connection)."""

    needs_open_connection: ClassVar[bool] = False  # it takes the DUT's next connection

    kind: Literal["reconnect"]
    within_s: Seconds = 180.0
    boot: StrictBool = Field(default=True, description="A BootNotification must follow")


class OfflineStep(_Step):
    """The station loses its connection to the CSMS for ``duration_s`` (clock seconds from the
    step's start) and works offline meanwhile (OCPP 2.0.1 E04, K15 offline: OCA TC_K_56_CS).
    In simulation the simulated station drops its connection and goes on simulating and
    queueing; in a lab the operator takes the station's network down (the harness then
    closes its end). With ``id_token`` a driver presents that token at ``evse`` while the
    station is offline (it authorizes locally: the reusable state "Authorized (local)"; in a
    lab an operator prompt). When the time is up the station may connect again (in a lab:
    the operator brings the network back): a ``reconnect`` step (``boot: false``) takes the
    new connection. Fails when the connection is still open ``close_within_s`` after the
    step's start."""

    kind: Literal["offline"]
    duration_s: Seconds = 60.0
    close_within_s: Seconds = 30.0
    evse: Integer = 1
    id_token: str | None = Field(
        default=None, description="A token presented at the EVSE offline (local authorization)"
    )

    def lab_prompts(
        self, *, evse: int, duration_s: float, id_token: str | None
    ) -> tuple[str, str, str]:
        """The operator instructions in a lab: take it offline, present ``id_token`` (the
        resolved :attr:`id_token`), bring it back."""
        return (
            f"Take the charging station offline: disconnect its network link to the CSMS (keep "
            f"it powered) for about {duration_s:g} s, then confirm",
            f"Present the idToken {id_token} at EVSE {evse} (the station authorizes it "
            "locally while offline), then confirm",
            "Bring the charging station back online (reconnect its network link), then confirm",
        )


class ExternalLimitStep(_Step):
    """An external system (an energy management system, the grid operator) sets or lifts a
    limit at the station, outside OCPP (K12 in 2.0.1: the station reports it with
    NotifyChargingLimit / ClearedChargingLimit). In simulation the simulated station gets
    it; in a lab it becomes an operator prompt. ``limit_a`` ``None`` lifts the limit."""

    kind: Literal["external_limit"]
    evse: Integer = 1
    limit_a: Amount | None = Field(default=None, description="Amperes per phase; none: lift it")

    def lab_prompt(self, limit_a: float | None, evse: int) -> str:
        """The operator instruction that replaces this step in a lab."""
        if limit_a is None:
            return f"Lift the external (EMS) limit on EVSE {evse}"
        return f"Set an external (EMS) limit of {limit_a:g} A per phase on EVSE {evse}"


class PromptResponse(StrEnum):
    """What the operator answers: an acknowledgement, or yes (pass) / no (fail)."""

    ACK = "ack"
    YES_NO = "yes_no"


class PromptStep(_Step):
    """Ask the lab operator. In simulation the runner acknowledges it (answers yes)."""

    kind: Literal["prompt"]
    message: str = Field(min_length=1)
    response: PromptResponse = PromptResponse.ACK
    timeout_s: Seconds | None = Field(default=None, description="None waits for ever")


class Quantity(StrEnum):
    """What ``expect_settled`` measures: currents per phase (A), powers in total (W)."""

    CURRENT = "current"
    POWER = "power"
    CURRENT_OFFERED = "current_offered"
    POWER_OFFERED = "power_offered"
    POWER_EXPORT = "power_export"

    @property
    def measurand(self) -> str:
        """The OCPP measurand that reports it (a lab meter may stand in for the import ones)."""
        return _MEASURANDS[self]

    @property
    def unit(self) -> str:
        """``A`` or ``W``."""
        return "A" if self in {Quantity.CURRENT, Quantity.CURRENT_OFFERED} else "W"


_MEASURANDS = {
    Quantity.CURRENT: "Current.Import",
    Quantity.POWER: "Power.Active.Import",
    Quantity.CURRENT_OFFERED: "Current.Offered",
    Quantity.POWER_OFFERED: "Power.Offered",
    Quantity.POWER_EXPORT: "Power.Active.Export",
}


class Relation(StrEnum):
    """How the settled value compares with the target (± ``tolerance``).

    ``near``: |value − target| ≤ tolerance. ``at_or_below``: value ≤ target + tolerance
    (the vehicle may draw less). ``at_least``: value ≥ target − tolerance.
    """

    NEAR = "near"
    AT_OR_BELOW = "at_or_below"
    AT_LEAST = "at_least"


class ExpectSettledStep(_Step):
    """The measured quantity must settle by a deadline.

    Settled: the value (every phase's, for currents) relates to ``scale × target`` as
    ``relation`` says, within ``max(tolerance, rel_tolerance × |scale × target|)``, held for
    ``hold_s``, starting no later than ``within_s`` after the step begins. ``target: limit``
    is the oracle's limit in force, converted to the quantity's unit. ``phases`` (when
    given) is the number of phases that must carry current; the others must stay below
    ``tolerance``.
    """

    kind: Literal["expect_settled"]
    quantity: Quantity = Quantity.CURRENT
    evse: Integer = 1
    target: TargetField
    scale: NonNegative = 1.0
    relation: Relation = Relation.NEAR
    tolerance: NonNegative
    rel_tolerance: NonNegative = 0.0
    within_s: Seconds
    hold_s: Seconds = 10.0
    phases: StrictInt | None = Field(default=None, ge=1, le=3)


class ExpectMeterValuesStep(_Step):
    """The DUT must send ``count`` MeterValues for connector/EVSE ``evse`` within
    ``within_s`` (default: ``count + 1`` intervals), judged as the OCA 1.6 meter-values
    cases (TC_070_CS, TC_071_CS) validate them: consecutive ``meterValue.timestamp`` values
    ``interval_s`` apart (± ``tolerance_s``); with ``aligned``, each timestamp on a multiple
    of ``interval_s`` since midnight UTC; every sampledValue of ``context`` (1.6: an absent
    context is Sample.Periodic); a sampledValue for each measurand of ``measurands`` (a
    comma-separated configuration value; empty: Energy.Active.Import.Register, as is an
    absent measurand); no location EV except for SoC. MeterValues of other connectors, and
    those without interval data (only Transaction.Begin/End, Trigger... contexts), are
    answered and passed over.
    """

    kind: Literal["expect_meter_values"]
    evse: Integer = 1
    count: Integer = 3
    interval_s: Seconds
    aligned: StrictBool = False
    context: Literal["Sample.Periodic", "Sample.Clock"] = "Sample.Periodic"
    measurands: str = Field(default="", description="Comma-separated, e.g. ${sampled_data}")
    tolerance_s: Seconds = 1.0
    within_s: Seconds | None = None


class CompareCompositeStep(_Step):
    """GetCompositeSchedule for ``evse`` over ``duration_s`` in ``unit``; the answer must
    equal the oracle's composite (period list compared exactly, limits within
    ``tolerance``)."""

    kind: Literal["compare_composite"]
    evse: Integer = Field(default=1, description="0 = the whole station")
    duration_s: Seconds
    unit: Literal["A", "W"] = "A"
    tolerance: NonNegative = 0.0


_ACCEPTED: Matcher = Subset((("status", Equals("Accepted")),))


def _template(value: int | ParamRef) -> int | str:
    """A number field as a payload template value (a reference becomes ``${name}``)."""
    return str(value) if isinstance(value, ParamRef) else value


class SetProfileStep(_Step):
    """SetChargingProfile, written once for every version: ``profile`` is the version's
    charging-profile object. Without an expectation, ``status: Accepted`` is expected."""

    kind: Literal["set_profile"]
    evse: Integer = Field(default=1, description="connectorId (1.6) / evseId (2.x); 0 = station")
    profile: Payload
    expect: MatcherField | None = None
    expect_call_error: tuple[CallErrorCode, ...] | None = Field(default=None, min_length=1)
    timeout_s: Seconds = 30.0

    def as_send(self, version: OcppVersion) -> SendStep:
        """The equivalent :class:`SendStep` for ``version`` (what the runner executes)."""
        if version is OcppVersion.V16:
            payload: dict[str, Any] = {
                "connectorId": _template(self.evse),
                "csChargingProfiles": self.profile,
            }
        else:
            payload = {"evseId": _template(self.evse), "chargingProfile": self.profile}
        expect = self.expect if self.expect is not None or self.expect_call_error else _ACCEPTED
        return SendStep(
            kind="send",
            action="SetChargingProfile",
            payload=payload,
            expect=expect,
            expect_call_error=self.expect_call_error,
            timeout_s=self.timeout_s,
            requirement=self.requirement,
            level=self.level,
            note=self.note,
            precondition=self.precondition,
        )


class ClearProfileStep(_Step):
    """ClearChargingProfile by id and/or criteria (none of them: clear all). Without an
    expectation, ``status: Accepted`` is expected."""

    kind: Literal["clear_profile"]
    profile_id: Integer | None = None
    evse: Integer | None = None
    purpose: str | None = Field(default=None, description="The version's purpose name")
    stack_level: StrictInt | None = Field(default=None, ge=0)
    expect: MatcherField | None = None
    expect_call_error: tuple[CallErrorCode, ...] | None = Field(default=None, min_length=1)
    timeout_s: Seconds = 30.0

    def as_send(self, version: OcppVersion) -> SendStep:
        """The equivalent :class:`SendStep` for ``version`` (what the runner executes)."""
        criteria: dict[str, Any] = {
            key: value
            for key, value in (
                ("chargingProfilePurpose", self.purpose),
                ("stackLevel", self.stack_level),
            )
            if value is not None
        }
        payload: dict[str, Any] = {}
        if version is OcppVersion.V16:
            if self.profile_id is not None:
                payload["id"] = _template(self.profile_id)
            if self.evse is not None:
                payload["connectorId"] = _template(self.evse)
            payload.update(criteria)
        else:
            if self.profile_id is not None:
                payload["chargingProfileId"] = _template(self.profile_id)
            if self.evse is not None:
                criteria = {"evseId": _template(self.evse), **criteria}
            if criteria:
                payload["chargingProfileCriteria"] = criteria
        expect = self.expect if self.expect is not None or self.expect_call_error else _ACCEPTED
        return SendStep(
            kind="send",
            action="ClearChargingProfile",
            payload=payload,
            expect=expect,
            expect_call_error=self.expect_call_error,
            timeout_s=self.timeout_s,
            requirement=self.requirement,
            level=self.level,
            note=self.note,
            precondition=self.precondition,
        )


class Mutation(StrEnum):
    """What a ``fuzz`` step does to a valid request (see :class:`FuzzStep`)."""

    WRONG_TYPE = "wrong_type"
    MISSING_REQUIRED = "missing_required"
    OUT_OF_RANGE = "out_of_range"
    OVERSIZED_STRING = "oversized_string"
    UNKNOWN_ACTION = "unknown_action"
    NOT_JSON = "not_json"
    BAD_FRAME = "bad_frame"
    EXTREME_PROFILE = "extreme_profile"


class FuzzStep(_Step):
    """A seeded barrage of malformed and edge-case requests (generated with hypothesis).

    ``count`` requests, each a valid request of one of ``actions`` (default: a built-in set
    of the version's CSMS-to-station actions) changed by one of ``mutations`` (default: all):
    a field of the wrong JSON type, a required field left out, a value out of range (enum,
    bounds), a string far over its maxLength, an action the version does not have, a frame
    that is not JSON, a frame of the wrong shape, or a schema-valid SetChargingProfile that
    the smart-charging rules make a station reject (too many periods, a first period not at
    0, a negative limit, a stack level over the maximum...). At the step's level each must
    be refused within ``timeout_s`` — a CALLERROR, or ``Rejected`` for an extreme profile —
    and the DUT must stay connected; at SHOULD, each CALLERROR's code must be one the
    specification gives for that fault (``harness.robustness.answers.ANSWERS``). The same
    ``seed`` gives the same requests (the seed is a parameter of the case, stored with its
    result: ``--param CASE:seed=N`` replays or varies a run).
    """

    kind: Literal["fuzz"]
    seed: Integer
    count: Integer = 50
    actions: tuple[Annotated[str, Field(pattern=ACTION_PATTERN)], ...] | None = Field(
        default=None, min_length=1
    )
    mutations: tuple[Mutation, ...] | None = Field(default=None, min_length=1)
    timeout_s: Seconds = 10.0


LoopValue = StrictBool | StrictInt | float | str


class RepeatStep(_Step):
    """Run ``steps`` again and again: ``times`` times, or once per value of ``for_each``.

    ``for_each: {limit_a: [16, 8, 12]}`` binds ``${limit_a}`` to each value in turn (one
    name per repeat; a value may itself be ``${parameter}``). Exactly one of ``times`` and
    ``for_each`` is given. Variables stored inside keep the value of the latest iteration.
    """

    kind: Literal["repeat"]
    times: Integer | None = None
    for_each: dict[Name, list[LoopValue]] | None = None
    steps: tuple[Step, ...] = Field(min_length=1)

    def bindings(self, *, variables: Mapping[str, Any]) -> list[dict[str, LoopValue]]:
        """One variable binding per iteration (empty bindings for ``times``)."""
        if self.for_each is not None:
            ((name, values),) = self.for_each.items()
            return [{name: _bind(value, variables)} for value in values]
        count = resolve_int(self.times, variables=variables) if self.times is not None else 0
        return [{} for _ in range(count)]


def _bind(value: LoopValue, variables: Mapping[str, Any]) -> LoopValue:
    ref = parse_whole_ref(value) if isinstance(value, str) else None
    if isinstance(ref, ParamRef):
        bound: LoopValue = substitute(value, variables=variables, now=_NO_NOW)
        return bound
    return value


_NO_NOW = datetime(1970, 1, 1, tzinfo=UTC)  # only ${name} is resolved here, never ${now}


Step = Annotated[
    SendStep
    | ExpectRequestStep
    | WaitStep
    | VehicleStep
    | ExternalLimitStep
    | PromptStep
    | ExpectSettledStep
    | ExpectWakeUpStep
    | ReconnectStep
    | OfflineStep
    | CompareCompositeStep
    | ExpectMeterValuesStep
    | SetProfileStep
    | ClearProfileStep
    | FuzzStep
    | ExpectProfileStep
    | TriggerStep
    | ExpectNoRequestStep
    | EvScheduleStep
    | RepeatStep,
    Field(discriminator="kind"),
]
"""Any step; ``match step: case SendStep(): ...`` in the runner."""

RepeatStep.model_rebuild()

STATION_ROLE_ONLY = frozenset({"expect_profile", "trigger", "expect_no_request", "ev_schedule"})
"""Step kinds only a harness playing the station runs (cases with ``dut_role: csms``)."""
CSMS_ROLE_ONLY = frozenset(
    {
        "vehicle",
        "expect_settled",
        "expect_wake_up",
        "expect_meter_values",
        "reconnect",
        "offline",
        "compare_composite",
        "set_profile",
        "clear_profile",
    }
)
"""Step kinds only a harness playing the CSMS runs (cases with ``dut_role: station``)."""
