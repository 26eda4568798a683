"""A scenario file from a recording (``ocpp-harness scenario from-trace``).

The device under test is one side of the recording (``role``); the harness plays the
other side as recorded:

* the harness side's CALLs become ``send`` steps, whose ``expect`` is built from the DUT's
  recorded CALLRESULT (or ``expect_call_error`` from its CALLERROR);
* the DUT's CALLs become ``expect_request`` steps with an ``expect`` built from the recorded
  request and the harness side's recorded answer as ``respond_with``;
* with ``role`` station, the station's BootNotification, Heartbeat and StatusNotification
  requests are not steps (the runner boots the station before a case and answers them by
  default), but a StatusNotification showing a vehicle arriving (1.6 Preparing, Charging,
  Suspended…; 2.x Occupied) or leaving (Available) becomes a ``vehicle`` plug_in / unplug
  step at its recorded time;
* the gaps before the harness's sends become ``wait`` steps (recorded gap × ``time_scale``;
  each step's note gives its recorded offset from the start), and each ``expect_request``
  waits for the recorded gap plus ``within_slack_s``.

Clocks (:func:`side_clocks`): the recorder stamps frames with its own clock, while a side may
run another (a simulator or harness at ``--speed``, a CSMS whose clock is off). Each side's
clock is read from the instants it sends as "now" (``currentTime``, top-level ``timestamp``);
recorded instants become ``${now±Ns}`` against the sender's clock and the gaps are measured
in the replayed side's clock, so a replay at any ``--speed`` keeps them where the recording
had them. Without such instants the recorder's clock is used.

Default matchers (see :class:`~harness.scenario.redact.ValueMapper`): message ids are never
compared (steps have none); RFC 3339 timestamps only need to be present in what the DUT
sends and become ``${now±Ns}`` (the recorded offset from the sender's own clock when it sent
the frame) in what the harness sends; texts (``status`` and every enumeration) exact; integers
in fields named ``…Id``/``…Level``/``…Number``/``…Count``/``…Interval`` exact, other numbers
``approx`` within the tolerance, decimal texts in ``value`` fields (1.6 sampled values) any decimal.
A transaction id (``transactionId`` anywhere, so 1.6 ``transactionId`` and
2.x ``transactionInfo.transactionId``) the DUT assigns is stored (``store:``) and referred to
afterwards; one the harness assigns becomes a parameter. Personal data — idTag /
parentIdTag / idToken, any field named like *password*, *token*, *secret*, the
AuthorizationKey and BasicAuthPassword settings, and with ``redact_serials`` serial numbers,
ICCID and IMSI — becomes a string parameter with a placeholder default (``ID-TAG-1``); the
recorded value is never written. Frames that are not OCPP-J CALL/CALLRESULT/CALLERROR
arrays (invalid or binary) are skipped and counted in the description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from harness.proxy.importers import RecordedFrame, Recording, Sender
from harness.scenario.checks import known_actions
from harness.scenario.fields import DutRole
from harness.scenario.redact import Tolerance, ValueMapper, is_timestamp, parse_timestamp
from harness.scenario.steps import CallErrorCode
from harness.versions import OcppVersion

__all__ = [
    "FromTraceOptions",
    "SideClock",
    "scenario_from_recording",
    "scenario_yaml",
    "side_clocks",
]

REQUIREMENT_ID: Final = "REPLAY"
HOUSEKEEPING: Final = frozenset({"BootNotification", "Heartbeat", "StatusNotification"})
"""A station's requests that are not replayed as steps when the DUT is the station: the
runner boots the station before a case and answers these by default; their number and
timing follow the connection and the vehicle, not the recorded session."""
_VALID_ERRORS: Final = frozenset(code.value for code in CallErrorCode)


@dataclass(frozen=True, slots=True)
class FromTraceOptions:
    """How to turn a recording into a case. ``version`` ``None``: inferred from the actions."""

    role: DutRole
    version: OcppVersion | None = None
    time_scale: float = 1.0
    case_id: str | None = None
    title: str | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    redact_serials: bool = False
    min_wait_s: float = 0.05
    within_slack_s: float = 30.0


@dataclass(slots=True)
class _Call:
    frame: RecordedFrame
    message_id: str
    action: str
    payload: dict[str, Any]
    answer: RecordedFrame | None = None
    result: dict[str, Any] | None = None
    error_code: str | None = None


def _calls(recording: Recording) -> tuple[list[_Call], int]:
    """CALLs in order, each with its answer; and how many frames were skipped."""
    calls: list[_Call] = []
    open_calls: dict[tuple[Sender, str], _Call] = {}
    skipped = 0
    for frame in recording.frames:
        message = frame.message()
        kind = message[0] if message else None
        if (
            message is not None
            and kind == 2
            and len(message) == 4
            and isinstance(message[1], str)
            and isinstance(message[2], str)
            and isinstance(message[3], dict)
        ):
            call = _Call(frame, message[1], message[2], message[3])
            calls.append(call)
            open_calls[(frame.sender, call.message_id)] = call
            continue
        answered = None
        if message is not None and kind in (3, 4) and len(message) > 1:
            answered = open_calls.pop((frame.sender.other, str(message[1])), None)
        if answered is None or message is None:
            skipped += 1
        elif kind == 3 and len(message) == 3 and isinstance(message[2], dict):
            answered.answer, answered.result = frame, message[2]
        elif kind == 4 and len(message) >= 3 and isinstance(message[2], str):
            answered.answer, answered.error_code = frame, message[2]
        else:
            skipped += 1
    return calls, skipped


def infer_version(actions: set[str]) -> OcppVersion:
    """The first OCPP version (1.6, 2.0.1, 2.1) that knows every recorded action."""
    for version in OcppVersion:
        if actions <= known_actions(version):
            return version
    raise ValueError(
        f"no single OCPP version knows all recorded actions ({', '.join(sorted(actions))}); "
        "give the version explicitly"
    )


def _id_paths(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """``(payload path, value)`` of every ``transactionId`` field in ``value``."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "transactionId" and isinstance(sub, int | str) and not isinstance(sub, bool):
                found.append((here, sub))
            else:
                found.extend(_id_paths(sub, here))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found.extend(_id_paths(sub, f"{path}[{index}]"))
    return found


def _stores(mapper: ValueMapper, payload: Any) -> dict[str, str]:
    """Variables for transaction ids the DUT assigns in ``payload`` (first sight only)."""
    stores: dict[str, str] = {}
    for path, value in _id_paths(payload):
        if mapper.known_id(value) is None:
            stores[mapper.id_variable(value)] = path
    return stores


_PLUGGED: Final = frozenset({"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Occupied"})


def _vehicle_change(payload: dict[str, Any], plugged: set[int]) -> tuple[str, int] | None:
    """``("plug_in" | "unplug", evse)`` when a recorded StatusNotification shows a vehicle
    arriving at (1.6 Preparing/Charging/Suspended…, 2.x Occupied) or leaving (Available) a
    connector; updates ``plugged``."""
    status = payload.get("status", payload.get("connectorStatus"))
    evse = payload.get("evseId", payload.get("connectorId"))
    if not isinstance(evse, int) or isinstance(evse, bool) or evse < 1:
        return None
    if status in _PLUGGED and evse not in plugged:
        plugged.add(evse)
        return "plug_in", evse
    if status == "Available" and evse in plugged:
        plugged.discard(evse)
        return "unplug", evse
    return None


_NOW_FIELDS: Final = ("currentTime", "timestamp")
"""Top-level payload fields that carry the sender's clock at the moment it sends: the CSMS's
``currentTime`` (BootNotification, Heartbeat answers), a station's ``timestamp``
(StatusNotification, Start/StopTransaction, TransactionEvent, ...)."""
_SAME_SPEED: Final = 0.05
"""A fitted clock speed within this of 1 is taken as 1 (stamps have whole seconds)."""


@dataclass(frozen=True, slots=True)
class SideClock:
    """A side's clock as the recording shows it: its time (seconds after the recording's
    first frame) at a frame's recorded offset is ``offset_s + speed × frame offset``.

    The recorder stamps frames with its own clock; the sides may run another one (a
    simulator or a harness at ``--speed``, a CSMS whose clock is off). Instants a side sends
    (a profile's ``startSchedule``) are relative to *its* now, so they are taken against this
    clock, not the recorder's."""

    speed: float = 1.0
    offset_s: float = 0.0

    def at(self, frame_offset_s: float) -> float:
        """The side's clock, in seconds after the recording's start, at ``frame_offset_s``."""
        return self.offset_s + self.speed * frame_offset_s


def _now_stamps(recording: Recording) -> dict[Sender, list[tuple[float, float]]]:
    """Per sender, ``(frame offset, its clock)`` from every top-level ``currentTime`` /
    ``timestamp`` it sent (in a CALL or a CALLRESULT), both in seconds after the start."""
    stamps: dict[Sender, list[tuple[float, float]]] = {Sender.STATION: [], Sender.CSMS: []}
    for frame in recording.frames:
        message = frame.message()
        if message is None:
            continue
        payload = message[3] if message[0] == 2 and len(message) == 4 else None
        if message[0] == 3 and len(message) == 3:
            payload = message[2]
        if not isinstance(payload, dict):
            continue
        for name in _NOW_FIELDS:
            value = payload.get(name)
            if isinstance(value, str) and is_timestamp(value):
                clock_s = (parse_timestamp(value) - recording.started_at).total_seconds()
                stamps[frame.sender].append((frame.offset_s, clock_s))
                break
    return stamps


def _fit(points: list[tuple[float, float]], speed: float | None) -> SideClock | None:
    """The clock through ``points`` (least squares; ``speed`` given: only the offset)."""
    if not points:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    if speed is None:
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        if n < 2 or max(x for x, _ in points) - min(x for x, _ in points) < 1.0:
            return None
        fitted = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
        if fitted <= 0:
            return None
        speed = 1.0 if abs(fitted - 1.0) < _SAME_SPEED else fitted
    return SideClock(speed=speed, offset_s=mean_y - speed * mean_x)


def side_clocks(recording: Recording) -> dict[Sender, SideClock]:
    """Each side's clock from the instants it sent (:class:`SideClock`). A side with a
    single instant takes the other side's speed (stations set their clock from the CSMS's);
    a side with none takes the other side's clock; with none at all, the recorder's."""
    stamps = _now_stamps(recording)
    fitted = {side: _fit(points, None) for side, points in stamps.items()}
    clocks: dict[Sender, SideClock] = {}
    for side in Sender:
        own = fitted[side]
        other = fitted[side.other]
        if own is None:
            own = _fit(stamps[side], other.speed if other is not None else 1.0)
        if own is None:
            other_points = stamps[side.other]
            own = other or _fit(other_points, 1.0) or SideClock()
        clocks[side] = own
    return clocks


def _clock_note(clocks: dict[Sender, SideClock], replayed: Sender) -> str:
    """Says so when a side's clock ran at another speed than the recorder's."""
    speed = clocks[replayed].speed
    if speed == 1.0:
        return ""
    return f", in the {replayed.value}'s clock ({speed:.3g}× the recorder's)"


def _case_id(recording: Recording, options: FromTraceOptions) -> str:
    if options.case_id is not None:
        return options.case_id
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(recording.source).stem).strip("-")
    return f"REPLAY-{stem or 'recording'}"[:80]


def scenario_from_recording(recording: Recording, options: FromTraceOptions) -> dict[str, Any]:
    """The case (a YAML-ready mapping) replaying ``recording`` against a DUT of ``role``."""
    if options.time_scale <= 0:
        raise ValueError(f"time_scale must be positive, got {options.time_scale}")
    calls, skipped = _calls(recording)
    if not calls:
        raise ValueError(f"{recording.source}: the recording has no OCPP-J CALL to replay")
    version = options.version or infer_version({c.action for c in calls})
    dut = Sender(options.role.value)
    mapper = ValueMapper(serials=options.redact_serials, tolerance=options.tolerance)
    scale = options.time_scale
    clocks = side_clocks(recording)
    timeline = clocks[dut.other]
    """The replayed side's clock: the harness keeps its gaps (its waits, the DUT's delays)."""
    steps: list[dict[str, Any]] = []
    previous_s = 0.0
    housekeeping = 0
    plugged: set[int] = set()
    for call in calls:
        if (
            options.role is DutRole.STATION
            and call.frame.sender is dut
            and call.action in HOUSEKEEPING
        ):
            housekeeping += 1
            vehicle = _vehicle_change(call.payload, plugged)
            if vehicle is not None:
                action, evse = vehicle
                at_s = call.frame.offset_s
                gap_s = max(0.0, timeline.at(at_s) - timeline.at(previous_s)) * scale
                where = f"recorded at +{at_s:.3f} s (line {call.frame.line})"
                if gap_s >= options.min_wait_s:
                    steps.append({"kind": "wait", "duration_s": round(gap_s, 3), "note": where})
                note = f"{where}: the station reported the connector {action.replace('_', ' ')}"
                steps.append({"kind": "vehicle", "action": action, "evse": evse, "note": note})
            # Later gaps count from this exchange, as the runner answers it in the replay.
            previous_s = call.answer.offset_s if call.answer is not None else call.frame.offset_s
            continue
        at_s = call.frame.offset_s
        gap_s = max(0.0, timeline.at(at_s) - timeline.at(previous_s)) * scale
        sent_at = recording.started_at + timedelta(seconds=clocks[call.frame.sender].at(at_s))
        where = f"recorded at +{at_s:.3f} s (line {call.frame.line})"
        if call.frame.sender is not dut:
            if gap_s >= options.min_wait_s:
                steps.append({"kind": "wait", "duration_s": round(gap_s, 3), "note": where})
            step: dict[str, Any] = {
                "kind": "send",
                "requirement": REQUIREMENT_ID,
                "note": where,
                "action": call.action,
                "payload": mapper.payload(call.payload, sent_at=sent_at),
            }
            if call.result is not None:
                stores = _stores(mapper, call.result)
                step["expect"] = mapper.matcher(call.result, fresh=frozenset(stores))
                if stores:
                    step["store"] = stores
            elif call.error_code is not None and call.error_code in _VALID_ERRORS:
                step["expect_call_error"] = [call.error_code]
            else:
                step["note"] = f"{where}; no answer was recorded"
        else:
            stores = _stores(mapper, call.payload)
            step = {
                "kind": "expect_request",
                "requirement": REQUIREMENT_ID,
                "note": where,
                "action": call.action,
                "within_s": round(gap_s + options.within_slack_s, 3),
                "expect": mapper.matcher(call.payload, fresh=frozenset(stores)),
            }
            if call.result and call.answer is not None:
                answered_s = clocks[call.answer.sender].at(call.answer.offset_s)
                answered_at = recording.started_at + timedelta(seconds=answered_s)
                step["respond_with"] = mapper.payload(call.result, sent_at=answered_at)
            elif call.error_code is not None:
                step["note"] = (
                    f"{where}; recorded answer CALLERROR {mapper.scrub_text(call.error_code)} "
                    "(the runner's default answer is used)"
                )
            if stores:
                step["store"] = stores
        steps.append(step)
        previous_s = call.answer.offset_s if call.answer is not None else at_s
    source = Path(recording.source).name
    description = (
        f"Generated by ocpp-harness scenario from-trace from {source}: {len(calls)} calls "
        f"replayed, {housekeeping} of the station's BootNotification/Heartbeat/"
        "StatusNotification requests left to the runner's default answers, "
        f"{skipped} other frames skipped (invalid, binary or unanswered answers); "
        f"recorded gaps scaled by {scale:g}{_clock_note(clocks, dut.other)}. Personal data "
        "is replaced by parameters."
    )
    role_word = "charging station" if options.role is DutRole.STATION else "CSMS"
    return {
        "id": _case_id(recording, options),
        "title": options.title or f"Replay of {source} against the {role_word}",
        "description": mapper.scrub_text(description),
        "suite": "recorded",
        "category": "replay",
        "ocpp_versions": [version.value],
        "dut_role": options.role.value,
        "requirements": [
            {
                "id": REQUIREMENT_ID,
                "level": "MUST",
                "text": "the DUT requests and answers as it did in the recording",
            }
        ],
        "parameters": mapper.parameters,
        "steps": steps,
    }


def scenario_yaml(case: dict[str, Any]) -> str:
    """The case as YAML text, with a comment saying where it came from."""
    header = "# Generated from a recording by `ocpp-harness scenario from-trace`; edit freely.\n"
    body = yaml.safe_dump(case, sort_keys=False, allow_unicode=True, width=100)
    return header + body
