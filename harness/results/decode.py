"""Decoding stored results quickly (internal; used by :class:`RunReader`).

:meth:`CaseResult.from_dict` checks every field through :class:`~harness.results._json.Obj`,
which carries the field's path for its error messages; that bookkeeping costs more than
parsing the line. :class:`ResultDecoder` decodes a well-formed line directly and hands
anything it does not expect to :meth:`CaseResult.from_dict`, which then raises its precise
error (or, for a value only it knows how to take, decodes it). So a bad line gives the same
error as before, and a good one the same result, only sooner.

The fast path checks each field for its type and value as strictly as the model's
constructors do -- every rule of their ``__post_init__`` is tested here, in line -- and
then fills the frozen objects' slots directly instead of running those constructors again
(:func:`_fields_of`; a model class that gains a field fails at import until it is
handled here). Requirements and devices repeat from result to result; each is built once
per decoder. The case key (a SHA-256 of the case id and its devices) is computed from the
line's strings and kept in the :class:`CaseInfo`, as the model would compute it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from harness.clock import utc
from harness.results._json import Obj, freeze_json
from harness.results.case import CaseResult
from harness.results.devices import DeviceKind, DeviceRef, case_key_of
from harness.results.measurement import MeasurementSource, Series
from harness.results.model import CaseInfo, CheckResult, Interruption, StepRecord
from harness.results.verdict import Level, Requirement, Verdict
from harness.transport.base import OcppSubprotocol

__all__ = ["ResultDecoder"]

_VERDICTS = {v.value: v for v in Verdict}
_LEVELS = {v.value: v for v in Level}
_KINDS = {v.value: v for v in DeviceKind}
_SOURCES = {v.value: v for v in MeasurementSource}
_VERSIONS = {v.value: v for v in OcppSubprotocol}

_NA, _INCONCLUSIVE = Verdict.NOT_APPLICABLE, Verdict.INCONCLUSIVE
# Verdict.severity as a plain dict (the property is a Python-level call per access).
_SEVERITY = {v: v.severity for v in Verdict}
_BY_SEVERITY = {s: v for v, s in _SEVERITY.items()}
_INTERRUPTING = frozenset({Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE})
_JUDGED_LEVEL = {Verdict.PASS: None, Verdict.FAIL: Level.MUST, Verdict.NON_STRICT: Level.SHOULD}
"""The judged verdicts, each with the level it needs (None: any)."""
_UNJUDGED = object()
_fromisoformat = datetime.fromisoformat
_isfinite = math.isfinite
_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})
"""The frozen form of ``{}`` (parameters, attributes): read-only, so one serves all."""


def _fields_of(cls: type, *names: str) -> Any:
    """A plain class with exactly the slots of the frozen slotted dataclass ``cls``.

    The fast path fills an instance of it with ordinary attribute stores (a frozen class
    refuses them; going through ``object.__setattr__`` per field costs more than the
    checks) and then turns it into a ``cls`` by assigning ``__class__``, which Python
    allows between classes of the same slots and layout: the object *is* a ``cls`` from
    then on, exactly as if built by its constructor. Refused at import unless ``names`` are
    exactly the slots of ``cls`` (a field added to the model must be filled here too) and
    the layouts agree.
    """
    slots = tuple(cls.__dict__["__slots__"])
    if sorted(names) != sorted(slots):
        raise AssertionError(f"decode.py fills {names}, {cls.__name__} has {slots}")
    fields = type(f"_{cls.__name__}Fields", (), {"__slots__": slots})
    fields().__class__ = cls  # TypeError here (at import) if the layouts differ
    return fields


_CheckFields = _fields_of(
    CheckResult, "requirement", "verdict", "expected", "actual", "frames", "series", "detail"
)
_StepFields = _fields_of(StepRecord, "t", "index", "text")
_StopFields = _fields_of(Interruption, "verdict", "reason", "detail")
_DeviceFields = _fields_of(DeviceRef, "kind", "id", "label", "attributes")
_InfoFields = _fields_of(
    CaseInfo,
    "case_id",
    "title",
    "suite",
    "category",
    "ocpp_version",
    "devices",
    "parameters",
    "_key",
)
_ResultFields = _fields_of(
    CaseResult,
    "info",
    "started_at",
    "finished_at",
    "wall_duration_s",
    "checks",
    "steps",
    "interruption",
    "measurement_source",
    "series",
)
_CHECK, _STEP, _STOP, _DEVICE, _INFO, _RESULT = (
    CheckResult,
    StepRecord,
    Interruption,
    DeviceRef,
    CaseInfo,
    CaseResult,
)


class _Unexpected(Exception):
    """The line is not in the shape the fast path expects: let the careful decoder judge."""


def _time(value: Any) -> datetime:
    # The store writes "...Z"; Python 3.11's fromisoformat reads that as UTC directly.
    if type(value) is str and value[-1:] == "Z":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is UTC:
            return parsed
    if type(value) is not str:
        raise _Unexpected
    return utc(value)


class ResultDecoder:
    """Decodes the objects of ``results.jsonl`` lines into :class:`CaseResult` values."""

    def __init__(self) -> None:
        self._every_requirement: dict[tuple[str, str, str], Requirement] = {}
        self._requirements: dict[str, Requirement] = {}
        """The last requirement of each id: most lines repeat it (checked against the line)."""
        self._devices: dict[tuple[str, str, str], DeviceRef] = {}

    def decode(self, value: Any, *, path: str = "") -> CaseResult:
        """The result stored as ``value``; raises
        :class:`~harness.results._json.ResultFormatError` as :meth:`CaseResult.from_dict`
        does (``path`` names the line in its messages)."""
        try:
            return self._fast(value)
        except Exception:  # not the expected shape: the careful decoder says what is wrong
            return CaseResult.from_dict(value, path=path)

    def _fast(self, obj: Any) -> CaseResult:
        # Plain type tests and subscripts in line, no helper calls on the common path: most
        # of the time of a decode is the calls, not the checks. Anything unexpected raises
        # (_Unexpected, KeyError, TypeError, ...) and the careful decoder takes over.
        if type(obj) is not dict:
            raise _Unexpected
        raw_steps, raw_checks, stored = obj["steps"], obj["checks"], obj["series"]
        if type(raw_steps) is not list or type(raw_checks) is not list or type(stored) is not list:
            raise _Unexpected

        stop = None
        raw_stop = obj.get("interruption")
        if raw_stop is not None:
            if type(raw_stop) is not dict:
                raise _Unexpected
            stop_verdict = _VERDICTS[raw_stop["verdict"]]
            reason, detail = raw_stop["reason"], raw_stop.get("detail")
            # Interruption.__post_init__'s rules
            if (
                stop_verdict not in _INTERRUPTING
                or type(reason) is not str
                or not reason.strip()
                or (detail is not None and type(detail) is not str)
            ):
                raise _Unexpected
            stop = _StopFields()
            stop.verdict = stop_verdict
            stop.reason = reason
            stop.detail = detail
            stop.__class__ = _STOP

        # -- checks (the case's verdict is worked out on the way) ---------------------------
        worst = 0  # NOT_APPLICABLE's severity: the identity of combine
        checks: tuple[CheckResult, ...] = ()
        if raw_checks:
            requirements = self._requirements
            severity = _SEVERITY
            judged = _JUDGED_LEVEL
            built = []
            for c in raw_checks:
                if type(c) is not dict:
                    raise _Unexpected
                req = c["requirement"]
                rid, rlevel, rtext = req["id"], req["level"], req["text"]
                requirement = requirements.get(rid)  # the last one of that id
                if requirement is None or requirement.text != rtext or requirement.level != rlevel:
                    requirement = self._requirement(rid, rlevel, rtext)
                verdict = _VERDICTS[c["verdict"]]
                expected, actual, detail = c["expected"], c["actual"], c.get("detail")
                frames, names = c["frames"], c["series"]
                if (
                    type(expected) is not str
                    or type(actual) is not str
                    or type(frames) is not list
                    or type(names) is not list
                    or (detail is not None and type(detail) is not str)
                ):
                    raise _Unexpected
                # CheckResult.__post_init__'s rules: a judged check says what was expected
                # and seen; FAIL goes with a MUST, NON_STRICT with a SHOULD; frames >= 0
                level = judged.get(verdict, _UNJUDGED)
                if level is not _UNJUDGED and (
                    (level is not None and requirement.level is not level)
                    or not expected.strip()
                    or not actual.strip()
                ):
                    raise _Unexpected
                if frames:
                    for i in frames:
                        if type(i) is not int or i < 0:
                            raise _Unexpected
                    frames = tuple(frames)
                else:
                    frames = ()
                if names:
                    for name in names:
                        if type(name) is not str:
                            raise _Unexpected
                    names = tuple(names)
                else:
                    names = ()
                rank = severity[verdict]
                if rank > worst:
                    worst = rank
                check = _CheckFields()
                check.requirement = requirement
                check.verdict = verdict
                check.expected = expected
                check.actual = actual
                check.frames = frames
                check.series = names
                check.detail = detail
                check.__class__ = _CHECK
                built.append(check)
            checks = tuple(built)

        # -- steps ----------------------------------------------------------------------------
        steps: tuple[StepRecord, ...] = ()
        if raw_steps:
            built_steps = []
            for s in raw_steps:
                if type(s) is not dict:
                    raise _Unexpected
                t, index, text = s["t"], s["index"], s["text"]
                # _time in line for the usual "...Z"
                if type(t) is str and t[-1:] == "Z":
                    t = _fromisoformat(t)
                    if t.tzinfo is not UTC:
                        raise _Unexpected
                else:
                    t = _time(t)
                if type(index) is not int or index < 0 or type(text) is not str:
                    raise _Unexpected
                step = _StepFields()
                step.t = t
                step.index = index
                step.text = text
                step.__class__ = _STEP
                built_steps.append(step)
            steps = tuple(built_steps)

        # -- the result -------------------------------------------------------------------------
        info = self._info(obj["case"])
        started, finished = _time(obj["started_at"]), _time(obj["finished_at"])
        wall = obj["wall_duration_s"]
        if (
            (type(wall) is not float and type(wall) is not int)
            or not _isfinite(wall)
            or wall < 0
            or finished < started
        ):
            raise _Unexpected
        source = _SOURCES[obj["measurement_source"]]
        if stop is not None and stop.verdict is _NA:  # the case did not run
            if checks or steps or stored:
                raise _Unexpected
            verdict = _NA
        else:  # CaseResult.verdict, from the severities
            if stop is not None:
                rank = _SEVERITY[stop.verdict]
                if rank > worst:
                    worst = rank
            verdict = _BY_SEVERITY[worst]
            if verdict is _NA:
                verdict = _INCONCLUSIVE
        key, stored_verdict = obj.get("key"), obj.get("verdict")
        if (key is not None and key != info._key) or (
            stored_verdict is not None and stored_verdict != verdict
        ):
            raise _Unexpected
        if stored:  # [] in results.jsonl; the reader puts a series file's content here
            series = tuple(Series.from_obj(Obj(s, f"series[{i}]")) for i, s in enumerate(stored))
            # the constructor's checks of the series (unique names, a measurement source)
            return CaseResult(info, started, finished, wall, checks, steps, stop, source, series)
        result = _ResultFields()
        result.info = info
        result.started_at = started
        result.finished_at = finished
        result.wall_duration_s = float(wall)
        result.checks = checks
        result.steps = steps
        result.interruption = stop
        result.measurement_source = source
        result.series = ()
        result.__class__ = _RESULT
        return result  # type: ignore[no-any-return]

    def _requirement(self, rid: Any, level: Any, text: Any) -> Requirement:
        # (only dicts get this far: any other JSON value fails the subscripts)
        if type(rid) is not str or type(level) is not str or type(text) is not str:
            raise _Unexpected
        key = (rid, level, text)
        requirement = self._every_requirement.get(key)
        if requirement is None:
            requirement = self._every_requirement[key] = Requirement(rid, _LEVELS[level], text)
        self._requirements[rid] = requirement
        return requirement

    def _info(self, obj: Any) -> CaseInfo:
        if type(obj) is not dict:
            raise _Unexpected
        case_id, title, suite, category = (
            obj["case_id"],
            obj["title"],
            obj["suite"],
            obj["category"],
        )
        parameters, raw_devices = obj["parameters"], obj["devices"]
        version = _VERSIONS[obj["ocpp_version"]]
        if (
            type(case_id) is not str
            or type(title) is not str
            or type(suite) is not str
            or type(category) is not str
            or type(parameters) is not dict
            or type(raw_devices) is not list
            or not raw_devices
            or not case_id.strip()
        ):
            raise _Unexpected
        cache = self._devices
        devices = []
        pairs = []
        for d in raw_devices:
            if type(d) is not dict:
                raise _Unexpected
            attributes, kind, id_, label = d["attributes"], d["kind"], d["id"], d["label"]
            if (
                type(attributes) is not dict
                or type(kind) is not str
                or type(id_) is not str
                or type(label) is not str
            ):
                raise _Unexpected
            pairs.append((kind, id_))
            if attributes:  # rare, and not hashable as it stands: built (and checked) each time
                devices.append(DeviceRef(_KINDS[kind], id_, label, attributes))
                continue
            dkey = (kind, id_, label)
            device = cache.get(dkey)
            if device is None:
                if not id_:  # DeviceRef.__post_init__'s rule
                    raise _Unexpected
                device = _DeviceFields()
                device.kind = _KINDS[kind]
                device.id = id_
                device.label = label
                device.attributes = _EMPTY
                device.__class__ = _DEVICE
                cache[dkey] = device
            devices.append(device)
        if len(pairs) > 1 and len(set(pairs)) != len(pairs):
            raise _Unexpected  # a device listed twice (CaseInfo.__post_init__'s rule)
        info = _InfoFields()
        info.case_id = case_id
        info.title = title
        info.suite = suite
        info.category = category
        info.ocpp_version = version
        info.devices = tuple(devices)
        info.parameters = freeze_json(parameters, "parameters") if parameters else _EMPTY
        info._key = case_key_of(case_id, pairs)
        info.__class__ = _INFO
        return info  # type: ignore[no-any-return]
