"""Check results and case results: what was judged, against which requirement, and why.

Every finding names its :class:`~harness.results.verdict.Requirement`, what was *expected*
(every acceptable outcome), what was *actually* seen, and the evidence: indices of frames in
the case's trace (line numbers, from 0, of ``traces/<case-key>.jsonl``) and names of
measurement series of the same case.

Where verdicts come from -- the line between the device's faults and the harness's own:

* ``FAIL`` / ``NON_STRICT``: only :meth:`CheckResult.failed` (or :meth:`CheckResult.judge`),
  i.e. a requirement was judged and the device broke it. A MUST gives ``FAIL``, a SHOULD gives
  ``NON_STRICT``; the constructor refuses any other pairing.
* ``ERROR``: only :meth:`CheckResult.harness_error`, :meth:`Interruption.harness_error` and
  :meth:`CaseResult.harness_error`, all of which take the exception the harness raised.
  A device that misbehaves (disconnects, sends garbage, times out) is judged by a check;
  it must not surface as an exception out of the runner.
* ``INCONCLUSIVE``: the harness could not judge (setup failed, the lab meter went silent).
* ``NOT_APPLICABLE``: excluded by the capability declaration; for a whole case, it did not run.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.results._json import (
    JsonValue,
    Obj,
    ResultFormatError,
    freeze_json,
    require_utc,
    thaw_json,
)
from harness.results.devices import DeviceRef, case_key
from harness.results.verdict import Level, Requirement, Verdict
from harness.transport.base import OcppSubprotocol

__all__ = ["CaseInfo", "CheckResult", "Interruption", "StepRecord"]


def _describe(exc: BaseException) -> tuple[str, str]:
    summary = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return summary, "".join(traceback.format_exception(exc))


# Enum members looked up once (an attribute of the enum class costs a descriptor call).
_FAIL, _NON_STRICT = Verdict.FAIL, Verdict.NON_STRICT
_JUDGED = frozenset({Verdict.PASS, Verdict.FAIL, Verdict.NON_STRICT})
_MUST, _SHOULD = Level.MUST, Level.SHOULD


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict on one requirement within a case.

    Build it with the constructors (:meth:`passed`, :meth:`failed`, :meth:`judge`,
    :meth:`inconclusive`, :meth:`not_applicable`, :meth:`harness_error`); direct construction
    is checked against the same rules. ``frames`` are indices into the case's trace,
    ``series`` names of the case's measurement series (:attr:`Series.name`). ``detail`` holds
    a traceback for a harness error.
    """

    requirement: Requirement
    verdict: Verdict
    expected: str
    actual: str
    frames: tuple[int, ...] = ()
    series: tuple[str, ...] = ()
    detail: str | None = None

    def __post_init__(self) -> None:
        verdict, level = self.verdict, self.requirement.level
        if not isinstance(verdict, Verdict):
            rid = self.requirement.id
            raise ValueError(f"check {rid}: verdict must be a Verdict, got {verdict!r}")
        # A failed MUST is FAIL, a failed SHOULD is NON_STRICT -- never the other way round.
        if verdict is _FAIL and level is not _MUST:
            rid = self.requirement.id
            raise ValueError(f"check {rid}: FAIL needs a MUST (a failed SHOULD is NON_STRICT)")
        if verdict is _NON_STRICT and level is not _SHOULD:
            rid = self.requirement.id
            raise ValueError(f"check {rid}: NON_STRICT needs a SHOULD (a failed MUST is FAIL)")
        if verdict in _JUDGED and not (self.expected.strip() and self.actual.strip()):
            rid = self.requirement.id
            raise ValueError(f"check {rid}: a judged check must say what was expected and seen")
        frames = self.frames
        if type(frames) is not tuple:
            frames = tuple(frames)
            object.__setattr__(self, "frames", frames)
        for i in frames:
            if not isinstance(i, int) or isinstance(i, bool) or i < 0:
                rid = self.requirement.id
                raise ValueError(
                    f"check {rid}: frame references must be indices >= 0, got {frames}"
                )
        if type(self.series) is not tuple:
            object.__setattr__(self, "series", tuple(self.series))

    @classmethod
    def passed(
        cls,
        requirement: Requirement,
        *,
        expected: str,
        actual: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> CheckResult:
        """The device met ``requirement``."""
        return cls(requirement, Verdict.PASS, expected, actual, frames, series)

    @classmethod
    def failed(
        cls,
        requirement: Requirement,
        *,
        expected: str,
        actual: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> CheckResult:
        """The device broke ``requirement``: ``FAIL`` for a MUST, ``NON_STRICT`` for a SHOULD."""
        verdict = Verdict.FAIL if requirement.level is Level.MUST else Verdict.NON_STRICT
        return cls(requirement, verdict, expected, actual, frames, series)

    @classmethod
    def judge(
        cls,
        requirement: Requirement,
        *,
        ok: bool,
        expected: str,
        actual: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> CheckResult:
        """:meth:`passed` when ``ok``, else :meth:`failed`."""
        make = cls.passed if ok else cls.failed
        return make(requirement, expected=expected, actual=actual, frames=frames, series=series)

    @classmethod
    def inconclusive(
        cls,
        requirement: Requirement,
        *,
        expected: str,
        reason: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> CheckResult:
        """The harness could not judge ``requirement``; ``reason`` says why (it becomes
        ``actual``), e.g. ``"no lab meter reading for 45 s"``."""
        return cls(requirement, Verdict.INCONCLUSIVE, expected, reason, frames, series)

    @classmethod
    def not_applicable(cls, requirement: Requirement, *, reason: str) -> CheckResult:
        """``requirement`` does not apply (by declaration, or a "when reported" condition)."""
        return cls(requirement, Verdict.NOT_APPLICABLE, "", reason)

    @classmethod
    def harness_error(
        cls, requirement: Requirement, exc: BaseException, *, expected: str = ""
    ) -> CheckResult:
        """Judging ``requirement`` raised ``exc`` in harness code: an ``ERROR``, never a FAIL."""
        summary, detail = _describe(exc)
        return cls(requirement, Verdict.ERROR, expected, f"harness error: {summary}", detail=detail)

    def explain(self) -> str:
        """Three lines for a failure recap: Requirement, Expected, Actual."""
        r = self.requirement
        return (
            f"Requirement: {r.id} ({r.level.value}) {r.text}\n"
            f"Expected: {self.expected}\nActual: {self.actual}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        r = self.requirement
        return {
            "requirement": {"id": r.id, "level": r.level.value, "text": r.text},
            "verdict": self.verdict.value,
            "expected": self.expected,
            "actual": self.actual,
            "frames": list(self.frames),
            "series": list(self.series),
            "detail": self.detail,
        }

    @classmethod
    def from_obj(cls, obj: Obj) -> CheckResult:
        """Decode :meth:`to_dict`'s form (raises :class:`ResultFormatError`)."""
        req = obj.obj("requirement")
        frames = []
        for item, path in obj.items("frames"):
            if not isinstance(item, int) or isinstance(item, bool):
                raise ResultFormatError(f"{path}: expected a frame index, got {item!r}")
            frames.append(item)
        names = []
        for item, path in obj.items("series"):
            if not isinstance(item, str):
                raise ResultFormatError(f"{path}: expected a series name, got {item!r}")
            names.append(item)
        rid, level, text = req.text("id"), req.enum("level", Level), req.text("text")
        verdict, expected = obj.enum("verdict", Verdict), obj.text("expected")
        actual, detail = obj.text("actual"), obj.opt_text("detail")
        try:
            requirement = Requirement(rid, level, text)
            return cls(requirement, verdict, expected, actual, tuple(frames), tuple(names), detail)
        except ValueError as exc:
            raise ResultFormatError(f"{obj.path}: {exc}") from None


_INTERRUPTING = (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE)


@dataclass(frozen=True, slots=True)
class Interruption:
    """Why a case stopped before its checks were all judged (or never started).

    Only ``ERROR`` (harness exception), ``INCONCLUSIVE`` (could not judge) or
    ``NOT_APPLICABLE`` (did not run); a device's fault is a failed check, not an interruption.
    """

    verdict: Verdict
    reason: str
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in _INTERRUPTING:
            raise ValueError(
                f"an interruption is ERROR, INCONCLUSIVE or NOT_APPLICABLE, not {self.verdict!r}"
                " (a device fault is a failed check)"
            )
        if not self.reason.strip():
            raise ValueError("an interruption needs a reason")

    @classmethod
    def harness_error(cls, exc: BaseException) -> Interruption:
        """The harness raised ``exc``; the traceback goes into ``detail``."""
        summary, detail = _describe(exc)
        return cls(Verdict.ERROR, f"harness error: {summary}", detail)

    @classmethod
    def inconclusive(cls, reason: str) -> Interruption:
        """The harness could not judge, e.g. ``"setup failed: station did not connect"``."""
        return cls(Verdict.INCONCLUSIVE, reason)

    @classmethod
    def not_applicable(cls, reason: str) -> Interruption:
        """The case did not run, e.g. ``"capability declaration: no phase switching"``."""
        return cls(Verdict.NOT_APPLICABLE, reason)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One line of a case's step log: clock time, step index (from 0), what happened."""

    t: datetime
    index: int
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", require_utc(self.t, "step time"))
        if self.index < 0:
            raise ValueError(f"step index must be >= 0, got {self.index}")


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """What identifies a case run, known before it starts.

    ``case_id`` is stable (``TC_066_CS``, ``VP-04``); ``suite`` the case library it comes from
    (``vehicle-programme``, ``oca-2.0.1``); ``category`` a grouping within it
    (``smart-charging``); ``devices`` the station(s) / vehicle(s) / CSMS it ran against;
    ``parameters`` the scenario parameters used (plain JSON, units in the names).
    """

    case_id: str
    title: str
    suite: str
    category: str
    ocpp_version: OcppSubprotocol
    devices: tuple[DeviceRef, ...]
    parameters: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)
    _key: str = field(default="", init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.case_id.strip():
            raise ValueError("a case needs a non-empty case_id")
        if not isinstance(self.ocpp_version, OcppSubprotocol):
            raise ValueError(f"case {self.case_id}: ocpp_version must be an OcppSubprotocol")
        devices = self.devices
        if type(devices) is not tuple:
            devices = tuple(devices)
            object.__setattr__(self, "devices", devices)
        if not devices:
            raise ValueError(f"case {self.case_id}: at least one device is needed")
        # str(kind): the kind's value (an enum member's own hash is a Python-level call)
        if len(devices) > 1 and len({(str(d.kind), d.id) for d in devices}) != len(devices):
            raise ValueError(f"case {self.case_id}: a device is listed twice")
        params = freeze_json(dict(self.parameters), f"case {self.case_id} parameters")
        object.__setattr__(self, "parameters", params)

    @property
    def key(self) -> str:
        """The filesystem-safe key of this (case, devices) run; see :func:`case_key`."""
        if not self._key:  # a hash of the case and its devices: computed once
            object.__setattr__(self, "_key", case_key(self.case_id, self.devices))
        return self._key

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "case_id": self.case_id,
            "title": self.title,
            "suite": self.suite,
            "category": self.category,
            "ocpp_version": self.ocpp_version.value,
            "devices": [d.to_dict() for d in self.devices],
            "parameters": thaw_json(self.parameters),
        }

    @classmethod
    def from_obj(cls, obj: Obj) -> CaseInfo:
        """Decode :meth:`to_dict`'s form (raises :class:`ResultFormatError`)."""
        fields = (
            obj.text("case_id"),
            obj.text("title"),
            obj.text("suite"),
            obj.text("category"),
            obj.enum("ocpp_version", OcppSubprotocol),
            tuple(DeviceRef.from_obj(d) for d in obj.objs("devices")),
            obj.json_value("parameters"),
        )
        if not isinstance(fields[6], Mapping):
            raise ResultFormatError(f"{obj.path}.parameters: expected an object")
        try:
            return cls(*fields)
        except ValueError as exc:
            raise ResultFormatError(f"{obj.path}: {exc}") from None
