"""Judge a DUT's GetCompositeSchedule answer against the oracle's.

Time as the OCA test documents treat it: instants to the millisecond, and the configured
*max time deviation* (``time_tolerance_s``, a lab parameter) applied to the schedule start,
the duration and every period start (as an instant). A period start is a whole number of
seconds from a scheduleStart that a station may also write in whole seconds, so period starts
are allowed the deviation plus that 1 s resolution (a conforming station that truncates both
is up to 2 s early; the documents' (50 − x) cannot be met more exactly). A period of the
oracle's schedule that is no longer than the deviation (a sliver the station's whole-second
startPeriod cannot show, e.g. at the end of a ``duration 299`` answer for a 300 s window)
may be absent. Limits
must agree to the version's precision (a difference smaller than one step, e.g. 0.1). The
period list must match one to one: an extra period with the same limit as its neighbour is
a difference (OCA TC_066 fails it). Every difference names the rule it applies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from harness.smartcharging.composite import CompositePeriod, CompositeSchedule, to_epoch_ms
from harness.smartcharging.model import DEFAULT_NUMBER_PHASES
from harness.smartcharging.payloads import schema_validator
from harness.smartcharging.responses import iso, parse_composite_response
from harness.smartcharging.units import PRECISION
from harness.versions import OcppVersion

__all__ = [
    "READING_TX_DEFAULT_RESUMES",
    "RULE_COMPOSITE",
    "RULE_DURATION",
    "RULE_MERGED",
    "RULE_SCHEDULE",
    "RULE_SCHEMA",
    "RULE_START",
    "RULE_TX_OVERRULES",
    "RULE_UNIT",
    "Difference",
    "ScheduleComparison",
    "compare_composite",
    "schedule_text",
]

_RESOLUTION_MS = 1000
"""startPeriod is a whole number of seconds."""
RULE_SCHEMA = "the version's GetCompositeSchedule response schema"
RULE_SCHEDULE = (
    "GetCompositeSchedule (1.6 §5.7, 2.0.1 K08): status Accepted reports the composite schedule"
)
RULE_UNIT = "GetCompositeSchedule (1.6 §5.7, 2.0.1 K08): the schedule is in the requested unit"
RULE_START = "scheduleStart is the time of the request ± the max time deviation (OCA tool)"
RULE_DURATION = "duration is the requested duration ± the max time deviation (OCA tool)"
RULE_COMPOSITE = (
    "the composite of the installed profiles (1.6 §3.13, 2.0.1 K08), "
    "period starts ± the max time deviation and 1 s resolution"
)
RULE_MERGED = "adjacent periods of a composite schedule differ (OCA TC_066_CS / TC_K_41_CS)"
RULE_TX_OVERRULES = (
    "1.6 §3.13.2 / 2.0.1 K08: a valid TxProfile overrules the TxDefaultProfile for the whole "
    "transaction, also after its own schedule has ended"
)
READING_TX_DEFAULT_RESUMES = (
    "the reading where the TxDefaultProfile resumes after the TxProfile's schedule ends, "
    f"which the specification does not take ({RULE_TX_OVERRULES})"
)

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
    """One thing that differs: where, what was expected, what was seen, and the rule."""

    where: str
    expected: str
    actual: str
    rule: str = RULE_COMPOSITE

    def describe(self) -> str:
        return f"{self.where}: expected {self.expected}, got {self.actual} [{self.rule}]"


@dataclass(frozen=True, slots=True)
class ScheduleComparison:
    """The verdict material: both schedules and every difference (none means a match)."""

    expected: CompositeSchedule
    actual: CompositeSchedule | None
    actual_status: str
    differences: tuple[Difference, ...]
    time_tolerance_s: float
    precision: Decimal
    reading: str | None = None
    """Set when the answer matches a known reading the specification does not take."""

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
            f"{head} (times ±{_secs(self.time_tolerance_s)} s, limits to {self.precision})",
            f"Expected: {self.expected_text}",
            f"Actual:   {self.actual_text}",
        ]
        lines += [f"  - {d.describe()}" for d in self.differences]
        if self.reading is not None:
            lines.append(f"  - {self.reading}")
        return "\n".join(lines)


def _secs(value: float) -> str:
    return format(Decimal(str(value)).normalize(), "f")


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
    tol_ms: int,
    step: Decimal,
    version: OcppVersion,
) -> list[Difference]:
    # Only 2.1 has per-phase limits, discharge limits, setpoints and operation modes.
    is_21 = version is OcppVersion.V21
    names = _VALUES if is_21 else ("limit",)
    out: list[Difference] = []
    e_start, a_start = to_epoch_ms(expected.schedule_start), to_epoch_ms(actual.schedule_start)
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
        e_at = e_start + expected.offset_ms(index)
        a_at = a_start + actual.offset_ms(index)
        # Period 0 starts at the schedule start (compared apart); later ones as instants.
        off = index == 0 and a.start_period_s != 0
        off = off or (index > 0 and abs(e_at - a_at) > tol_ms + _RESOLUTION_MS)
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


def _without_slivers(schedule: CompositeSchedule, tol_ms: int) -> CompositeSchedule | None:
    """``schedule`` without the periods no longer than ``tol_ms`` (equal neighbours merged
    again), or ``None`` when it has none. A sliver at the start gives way to the next period."""
    end_ms = schedule.duration_s * 1000
    count = len(schedule.periods)
    spans = [
        (schedule.offset_ms(i), schedule.offset_ms(i + 1) if i + 1 < count else end_ms)
        for i in range(count)
    ]
    keep = [i for i, (a, b) in enumerate(spans) if b - a > tol_ms]
    if len(keep) == count or not keep:
        return None
    periods: list[CompositePeriod] = []
    offsets: list[int] = []
    for i in keep:
        period = schedule.periods[i]
        if periods and replace(periods[-1], start_period_s=0) == replace(period, start_period_s=0):
            continue
        periods.append(period)
        offsets.append(spans[i][0])
    offsets[0] = 0
    periods[0] = replace(periods[0], start_period_s=0)
    return replace(schedule, periods=tuple(periods), start_offsets_ms=tuple(offsets))


def _filled(
    expected: CompositeSchedule, actual: CompositeSchedule, tol_ms: int
) -> CompositeSchedule:
    """``expected`` with each period without a limit taking the answer's limit at its start
    (then equal neighbours merged again)."""
    if all(p.limit is not None for p in expected.periods):
        return expected
    e_start, a_start = to_epoch_ms(expected.schedule_start), to_epoch_ms(actual.schedule_start)
    a_offsets = [a_start + actual.offset_ms(i) for i in range(len(actual.periods))]
    periods: list[CompositePeriod] = []
    offsets: list[int] = []
    for index, period in enumerate(expected.periods):
        offset = expected.offset_ms(index)
        if period.limit is None and actual.periods:
            at = e_start + offset
            # the answer's period in force at that instant (its first before its start)
            found = max((i for i, t in enumerate(a_offsets) if t <= at + tol_ms), default=0)
            period = replace(period, limit=actual.periods[found].limit)
        if periods and replace(periods[-1], start_period_s=0) == replace(period, start_period_s=0):
            continue
        periods.append(period)
        offsets.append(offset)
    return replace(expected, periods=tuple(periods), start_offsets_ms=tuple(offsets))


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
                    RULE_MERGED,
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
        Difference(
            f"period {path.split('[')[1].split(']')[0]} limit",
            ONE_DIGIT_RULE,
            value,
            ONE_DIGIT_RULE,
        )
        for path, value in found
    ]


def compare_composite(
    expected: CompositeSchedule,
    actual_payload: dict[str, Any],
    *,
    version: OcppVersion,
    time_tolerance_s: float,
    precision: Decimal | None = None,
    alternative: CompositeSchedule | None = None,
    alternative_reading: str = READING_TX_DEFAULT_RESUMES,
    any_limit_where_unlimited: bool = False,
) -> ScheduleComparison:
    """Compare a DUT's GetCompositeSchedule response payload with the oracle's schedule.

    The payload is first checked against the version's response schema (a schema violation
    is a difference too). ``precision`` defaults to the version's (0.1). ``time_tolerance_s``
    is the max time deviation (seconds, fractions allowed). When the answer differs from
    ``expected`` but matches ``alternative`` (the composite under a reading the
    specification does not take), the comparison's ``reading`` says so, naming
    ``alternative_reading`` (which reading, and the rule it breaks). With
    ``any_limit_where_unlimited`` a period the oracle leaves without a limit (no profile
    limits it) takes whatever limit the answer reports there: the station's own maximum,
    which the harness does not know, is a limit the specification allows.
    """
    step = precision if precision is not None else PRECISION[version]
    tol_ms = round(time_tolerance_s * 1000)
    status = str(actual_payload.get("status"))
    diffs: list[Difference] = []
    actual: CompositeSchedule | None = None
    try:
        schema_validator(version, "GetCompositeScheduleResponse")(actual_payload)
    except Exception as exc:
        diffs.append(Difference("response schema", "a valid payload", str(exc), RULE_SCHEMA))
    if not diffs:
        actual = parse_composite_response(actual_payload, version)
    wanted = expected
    if actual is not None and any_limit_where_unlimited:
        wanted = _filled(expected, actual, tol_ms)
        if alternative is not None:
            alternative = _filled(alternative, actual, tol_ms)
    if actual is None:
        if not diffs:
            got = f"{status} without a schedule" if status == "Accepted" else status
            diffs.append(Difference("status", "Accepted with a schedule", got, RULE_SCHEDULE))
    else:
        diffs += _fraction_digits(actual_payload, version)
        diffs += _against(wanted, actual, version, tol_ms, step)
    reading = None
    if (
        diffs
        and actual is not None
        and alternative is not None
        and not _against(alternative, actual, version, tol_ms, step)
    ):
        reading = f"the answer matches {alternative_reading}"
    return ScheduleComparison(
        expected=expected,
        actual=actual,
        actual_status=status,
        differences=tuple(diffs),
        time_tolerance_s=time_tolerance_s,
        precision=step,
        reading=reading,
    )


def _against(
    expected: CompositeSchedule,
    actual: CompositeSchedule,
    version: OcppVersion,
    tol_ms: int,
    step: Decimal,
) -> list[Difference]:
    diffs: list[Difference] = []
    if actual.unit is not expected.unit:
        diffs.append(
            Difference("chargingRateUnit", str(expected.unit), str(actual.unit), RULE_UNIT)
        )
    delta = abs(to_epoch_ms(actual.schedule_start) - to_epoch_ms(expected.schedule_start))
    if delta > tol_ms:
        e_iso, a_iso = iso(expected.schedule_start), iso(actual.schedule_start)
        diffs.append(Difference("scheduleStart", e_iso, a_iso, RULE_START))
    if abs(actual.duration_s - expected.duration_s) * 1000 > tol_ms:
        e_d, a_d = f"{expected.duration_s} s", f"{actual.duration_s} s"
        diffs.append(Difference("duration", e_d, a_d, RULE_DURATION))
    periods = _compare_periods(expected, actual, tol_ms, step, version)
    if periods:
        trimmed = _without_slivers(expected, tol_ms)
        if trimmed is not None:
            other = _compare_periods(trimmed, actual, tol_ms, step, version)
            if len(other) < len(periods):
                periods = other
    diffs += periods
    if not _unmerged(expected, version):  # the oracle merges; never judge it by itself
        diffs += _unmerged(actual, version)
    return diffs
