"""``expect_meter_values`` for the engine: collect the DUT's MeterValues of one connector and
judge them as the OCA OCPP 1.6 meter-values cases do (TC_070_CS sampled, TC_071_CS
clock-aligned; OCPP 1.6 TestCaseDocument, "Tool validation(s)").

:func:`meter_values_problems` is the judgement, a pure function of the payloads; the step
runner only collects them (the first ``count`` MeterValues of the connector, within the
step's time).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.runner.endpoint import Received
from harness.scenario import ExpectMeterValuesStep, resolve_int, resolve_number
from harness.scenario.values import ParamRef, SubstitutionError, substitute

if TYPE_CHECKING:
    from harness.runner.step_host import StepHost
    from harness.runner.verdicts import CaseRecord

__all__ = [
    "DEFAULT_MEASURAND",
    "is_interval_data",
    "meter_values_problems",
    "run_meter_values",
]

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
"""OCPP 1.6 §7.31/7.45: the measurand of a sampledValue without one, and the one assumed when
the configured list is empty (TC_070_CS: "When the value for MeterValuesSampledData is empty
the measurand Energy.Active.Import.Register is assumed as default")."""
DEFAULT_CONTEXT = "Sample.Periodic"
"""OCPP 1.6 §7.45 SampledValue.context: Sample.Periodic when absent."""


def configured_measurands(text: str) -> tuple[str, ...]:
    """The measurands of a 1.6 configuration value (``MeterValuesSampledData``,
    ``MeterValuesAlignedData``): comma-separated; empty means the default measurand."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    return names or (DEFAULT_MEASURAND,)


def meter_values_problems(
    payloads: Sequence[Mapping[str, Any]],
    *,
    interval_s: float,
    aligned: bool,
    context: str,
    measurands: Sequence[str],
    tolerance_s: float,
) -> list[str]:
    """What breaks the OCA meter-values validations in ``payloads`` (MeterValues requests, in
    arrival order): one sentence per broken rule, empty when every rule holds."""
    problems: list[str] = []
    stamps: list[datetime] = []
    for n, payload in enumerate(payloads, start=1):
        for value in payload.get("meterValue") or ():
            stamp = _time(value.get("timestamp"))
            if stamp is None:
                problems.append(f"MeterValues #{n}: timestamp {value.get('timestamp')!r}")
                continue
            stamps.append(stamp)
            problems.extend(_sampled(n, value.get("sampledValue") or (), context, measurands))
    # "Between the MeterValue.timestamp fields ... should be an interval of x seconds"
    for earlier, later in itertools.pairwise(stamps):
        gap = (later - earlier).total_seconds()
        if abs(gap - interval_s) > tolerance_s:
            problems.append(
                f"timestamps {_hms(earlier)} → {_hms(later)} are {gap:g} s apart, not "
                f"{interval_s:g} s (± {tolerance_s:g} s)"
            )
    # TC_071_CS: "The MeterValue.timestamp should contain a Clock-aligned value"
    if aligned:
        for stamp in stamps:
            midnight = stamp.replace(hour=0, minute=0, second=0, microsecond=0)
            into = (stamp - midnight).total_seconds() % interval_s
            if min(into, interval_s - into) > tolerance_s:
                problems.append(
                    f"timestamp {_hms(stamp)} is not on a multiple of {interval_s:g} s since "
                    f"midnight ({into:g} s past one)"
                )
    return problems


INTERVAL_CONTEXTS = frozenset({"Sample.Periodic", "Sample.Clock"})
"""The contexts of interval data; MeterValues with none of them (a Transaction.Begin reading
some stations send at the start, a Trigger answer) are not what the intervals produce."""


def is_interval_data(payload: Mapping[str, Any]) -> bool:
    """Whether a MeterValues request carries sampled or clock-aligned data (any sampledValue
    of context Sample.Periodic — also when absent — or Sample.Clock)."""
    return any(
        str(v.get("context", DEFAULT_CONTEXT)) in INTERVAL_CONTEXTS
        for mv in payload.get("meterValue") or ()
        for v in mv.get("sampledValue") or ()
    )


def _sampled(
    n: int, values: Sequence[Mapping[str, Any]], context: str, measurands: Sequence[str]
) -> list[str]:
    found: list[str] = []
    contexts = sorted({str(v.get("context", DEFAULT_CONTEXT)) for v in values} - {context})
    if contexts:
        found.append(f"MeterValues #{n}: sampledValue.context {', '.join(contexts)}, not {context}")
    present = {str(v.get("measurand", DEFAULT_MEASURAND)) for v in values}
    absent = [m for m in measurands if m not in present]
    if absent:
        found.append(f"MeterValues #{n}: no sampledValue of the configured {', '.join(absent)}")
    for v in values:
        measurand = str(v.get("measurand", DEFAULT_MEASURAND))
        if v.get("location") == "EV" and measurand != "SoC":
            found.append(f"MeterValues #{n}: {measurand} with location EV (only SoC may be)")
    return found


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _hms(stamp: datetime) -> str:
    return stamp.strftime("%H:%M:%S.%f")[:-3]


async def run_meter_values(step: ExpectMeterValuesStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``expect_meter_values`` step and record its check."""
    await judge_meter_values(step, variables=record.variables, note=record.note, host=host)


async def judge_meter_values(
    step: ExpectMeterValuesStep,
    *,
    variables: Mapping[str, Any],
    note: Callable[[str], None],
    host: StepHost,
) -> None:
    """The step itself, given the case's ``variables`` and step log (``note``); of ``host``
    it uses only the connection, the clock, ``judge`` and ``wait_closed_or``."""
    engine = host
    evse = resolve_int(step.evse, variables=variables)
    count = resolve_int(step.count, variables=variables)
    interval_s = _seconds(step.interval_s, variables)
    tolerance_s = _seconds(step.tolerance_s, variables)
    within_s = (
        (count + 1) * interval_s if step.within_s is None else _seconds(step.within_s, variables)
    )
    text = substitute(step.measurands, variables=variables, now=engine.clock.now())
    measurands = configured_measurands(str(text))
    kind = "clock-aligned" if step.aligned else "sampled"
    expected = (
        f"{count} MeterValues for connector {evse} within {within_s:g} s, {kind} every "
        f"{interval_s:g} s (± {tolerance_s:g} s), context {step.context}, with "
        f"{', '.join(measurands)}, no location EV but SoC"
    )
    note(f"expect_meter_values: {count} × {kind} every {interval_s:g} s at {evse}")
    got = await _collect(engine, evse=evse, count=count, within_s=within_s)
    frames = tuple(f for r in got for f in r.frames)
    if len(got) < count:
        actual = f"{len(got)} MeterValues for connector {evse} within {within_s:g} s"
        if engine.endpoint.closed:
            actual += " (the DUT closed the connection)"
        engine.judge(step, ok=False, expected=expected, actual=actual, frames=frames)
        return
    problems = meter_values_problems(
        [r.payload for r in got],
        interval_s=interval_s,
        aligned=step.aligned,
        context=step.context,
        measurands=measurands,
        tolerance_s=tolerance_s,
    )
    stamps = ", ".join(
        _hms(t)
        for r in got
        for v in r.payload.get("meterValue") or ()
        if (t := _time(v.get("timestamp")))
    )
    actual = "; ".join(problems) if problems else f"{len(got)} MeterValues at {stamps}"
    engine.judge(step, ok=not problems, expected=expected, actual=actual, frames=frames)


def _seconds(value: float | ParamRef, variables: Mapping[str, Any]) -> float:
    """A number of seconds; a ``${name}`` may also name a numeric text (a 1.6 configuration
    value, which ChangeConfiguration sends as text, e.g. ``"10"``)."""
    if isinstance(value, ParamRef) and isinstance(variables.get(value.name), str):
        try:
            return float(variables[value.name])
        except ValueError:
            raise SubstitutionError(
                f"'{value}' is {variables[value.name]!r}, not a number"
            ) from None
    return resolve_number(value, variables=variables)


async def _collect(engine: StepHost, *, evse: int, count: int, within_s: float) -> list[Received]:
    """The first ``count`` MeterValues of connector ``evse`` with interval data (fewer when
    the time is up or the connection closed); the others are answered by default."""
    endpoint, clock = engine.endpoint, engine.clock

    def ours(payload: Mapping[str, Any]) -> bool:
        return payload.get("connectorId") == evse and is_interval_data(payload)

    got: list[Received] = []
    deadline = clock.monotonic() + endpoint.patience_s(within_s)
    while len(got) < count and not endpoint.closed:
        early = endpoint.take_unclaimed("MeterValues", accepts=ours)
        if early is not None:
            got.append(early)
            continue
        left = deadline - clock.monotonic()
        if left <= 0:
            break
        waiter = endpoint.arm("MeterValues", lambda _event: None, accepts=ours)
        try:
            closed = endpoint.closed_waiter()
            try:
                await engine.wait_closed_or(_first(waiter.future, closed), left)
            finally:
                closed.cancel()
        finally:
            endpoint.disarm(waiter)
        if waiter.future.done():
            got.append(waiter.future.result())
    return got


async def _first(*futures: Any) -> None:
    await asyncio.wait(set(futures), return_when=asyncio.FIRST_COMPLETED)
