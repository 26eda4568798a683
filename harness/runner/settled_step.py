"""``expect_settled`` for the engine: watch MeterValues as they arrive and judge them.

The target ``limit`` is the oracle's limit from the mirror store (the profiles the harness
installed and the DUT accepted, with the transactions the harness observed), evaluated at
each sample's arrival time. See :mod:`harness.runner.settle` for the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from harness.results import MeasurementSource
from harness.runner.observations import MeterSample
from harness.runner.settle import SettleJudge, SettleState
from harness.runner.step_host import StepHost
from harness.runner.verdicts import CaseRecord
from harness.scenario import ExpectSettledStep, Quantity, resolve_int, resolve_number

__all__ = ["run_settled"]

_SERIES = {
    Quantity.CURRENT: ("current_import.L1", "current_import.L2", "current_import.L3", "limit"),
    Quantity.CURRENT_OFFERED: ("current_offered", "limit"),
    Quantity.POWER: ("power_import",),
    Quantity.POWER_OFFERED: (),
    Quantity.POWER_EXPORT: ("power_export",),
}


def _values(group: Sequence[MeterSample], quantity: Quantity) -> list[float]:
    """Per-phase values (currents) or the total (powers) of one sample set."""
    phased = [s.value for s in group if s.phase in {"L1", "L2", "L3"}]
    total = [s.value for s in group if s.phase is None]
    if quantity.unit == "A":
        return phased or total[:1]
    return total[:1] or ([sum(phased)] if phased else [])


def _limit(host: StepHost, quantity: Quantity, evse: int, at: datetime) -> float | None:
    limit = host.mirror.limit_at(evse_id=evse, at=at)
    host.endpoint.observations.record_limit(
        at, evse, None if limit.current_a is None else float(limit.current_a), "A"
    )
    if quantity is Quantity.POWER_EXPORT:
        setpoint = limit.setpoint_w
        return float(-setpoint) if setpoint is not None and setpoint < 0 else 0.0
    value = limit.current_a if quantity.unit == "A" else limit.power_w
    return None if value is None else float(value)


async def run_settled(step: ExpectSettledStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``expect_settled`` step and record its check."""
    variables = record.variables
    evse = resolve_int(step.evse, variables=variables)
    within_s = resolve_number(step.within_s, variables=variables)
    hold_s = resolve_number(step.hold_s, variables=variables)
    tolerance = resolve_number(step.tolerance, variables=variables)
    rel_tolerance = resolve_number(step.rel_tolerance, variables=variables)
    scale = resolve_number(step.scale, variables=variables)
    quantity, unit = step.quantity, step.quantity.unit
    clock, log = host.clock, host.endpoint.observations
    start_s, start_at = clock.monotonic(), clock.now()
    monitor = host.stall_monitor
    wall_mark = monitor.wall_now() if monitor is not None else 0.0
    # Samples carry the DUT's time (see observations.dut_time); on an accelerated clock they
    # arrive late by the processing time, so the deadline is judged with some patience.
    speed = clock.speed
    lag_s = (
        0.0 if speed == float("inf") else max(2.0, min(host.endpoint.patience_s(0.0), 0.2 * speed))
    )
    judge = SettleJudge(
        relation=step.relation,
        tolerance=tolerance,
        rel_tolerance=rel_tolerance,
        start_s=start_s,
        within_s=within_s,
        hold_s=hold_s,
        phases=step.phases,
    )
    band = f"± {tolerance:g} {unit}" + (f" or {rel_tolerance:.0%}" if rel_tolerance else "")
    if step.target.uses_limit:
        target_desc = f"{step.target.describe(variables)} (limit: the oracle's limit in force)"
    else:
        target_desc = f"{step.target.evaluate(limit=None, variables=variables):g} {unit}"
    expected = (
        f"{quantity.value} ({quantity.measurand}) on EVSE {evse} {step.relation.value} "
        f"{target_desc}{f' × {scale:g}' if scale != 1 else ''} ({band}), held {hold_s:g} s, "
        f"within {within_s:g} s"
    )
    # Issue #8: current and power come from the lab meter when the run has one.
    meter = host.lab_meter
    if meter is not None and not meter.provides(quantity.measurand):
        meter = None
    source = MeasurementSource.LAB_METER if meter is not None else MeasurementSource.METER_VALUES
    host.measured_by(source)
    if meter is not None:
        expected += f" — measured by the {meter.label}"
    record.note(f"expect_settled: {expected}")
    series = tuple(n for n in _SERIES[quantity] if n != "limit" or step.target.uses_limit)
    seen = len(log.samples)
    target: float | None = None
    last_reading_s = start_s  # when the lab meter last reported for this EVSE (clock)
    while judge.state is SettleState.WAITING:
        log.changed.clear()
        new = [
            s
            for s in log.samples[seen:]
            if s.evse == evse and s.measurand == quantity.measurand and s.source is source
        ]
        if new:
            last_reading_s = clock.monotonic()
        seen = len(log.samples)
        groups: dict[tuple[object, object], list[MeterSample]] = {}
        for sample in new:
            groups.setdefault((sample.frame, sample.t), []).append(sample)
        for group in groups.values():
            values = _values(group, quantity)
            if not values:
                continue
            at = group[0].t
            limit = _limit(host, quantity, evse, at) if step.target.uses_limit else None
            try:
                target = step.target.evaluate(limit=limit, variables=variables) * scale
            except ValueError:
                record.unjudgeable(
                    step,
                    expected=expected,
                    reason="the target is 'limit' and the oracle has no limit in force",
                )
                return
            judge.feed(start_s + (at - start_at).total_seconds(), values, target, group[0].frame)
            if judge.state is not SettleState.WAITING:
                break
        if judge.state is not SettleState.WAITING:
            break
        if meter is None:
            if judge.at_time(clock.monotonic() - lag_s) is not SettleState.WAITING:
                break
            wait_s = max(0.0, judge.next_decision_s() + lag_s - clock.monotonic())
        else:
            # A live meter reports all along, so its samples decide (a bad one after the
            # deadline, or the one confirming the hold); silence is the meter's problem,
            # never the station's: INCONCLUSIVE, not FAIL.
            silent_s = clock.monotonic() - last_reading_s
            if silent_s >= meter.silent_after_s:
                record.unjudgeable(
                    step,
                    expected=expected,
                    reason=(
                        f"the {meter.label} went silent: no reading for EVSE {evse} for "
                        f"{silent_s:.1f} s (limit {meter.silent_after_s:g} s); "
                        f"{judge.samples_seen} reading(s) in this step"
                        + (f"; last problem: {meter.last_problem}" if meter.last_problem else "")
                    ),
                    series=series,
                )
                return
            wait_s = meter.silent_after_s - silent_s
        await host.wait_closed_or(log.changed.wait(), wait_s + 1e-6)
        if host.endpoint.closed and log.changed.is_set() is False:
            host.judge(
                step,
                ok=False,
                expected=expected,
                actual="the DUT closed the connection while the harness watched "
                f"{quantity.measurand}",
            )
            return
    values_text = ", ".join(f"{v:g}" for v in judge.last_values) or "none"
    at_text = "" if judge.last_t_s is None else f" at +{judge.last_t_s - judge.start_s:.1f} s"
    target_text = "n/a" if judge.last_target is None else f"{judge.last_target:g} {unit}"
    if judge.state is SettleState.SETTLED:
        assert judge.run_start_s is not None
        actual = (
            f"settled: {values_text} {unit} (target {target_text}) from "
            f"+{judge.run_start_s - judge.start_s:.1f} s, held {hold_s:g} s"
        )
        host.judge(
            step,
            ok=True,
            expected=expected,
            actual=actual,
            frames=tuple(judge.run_frames),
            series=series,
        )
    elif judge.state is SettleState.NOT_SETTLED and (
        stall_s := monitor.worst_clock_stall_s(wall_mark) if monitor is not None else 0.0
    ) > max(1.0, 0.2 * within_s):
        record.unjudgeable(
            step,
            expected=expected,
            reason=(
                f"not settled within {within_s:g} s, but the machine stalled for {stall_s:.1f} s "
                f"of clock time (speed {clock.speed:g}) meanwhile; rerun with a lower --speed"
            ),
            frames=tuple(judge.recent_frames),
            series=series,
        )
    elif judge.state is SettleState.NOT_SETTLED:
        actual = (
            f"not settled within {within_s:g} s: last {values_text} {unit}{at_text} "
            f"(target {target_text}); {judge.samples_seen} sample(s) seen"
        )
        host.judge(
            step,
            ok=False,
            expected=expected,
            actual=actual,
            frames=tuple(judge.recent_frames),
            series=series,
        )
    else:
        nothing = (
            f"no reading from the {meter.label} for EVSE {evse}"
            if meter is not None
            else "no MeterValues with " + quantity.measurand + f" on EVSE {evse}"
        )
        reason = judge.uncertain or (
            nothing
            if judge.samples_seen == 0
            else f"no later sample confirmed the hold of {hold_s:g} s (last {values_text} "
            f"{unit}{at_text})"
        )
        record.unjudgeable(
            step, expected=expected, reason=reason, frames=tuple(judge.recent_frames), series=series
        )
