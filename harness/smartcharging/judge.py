"""Judge a DUT's GetCompositeSchedule answer against the oracle's.

Tolerances are explicit: the schedule start and every period start (as an instant) may be
off by ``time_tolerance_s`` (the configured time deviation); limits must agree to the
version's precision (a difference smaller than one step, e.g. 0.1). The period list must
match one to one: an extra period with the same limit as its neighbour is a difference
(OCA TC_066 fails it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harness.smartcharging.composite import CompositePeriod, CompositeSchedule, to_epoch_s
from harness.smartcharging.model import DEFAULT_NUMBER_PHASES, OcppVersion
from harness.smartcharging.payloads import schema_validator
from harness.smartcharging.responses import iso, parse_composite_response
from harness.smartcharging.units import PRECISION

__all__ = ["Difference", "ScheduleComparison", "compare_composite", "schedule_text"]

_VALUES = (
    "limit",
    "limit_l2",
    "limit_l3",
    "discharge_limit",
    "discharge_limit_l2",
    "discharge_limit_l3",
    "setpoint",
    "setpoint_l2",
    "setpoint_l3",
)


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that differs: where, what was expected, what was seen."""

    where: str
    expected: str
    actual: str

    def describe(self) -> str:
        return f"{self.where}: expected {self.expected}, got {self.actual}"


@dataclass(frozen=True, slots=True)
class ScheduleComparison:
    """The verdict material: both schedules and every difference (none means a match)."""

    expected: CompositeSchedule
    actual: CompositeSchedule | None
    actual_status: str
    differences: tuple[Difference, ...]
    time_tolerance_s: int
    precision: Decimal

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def expected_text(self) -> str:
        return schedule_text(self.expected)

    @property
    def actual_text(self) -> str:
        if self.actual is None:
            return f"status {self.actual_status}, no schedule"
        return schedule_text(self.actual)

    def describe(self) -> str:
        head = "composite schedule matches" if self.ok else "composite schedule differs"
        lines = [
            f"{head} (times ±{self.time_tolerance_s} s, limits to {self.precision})",
            f"Expected: {self.expected_text}",
            f"Actual:   {self.actual_text}",
        ]
        lines += [f"  - {d.describe()}" for d in self.differences]
        return "\n".join(lines)


def _fmt(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")


def _period_text(period: CompositePeriod, unit: str) -> str:
    text = f"{period.start_period_s} s → {_fmt(period.limit)} {unit}"
    extras = [
        f"{name}={_fmt(getattr(period, name))}"
        for name in _VALUES[1:]
        if getattr(period, name) is not None
    ]
    if period.number_phases is not None:
        extras.insert(0, f"{period.number_phases} ph")
    if period.operation_mode is not None:
        extras.append(str(period.operation_mode))
    return text + (f" ({', '.join(extras)})" if extras else "")


def schedule_text(schedule: CompositeSchedule) -> str:
    """One line: start, duration, unit and every period."""
    periods = "; ".join(_period_text(p, str(schedule.unit)) for p in schedule.periods)
    return (
        f"EVSE {schedule.evse_id} from {iso(schedule.schedule_start)} for "
        f"{schedule.duration_s} s: {periods}"
    )


def _compare_periods(
    expected: CompositeSchedule,
    actual: CompositeSchedule,
    tol_s: int,
    step: Decimal,
    version: OcppVersion,
) -> list[Difference]:
    # Only 2.1 has per-phase limits, discharge limits, setpoints and operation modes.
    is_21 = version is OcppVersion.V21
    names = _VALUES if is_21 else ("limit",)
    out: list[Difference] = []
    e_start, a_start = to_epoch_s(expected.schedule_start), to_epoch_s(actual.schedule_start)
    if len(expected.periods) != len(actual.periods):
        out.append(
            Difference("number of periods", str(len(expected.periods)), str(len(actual.periods)))
        )
    for index in range(max(len(expected.periods), len(actual.periods))):
        where = f"period {index}"
        if index >= len(actual.periods):
            wanted = _period_text(expected.periods[index], str(expected.unit))
            out.append(Difference(where, wanted, "missing"))
            continue
        if index >= len(expected.periods):
            extra = _period_text(actual.periods[index], str(actual.unit))
            out.append(Difference(where, "none", extra))
            continue
        e, a = expected.periods[index], actual.periods[index]
        e_at, a_at = e_start + e.start_period_s, a_start + a.start_period_s
        # Period 0 starts at the schedule start (compared above); later ones as instants.
        off = a.start_period_s != 0 if index == 0 else abs(e_at - a_at) > tol_s
        if off:
            out.append(
                Difference(f"{where} startPeriod", f"{e.start_period_s} s", f"{a.start_period_s} s")
            )
        for name in names:
            ev, av = getattr(e, name), getattr(a, name)
            if (ev is None) != (av is None) or (
                ev is not None and av is not None and abs(ev - av) >= step
            ):
                out.append(Difference(f"{where} {name}", _fmt(ev), _fmt(av)))
        e_ph = e.number_phases or DEFAULT_NUMBER_PHASES
        a_ph = a.number_phases or DEFAULT_NUMBER_PHASES
        if e_ph != a_ph:
            out.append(Difference(f"{where} numberPhases", str(e_ph), str(a_ph)))
        if is_21 and (e.operation_mode or "ChargingOnly") != (a.operation_mode or "ChargingOnly"):
            out.append(
                Difference(f"{where} operationMode", str(e.operation_mode), str(a.operation_mode))
            )
    return out


def _unmerged(actual: CompositeSchedule, version: OcppVersion) -> list[Difference]:
    """Adjacent periods of the DUT's answer that carry the same values: a composite merges
    them (OCA TC_066_CS fails an extra period with its neighbour's limit). Named so that the
    verdict says what is wrong, not only that the period count differs."""
    names = _VALUES if version is OcppVersion.V21 else ("limit",)
    out: list[Difference] = []
    periods = actual.periods
    for index in range(1, len(periods)):
        before, this = periods[index - 1], periods[index]
        same = (
            all(getattr(before, n) == getattr(this, n) for n in names)
            and (before.number_phases or DEFAULT_NUMBER_PHASES)
            == (this.number_phases or DEFAULT_NUMBER_PHASES)
            and (version is not OcppVersion.V21 or before.operation_mode == this.operation_mode)
        )
        if same:
            out.append(
                Difference(
                    f"periods {index - 1} and {index}",
                    "merged (adjacent periods of a composite schedule differ)",
                    f"both {_period_text(this, str(actual.unit)).split(' → ', 1)[1]}",
                )
            )
    return out


ONE_DIGIT_RULE = "at most one digit fraction (2.0.1 ChargingSchedulePeriodType.limit)"
"""What :func:`limit_digit_problems` checks, in words (for Expected texts)."""


def limit_digit_problems(payload: Any, version: OcppVersion) -> list[tuple[str, str]]:
    """Every ``limit`` of a ``chargingSchedulePeriod`` anywhere in ``payload`` that has more
    than one digit after the point, as ``(JSON path, value)`` — OCPP 2.0.1 only.

    2.0.1 ChargingSchedulePeriodType.limit: "Accepts at most one digit fraction (e.g. 8.1)",
    said in words only, so the 2.0.1 schema does not check it wherever a station reports a
    limit (GetCompositeSchedule, ReportChargingProfiles, NotifyChargingLimit). 1.6's schema
    does (multipleOf 0.1); 2.1 dropped the sentence."""
    if version is not OcppVersion.V201:
        return []
    out: list[tuple[str, str]] = []

    def visit(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "chargingSchedulePeriod" and isinstance(item, list):
                    for index, period in enumerate(item):
                        limit = period.get("limit") if isinstance(period, dict) else None
                        if _too_many_digits(limit):
                            out.append((f"{path}.{key}[{index}].limit", str(limit)))
                else:
                    visit(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]")

    visit(payload, "$")
    return out


def _too_many_digits(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent < -1


def _fraction_digits(payload: dict[str, Any], version: OcppVersion) -> list[Difference]:
    """The composite's limits against 2.0.1's one-digit-fraction rule (see
    :func:`limit_digit_problems`)."""
    schedule = payload.get("schedule")
    periods = schedule.get("chargingSchedulePeriod") if isinstance(schedule, dict) else None
    found = limit_digit_problems({"chargingSchedulePeriod": periods}, version)
    return [
        Difference(f"period {path.split('[')[1].split(']')[0]} limit", ONE_DIGIT_RULE, value)
        for path, value in found
    ]


def compare_composite(
    expected: CompositeSchedule,
    actual_payload: dict[str, Any],
    *,
    version: OcppVersion,
    time_tolerance_s: int,
    precision: Decimal | None = None,
) -> ScheduleComparison:
    """Compare a DUT's GetCompositeSchedule response payload with the oracle's schedule.

    The payload is first checked against the version's response schema (a schema violation
    is a difference too). ``precision`` defaults to the version's (0.1).
    """
    step = precision if precision is not None else PRECISION[version]
    status = str(actual_payload.get("status"))
    diffs: list[Difference] = []
    actual: CompositeSchedule | None = None
    try:
        schema_validator(version, "GetCompositeScheduleResponse")(actual_payload)
    except Exception as exc:
        diffs.append(Difference("response schema", "a valid payload", str(exc)))
    if not diffs:
        actual = parse_composite_response(actual_payload, version)
    if actual is None:
        diffs.append(Difference("status", "Accepted with a schedule", status))
    else:
        if actual.unit is not expected.unit:
            diffs.append(Difference("chargingRateUnit", str(expected.unit), str(actual.unit)))
        diffs += _fraction_digits(actual_payload, version)
        delta = abs(to_epoch_s(actual.schedule_start) - to_epoch_s(expected.schedule_start))
        if delta > time_tolerance_s:
            e_iso, a_iso = iso(expected.schedule_start), iso(actual.schedule_start)
            diffs.append(Difference("scheduleStart", e_iso, a_iso))
        if actual.duration_s != expected.duration_s:
            e_d, a_d = f"{expected.duration_s} s", f"{actual.duration_s} s"
            diffs.append(Difference("duration", e_d, a_d))
        diffs += _compare_periods(expected, actual, time_tolerance_s, step, version)
        if not _unmerged(expected, version):  # the oracle merges; never judge it by itself
            diffs += _unmerged(actual, version)
    return ScheduleComparison(
        expected=expected,
        actual=actual,
        actual_status=status,
        differences=tuple(diffs),
        time_tolerance_s=time_tolerance_s,
        precision=step,
    )
