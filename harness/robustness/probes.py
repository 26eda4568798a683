"""Seeded generation of malformed requests, each with the answers a conforming DUT may give.

How each mutation's acceptable answers are decided: the fault is classified (what is wrong
with the frame), and the codes come from :data:`harness.robustness.answers.ANSWERS`, a table
written from the OCPP-J CALLERROR definitions and citing them — not from the session
layer's own choice of code, which the simulated stations use to answer:

* schema mutations (``wrong_type``, ``missing_required``, ``out_of_range``,
  ``oversized_string``): the mutated payload is checked against the version's JSON schema
  (:class:`harness.session.schemas.SchemaSet`); a mutation that is still valid is dropped;
  the fault's class (occurrence, type, property, format) picks the table's row;
* ``unknown_action``: NotImplemented (OCPP-J 1.6 §4.2.3, 2.0.1 Part 4 §4.3);
* ``not_json`` / ``bad_frame``: the frame is parsed by :func:`harness.session.frames.parse_frame`;
  its fault class picks the row, the readable message id (or ``"-1"``) the answer id. OCPP
  1.6 has no rule for answering a frame whose id cannot be read, so there no answer passes too;
* ``extreme_profile``: a schema-valid SetChargingProfile that breaks a smart-charging rule of
  :func:`harness.smartcharging.violations` (K01.FR.* / 1.6 §3.13): ``Rejected``, or a CALLERROR
  of a constraint class.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Final

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from harness.robustness.answers import Answer, Fault, answer_for
from harness.session.errors import ErrorCode, Malformation
from harness.session.frames import FrameError, parse_frame
from harness.session.schemas import PayloadKind, schema_set
from harness.smartcharging import StationContext, parse_set_charging_profile, violations
from harness.versions import OcppVersion

__all__ = ["MUTATIONS", "Probe", "fuzz_actions", "generate_probes"]

MUTATIONS: Final = (
    "wrong_type",
    "missing_required",
    "out_of_range",
    "oversized_string",
    "unknown_action",
    "not_json",
    "bad_frame",
    "extreme_profile",
)
"""Every mutation, in the order of :class:`harness.scenario.Mutation`."""

_PROFILE_16: dict[str, Any] = {
    "chargingProfileId": 9101,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    },
}
_PROFILE_2X: dict[str, Any] = {
    "id": 9101,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    ],
}
_VALID_16: dict[str, dict[str, Any]] = {
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "300"},
    "GetConfiguration": {"key": ["HeartbeatInterval"]},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": _PROFILE_16},
    "ClearChargingProfile": {"id": 9101, "connectorId": 1},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "TriggerMessage": {"requestedMessage": "Heartbeat", "connectorId": 1},
    "RemoteStartTransaction": {"idTag": "ROBUSTNESS", "connectorId": 1},
}
_VALID_2X: dict[str, dict[str, Any]] = {
    "SetVariables": {
        "setVariableData": [
            {
                "attributeValue": "300",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    },
    "GetVariables": {
        "getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        ]
    },
    "SetChargingProfile": {"evseId": 1, "chargingProfile": _PROFILE_2X},
    "ClearChargingProfile": {"chargingProfileId": 9101},
    "GetCompositeSchedule": {"evseId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "TriggerMessage": {"requestedMessage": "Heartbeat"},
    "RequestStartTransaction": {
        "idToken": {"idToken": "ROBUSTNESS", "type": "Central"},
        "remoteStartId": 1,
        "evseId": 1,
    },
}
_VALID: dict[str, dict[str, dict[str, Any]]] = {
    "1.6": _VALID_16,
    "2.0.1": _VALID_2X,
    "2.1": _VALID_2X,
}

_EXTREME_ANSWER_CODES: Final = frozenset(
    {
        ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
        ErrorCode.NOT_SUPPORTED,
        ErrorCode.GENERIC_ERROR,
    }
)


_FAULT: Final[dict[Malformation, Fault]] = {
    Malformation.NOT_JSON: Fault.NOT_JSON,
    Malformation.NOT_ARRAY: Fault.NOT_A_CALL,
    Malformation.BAD_FRAME: Fault.NOT_A_CALL,
    Malformation.UNREADABLE_ID: Fault.UNREADABLE_ID,
    Malformation.BAD_MESSAGE_TYPE: Fault.MESSAGE_TYPE,
    Malformation.UNKNOWN_ACTION: Fault.UNKNOWN_ACTION,
    Malformation.OCCURRENCE: Fault.MISSING,
    Malformation.TYPE: Fault.TYPE,
    Malformation.PROPERTY: Fault.VALUE,
    Malformation.FORMAT: Fault.SHAPE,
}
"""The table row for each class of malformed request a probe can make."""


def _answer(version: OcppVersion, kind: Malformation) -> Answer:
    return answer_for(version, _FAULT[kind])


def _version(version: object) -> OcppVersion:
    return OcppVersion(str(version))


def fuzz_actions(version: object) -> frozenset[str]:
    """Actions whose valid request the generator knows for ``version`` ("1.6", "2.0.1", "2.1")."""
    return frozenset(_VALID[str(_version(version))])


@dataclass(frozen=True, slots=True)
class Probe:
    """One request of the barrage and what a conforming DUT may answer."""

    index: int
    mutation: str
    action: str
    frame: str
    answer_id: str
    what: str
    """What was changed, in words (``csChargingProfiles.stackLevel: 7 -> "x"``)."""
    error_codes: frozenset[str]
    """CALLERROR codes that pass."""
    statuses: frozenset[str] = frozenset()
    """CALLRESULT ``status`` values that pass (extreme profiles: ``Rejected``)."""
    answer_optional: bool = False
    """No answer at all passes too (a 1.6 frame whose id cannot be read)."""
    rule: str = ""
    """The requirement the expected answer rests on."""

    def describe(self) -> str:
        """``#3 wrong_type SetChargingProfile: <what>``."""
        return f"#{self.index} {self.mutation} {self.action}: {self.what}"[:300]

    def expected(self) -> str:
        """The acceptable answers, in words."""
        parts = []
        if self.error_codes:
            parts.append(
                f"CALLERROR [{self.answer_id}] one of {', '.join(sorted(self.error_codes))}"
            )
        if self.statuses:
            parts.append(f"status {' or '.join(sorted(self.statuses))}")
        if self.answer_optional:
            parts.append("no answer")
        return " or ".join(parts)

    def judge(
        self, *, error_code: str | None, payload: Mapping[str, Any] | None, answered: bool = True
    ) -> str | None:
        """The MUST: the request was refused — ``None`` for any CALLERROR, an allowed
        ``status``, or no answer where none is required; else what came instead."""
        if not answered:
            return None if self.answer_optional else "no answer"
        if error_code is not None:
            return None
        status = (payload or {}).get("status")
        if status is not None and status in self.statuses:
            return None
        shown = json.dumps(payload, separators=(",", ":"), default=str)[:120]
        return f"CALLRESULT {shown}"

    def code_problem(self, error_code: str | None) -> str | None:
        """The SHOULD: a CALLERROR's code is one the fault calls for (``None``: it is, or
        there was no CALLERROR)."""
        if error_code is None or error_code in self.error_codes:
            return None
        return f"CALLERROR {error_code}"


# ------------------------------------------------------------------ generation


@dataclass(frozen=True, slots=True)
class _Draft:
    """A probe before it has an index and message id."""

    mutation: str
    action: str
    payload: Any = None
    raw: str | None = None
    """A frame template with ``{id}`` for the message id (frame mutations)."""
    what: str = ""
    statuses: frozenset[str] = field(default_factory=frozenset)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*prefix, key)
            yield from _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield (*prefix, index)
            yield from _paths(sub, (*prefix, index))


def _get(value: Any, path: Sequence[str | int]) -> Any:
    for key in path:
        value = value[key]
    return value


def _replaced(payload: Any, path: Sequence[str | int], new: Any) -> Any:
    out = copy.deepcopy(payload)
    _get(out, path[:-1])[path[-1]] = new
    return out


def _removed(payload: Any, path: Sequence[str | int]) -> Any:
    out = copy.deepcopy(payload)
    parent = _get(out, path[:-1])
    del parent[path[-1]]
    return out


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(payload)"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} chars)"


_OTHER_TYPES: Final[tuple[Any, ...]] = ("text", 7, 1.5, True, None, [], {"a": 1})


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


@st.composite
def _schema_mutation(draw: st.DrawFn, version: str, actions: Sequence[str], kind: str) -> _Draft:
    action = draw(st.sampled_from(tuple(sorted(actions))))
    base = _VALID[version][action]
    paths = tuple(_paths(base))
    if kind == "oversized_string":  # only where a string is expected
        paths = tuple(p for p in paths if isinstance(_get(base, p), str)) or paths
    elif kind == "out_of_range":  # only values that have a range
        paths = tuple(p for p in paths if not isinstance(_get(base, p), dict | list)) or paths
    path = paths[draw(st.integers(min_value=0, max_value=len(paths) - 1))]
    old = _get(base, path)
    if kind == "missing_required":
        return _Draft(kind, action, _removed(base, path), what=f"{_dotted(path)} left out")
    if kind == "wrong_type":
        choices = [v for v in _OTHER_TYPES if _json_type(v) != _json_type(old)]
        if isinstance(old, int) and not isinstance(old, bool):
            choices.append(1.5)  # a fraction where a whole number is required
        new = copy.deepcopy(choices[draw(st.integers(min_value=0, max_value=len(choices) - 1))])
    elif kind == "out_of_range":
        if isinstance(old, str):
            new = draw(st.sampled_from(("NotAValue", "", "\u0000", "Accepted!")))
        elif isinstance(old, int | float) and not isinstance(old, bool):
            new = draw(st.sampled_from((-1, -(2**31) - 1, 2**31, 2**63, 1e300)))
        else:
            new = []
    else:  # oversized_string
        size = draw(st.sampled_from((1_000, 10_000, 65_536)))
        new = draw(st.sampled_from(("x", "é", "0"))) * size
    return _Draft(
        kind,
        action,
        _replaced(base, path, new),
        what=f"{_dotted(path)}: {_short(old)} -> {_short(new)}",
    )


_LOWER: Final = "abcdefghijklmnopqrstuvwxyz"


@st.composite
def _unknown_action(draw: st.DrawFn, version: str) -> _Draft:
    known = schema_set(_version(version)).actions
    head = draw(st.sampled_from(("Get", "Set", "Start", "Stop", "Notify", "Fly", "X")))
    body = draw(st.text(alphabet=_LOWER, min_size=2, max_size=10))
    tail = draw(st.sampled_from(("", "Request", "Notification", "Control")))
    name = f"{head}{body.capitalize()}{tail}"
    if name in known:  # practically never: a real action drawn by chance
        name = f"{name}Unknown"
    return _Draft("unknown_action", name, {}, what=f"action {name!r} does not exist")


@st.composite
def _not_json(draw: st.DrawFn, version: str, actions: Sequence[str]) -> _Draft:
    action = draw(st.sampled_from(tuple(sorted(actions))))
    frame = json.dumps([2, "{id}", action, _VALID[version][action]])
    cut = draw(st.integers(min_value=1, max_value=len(frame) - 1))
    garbage = draw(st.sampled_from(("", "}", "]]", "\u00ff", " trailing")))
    text = frame[:cut] + garbage
    return _Draft("not_json", action, raw=text, what=f"frame cut after {cut} characters")


_SHAPES: Final = (
    ('{"messageTypeId": 2, "id": "{id}"}', "a JSON object, not an array"),
    ('[2, "{id}", "{action}"]', "CALL without payload"),
    ('[2, "{id}", "{action}", {payload}, "extra"]', "CALL with a fifth element"),
    ('[2, 42, "{action}", {payload}]', "numeric message id"),
    ('[7, "{id}", "{action}", {payload}]', "unknown MessageTypeId 7"),
    ('[2, "{id}", "{action}", [1, 2]]', "payload is an array"),
    ('[2, "{id}", 5, {payload}]', "action is a number"),
    ("[]", "empty array"),
    ('"[2]"', "a JSON string"),
)


@st.composite
def _bad_frame(draw: st.DrawFn, version: str, actions: Sequence[str]) -> _Draft:
    action = draw(st.sampled_from(tuple(sorted(actions))))
    template, what = draw(st.sampled_from(_SHAPES))
    payload = json.dumps(_VALID[version][action])
    text = template.replace("{action}", action).replace("{payload}", payload)
    return _Draft("bad_frame", action, raw=text, what=what)


@st.composite
def _extreme_profile(draw: st.DrawFn, version: str, context: StationContext) -> _Draft:
    base = copy.deepcopy(_VALID[version]["SetChargingProfile"])
    v16 = version == "1.6"
    profile = base["csChargingProfiles"] if v16 else base["chargingProfile"]
    schedule = profile["chargingSchedule"] if v16 else profile["chargingSchedule"][0]
    how = draw(st.sampled_from(("periods", "first", "order", "negative", "stack", "evse")))
    if how == "periods":
        n = (context.max_periods or 24) + draw(st.integers(min_value=1, max_value=500))
        schedule["chargingSchedulePeriod"] = [
            {"startPeriod": 60 * i, "limit": 6.0 + i % 10} for i in range(n)
        ]
        what = f"{n} periods"
    elif how == "first":
        start = draw(st.integers(min_value=1, max_value=86_400))
        schedule["chargingSchedulePeriod"][0]["startPeriod"] = start
        what = f"first period starts at {start} s"
    elif how == "order":
        at = draw(st.integers(min_value=0, max_value=86_400))
        schedule["chargingSchedulePeriod"] = [
            {"startPeriod": 0, "limit": 10.0},
            {"startPeriod": at, "limit": 12.0},
            {"startPeriod": at, "limit": 14.0},
        ]
        what = f"periods at 0, {at}, {at} s"
    elif how == "negative":
        limit = -draw(st.sampled_from((0.1, 1.0, 32.0, 1e9)))
        schedule["chargingSchedulePeriod"][0]["limit"] = limit
        what = f"limit {limit:g} A"
    elif how == "stack":
        level = (context.max_stack_level or 0) + draw(st.integers(min_value=1, max_value=10**6))
        profile["stackLevel"] = level
        what = f"stackLevel {level}"
    else:
        evse = max(context.evse_ids, default=1) + draw(st.integers(min_value=1, max_value=10**4))
        base["connectorId" if v16 else "evseId"] = evse
        what = f"EVSE {evse}"
    return _Draft(
        "extreme_profile", "SetChargingProfile", base, what=what, statuses=frozenset({"Rejected"})
    )


def _strategy(
    version: str, actions: Sequence[str], mutations: Sequence[str], context: StationContext
) -> st.SearchStrategy[_Draft]:
    options: list[st.SearchStrategy[_Draft]] = []
    for kind in mutations:
        if kind in ("wrong_type", "missing_required", "out_of_range", "oversized_string"):
            options.append(_schema_mutation(version, actions, kind))
        elif kind == "unknown_action":
            options.append(_unknown_action(version))
        elif kind == "not_json":
            options.append(_not_json(version, actions))
        elif kind == "bad_frame":
            options.append(_bad_frame(version, actions))
        elif kind == "extreme_profile":
            options.append(_extreme_profile(version, context))
        else:
            raise ValueError(f"unknown mutation {kind!r}; expected one of {', '.join(MUTATIONS)}")
    return st.one_of(options)


def _finish(
    draft: _Draft, index: int, version: OcppVersion, context: StationContext
) -> Probe | None:
    """The probe for ``draft`` with its expected answers, or ``None`` if the draft is not the
    fault it claims to be (still valid, or not rejectable)."""
    mid = f"rob-{index}"
    if draft.raw is not None:
        text = draft.raw.replace("{id}", mid)
        try:
            parse_frame(text)
        except FrameError as exc:
            answer = _answer(version, exc.kind)
            readable = (exc.message_id is not None and exc.message_type in (None, 2)) or (
                exc.kind is Malformation.BAD_MESSAGE_TYPE and exc.message_id is not None
            )
            answer_id = exc.message_id if readable and exc.message_id else "-1"
            optional = version is OcppVersion.V16 and answer_id == "-1"
            return Probe(
                index,
                draft.mutation,
                draft.action,
                text,
                answer_id,
                f"{draft.what} ({exc.kind.value})",
                answer.codes,
                answer_optional=optional,
                rule=answer.clause,
            )
        return None  # the cut left valid JSON of the right shape
    text = json.dumps([2, mid, draft.action, draft.payload], ensure_ascii=False)
    schemas = schema_set(version)
    if draft.mutation == "unknown_action":
        answer = _answer(version, Malformation.UNKNOWN_ACTION)
        return Probe(
            index,
            draft.mutation,
            draft.action,
            text,
            mid,
            draft.what,
            answer.codes,
            rule=answer.clause,
        )
    fault = schemas.check(draft.action, PayloadKind.REQUEST, draft.payload)
    if draft.mutation == "extreme_profile":
        if fault is not None:
            return None
        oracle = OcppVersion(version.value)
        try:
            evse_id, profile = parse_set_charging_profile(draft.payload, version=oracle)
        except ValueError:
            return None
        broken = violations(profile, evse_id=evse_id, version=oracle, context=context)
        if not broken:
            return None
        return Probe(
            index,
            draft.mutation,
            draft.action,
            text,
            mid,
            f"{draft.what} — {broken[0].describe()}",
            frozenset(map(str, _EXTREME_ANSWER_CODES)),
            statuses=draft.statuses,
            rule=broken[0].requirement,
        )
    if fault is None:
        return None  # the mutation left a valid request
    answer = _answer(version, fault.kind)
    return Probe(
        index,
        draft.mutation,
        draft.action,
        text,
        mid,
        f"{draft.what} ({fault.kind.value} at {fault.path})",
        answer.codes,
        rule=answer.clause,
    )


def generate_probes(
    *,
    version: object,
    seed_value: int,
    count: int,
    context: StationContext,
    actions: Sequence[str] | None = None,
    mutations: Sequence[str] | None = None,
) -> list[Probe]:
    """``count`` probes for ``version`` from ``seed_value`` (the same seed gives the same list).

    ``actions`` default to :func:`fuzz_actions`, ``mutations`` to :data:`MUTATIONS`.
    ``context`` (EVSEs, maximum stack level and periods, transactions) decides which
    extreme profiles a conforming station must reject. Fewer than ``count`` probes come back
    only if the choices cannot make that many distinct faults.
    """
    ver = _version(version)
    key = ver.value
    chosen = tuple(actions) if actions else tuple(sorted(_VALID[key]))
    unknown = [a for a in chosen if a not in _VALID[key]]
    if unknown:
        raise ValueError(f"no valid OCPP {key} request to mutate for {', '.join(unknown)}")
    kinds = tuple(mutations) if mutations else MUTATIONS
    return list(_generate(ver, seed_value, count, context, chosen, kinds))


@lru_cache(maxsize=64)
def _generate(
    ver: OcppVersion,
    seed_value: int,
    count: int,
    context: StationContext,
    chosen: tuple[str, ...],
    kinds: tuple[str, ...],
) -> tuple[Probe, ...]:
    """The probes (cached: a fleet run asks for the same barrage once per vehicle)."""
    key = ver.value
    strategy = _strategy(key, chosen, kinds, context)
    probes: list[Probe] = []
    seen: set[str] = set()

    @seed(seed_value)
    @settings(
        max_examples=max(1, count) * 4,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
        derandomize=False,
    )
    @given(strategy)
    def collect(draft: _Draft) -> None:
        if len(probes) >= count:
            return
        probe = _finish(draft, len(probes) + 1, ver, context)
        if probe is None:
            return
        signature = probe.frame.replace(f'"rob-{probe.index}"', '"id"')
        if signature in seen:
            return
        seen.add(signature)
        probes.append(probe)

    collect()
    return tuple(probes)


def with_index(probe: Probe, index: int) -> Probe:
    """``probe`` renumbered (tests)."""
    return replace(probe, index=index)
