"""Decoding stored results quickly (internal; used by :class:`RunReader`).

:meth:`CaseResult.from_dict` checks every field through :class:`~harness.results._json.Obj`,
which carries the field's path for its error messages; that bookkeeping costs more than
parsing the line. :class:`ResultDecoder` decodes a well-formed line directly -- every field
checked for its type and value as strictly, by the same constructors -- and hands anything
it does not expect to :meth:`CaseResult.from_dict`, which then raises its precise error (or,
for a value only it knows how to take, decodes it). So a bad line gives the same error as
before, and a good one the same result, only sooner. Requirements and devices repeat from
result to result; each is built once per decoder.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from harness.clock import utc
from harness.results._json import Obj
from harness.results.case import CaseResult
from harness.results.devices import DeviceKind, DeviceRef
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


class _Unexpected(Exception):
    """The line is not in the shape the fast path expects: let the careful decoder judge."""


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _Unexpected
    return value


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Unexpected
    return value


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Unexpected
    return value


def _time(value: Any) -> datetime:
    # The store writes "...Z"; Python 3.11's fromisoformat reads that as UTC directly.
    if type(value) is str and value[-1:] == "Z":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is UTC:
            return parsed
    return utc(_text(value))


def _number(value: Any) -> float:
    if type(value) is not float and type(value) is not int:
        raise _Unexpected
    if not math.isfinite(value):
        raise _Unexpected
    return float(value)


class ResultDecoder:
    """Decodes the objects of ``results.jsonl`` lines into :class:`CaseResult` values."""

    def __init__(self) -> None:
        self._requirements: dict[tuple[str, str, str], Requirement] = {}
        self._devices: dict[tuple[str, str, str], DeviceRef] = {}

    def decode(self, value: Any, *, path: str = "") -> CaseResult:
        """The result stored as ``value``; raises
        :class:`~harness.results._json.ResultFormatError` as :meth:`CaseResult.from_dict`
        does (``path`` names the line in its messages)."""
        try:
            return self._fast(value)
        except Exception:  # not the expected shape: the careful decoder says what is wrong
            return CaseResult.from_dict(value, path=path)

    def _fast(self, value: Any) -> CaseResult:
        # Plain type tests and subscripts, no helper calls on the common path: most of the
        # time of a decode is the calls, not the checks.
        obj = _dict(value)
        stop = None
        raw_stop = obj.get("interruption")
        if raw_stop is not None:
            raw_stop = _dict(raw_stop)
            stop = Interruption(
                _VERDICTS[raw_stop["verdict"]],
                _text(raw_stop["reason"]),
                _opt_text(raw_stop.get("detail")),
            )
        raw_steps, raw_checks, stored = obj["steps"], obj["checks"], obj["series"]
        if type(raw_steps) is not list or type(raw_checks) is not list or type(stored) is not list:
            raise _Unexpected
        steps = (
            tuple(
                [StepRecord(_time(s["t"]), _index(s["index"]), _text(s["text"])) for s in raw_steps]
            )
            if raw_steps
            else ()
        )
        check = self._check
        checks = tuple([check(c) for c in raw_checks])
        # [] in results.jsonl; the reader puts a series file's content here
        series = (
            tuple([Series.from_obj(Obj(_dict(s), f"series[{i}]")) for i, s in enumerate(stored)])
            if stored
            else ()
        )
        result = CaseResult(
            self._info(obj["case"]),
            _time(obj["started_at"]),
            _time(obj["finished_at"]),
            _number(obj["wall_duration_s"]),
            checks,
            steps,
            stop,
            _SOURCES[obj["measurement_source"]],
            series,
        )
        key, verdict = obj.get("key"), obj.get("verdict")
        if (key is not None and key != result.key) or (
            verdict is not None and verdict != result.verdict.value
        ):
            raise _Unexpected
        return result

    def _check(self, obj: Any) -> CheckResult:
        if type(obj) is not dict:
            raise _Unexpected
        req, frames, names = obj["requirement"], obj["frames"], obj["series"]
        expected, actual, detail = obj["expected"], obj["actual"], obj.get("detail")
        if (
            type(req) is not dict
            or type(frames) is not list
            or type(names) is not list
            or type(expected) is not str
            or type(actual) is not str
            or (detail is not None and type(detail) is not str)
        ):
            raise _Unexpected
        for i in frames:
            if type(i) is not int:
                raise _Unexpected
        for name in names:
            if type(name) is not str:
                raise _Unexpected
        rkey = (req["id"], req["level"], req["text"])
        requirement = self._requirements.get(rkey)
        if requirement is None:
            if type(rkey[0]) is not str or type(rkey[2]) is not str:
                raise _Unexpected
            requirement = Requirement(rkey[0], _LEVELS[rkey[1]], rkey[2])
            self._requirements[rkey] = requirement
        return CheckResult(
            requirement,
            _VERDICTS[obj["verdict"]],
            expected,
            actual,
            tuple(frames),
            tuple(names),
            detail,
        )

    def _info(self, obj: Any) -> CaseInfo:
        if type(obj) is not dict:
            raise _Unexpected
        case_id, title, suite, category = (
            obj["case_id"],
            obj["title"],
            obj["suite"],
            obj["category"],
        )
        parameters, devices = obj["parameters"], obj["devices"]
        if (
            type(case_id) is not str
            or type(title) is not str
            or type(suite) is not str
            or type(category) is not str
            or type(parameters) is not dict
            or type(devices) is not list
        ):
            raise _Unexpected
        device = self._device
        return CaseInfo(
            case_id,
            title,
            suite,
            category,
            _VERSIONS[obj["ocpp_version"]],
            tuple([device(d) for d in devices]),
            parameters,
        )

    def _device(self, obj: Any) -> DeviceRef:
        if type(obj) is not dict:
            raise _Unexpected
        attributes, kind, id_, label = obj["attributes"], obj["kind"], obj["id"], obj["label"]
        if (
            type(attributes) is not dict
            or type(kind) is not str
            or type(id_) is not str
            or type(label) is not str
        ):
            raise _Unexpected
        if attributes:  # rare, and not hashable as it stands: built each time
            return DeviceRef(_KINDS[kind], id_, label, attributes)
        key = (kind, id_, label)
        found = self._devices.get(key)
        if found is None:
            found = self._devices[key] = DeviceRef(_KINDS[kind], id_, label)
        return found


def _index(value: Any) -> int:
    if type(value) is not int:
        raise _Unexpected
    return value
