"""Hand-made results and stored runs for the report tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.results import (
    CaseInfo,
    CaseResult,
    CheckResult,
    DeviceKind,
    DeviceRef,
    Interruption,
    Level,
    Manifest,
    MeasurementSource,
    Phase,
    Quantity,
    Requirement,
    RunStore,
    Series,
    StepRecord,
    Unit,
    Verdict,
)
from harness.transport.base import OcppSubprotocol

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
CP1 = DeviceRef(DeviceKind.STATION, "CP-1", "Acme Wallbox")
CP2 = DeviceRef(DeviceKind.STATION, "CP-2", "Beta Charger")
MUST = Requirement("K01.FR.31", Level.MUST, "apply the limit")
SHOULD = Requirement("VP-02.S", Level.SHOULD, "draw at least 80 % of what it could")
VP = "vehicle-programme"


def ev(ident: str, share: float | str | None = None, label: str = "") -> DeviceRef:
    """A vehicle model, with a market share when given."""
    attrs: dict[str, Any] = {} if share is None else {"market_share": share}
    return DeviceRef(DeviceKind.VEHICLE, ident, label or f"Model {ident}", attrs)


def check(
    verdict: Verdict, *, frames: tuple[int, ...] = (), series: tuple[str, ...] = ()
) -> CheckResult:
    """A check with ``verdict`` and distinctive Expected/Actual texts."""
    if verdict is Verdict.PASS:
        return CheckResult.passed(
            MUST,
            expected="<= 6 A within 15 s",
            actual="5.9 A after 8 s",
            frames=frames,
            series=series,
        )
    if verdict is Verdict.FAIL:
        return CheckResult.failed(
            MUST,
            expected="<= 6 A within 15 s",
            actual="16 A after 15 s",
            frames=frames,
            series=series,
        )
    if verdict is Verdict.NON_STRICT:
        return CheckResult.failed(SHOULD, expected=">= 12.8 A", actual="9 A", frames=frames)
    if verdict is Verdict.INCONCLUSIVE:
        return CheckResult.inconclusive(MUST, expected="<= 6 A", reason="lab meter silent 45 s")
    if verdict is Verdict.ERROR:
        return CheckResult.harness_error(MUST, RuntimeError("bug in check"))
    raise ValueError(verdict)


def result(
    case_id: str,
    devices: Sequence[DeviceRef],
    verdict: Verdict,
    *,
    suite: str = VP,
    category: str = "smart-charging",
    title: str = "",
    frames: tuple[int, ...] = (),
    series: tuple[Series, ...] = (),
    steps: tuple[StepRecord, ...] = (),
    minutes: int = 0,
) -> CaseResult:
    """A case result whose verdict is ``verdict`` (NOT_APPLICABLE: the case did not run)."""
    info = CaseInfo(
        case_id,
        title or f"case {case_id}",
        suite,
        category,
        OcppSubprotocol.V201,
        tuple(devices),
        {"tolerance_a": 1.0},
    )
    start = T0 + timedelta(minutes=minutes)
    if verdict is Verdict.NOT_APPLICABLE:
        return CaseResult.not_applicable(
            info, reason="capability declaration: no phase switch", at=start
        )
    names = tuple(s.name for s in series)
    checks = (
        check(verdict, frames=frames, series=names if verdict is not Verdict.NON_STRICT else ()),
    )
    return CaseResult(
        info,
        start,
        start + timedelta(minutes=20),
        0.25,
        checks=checks,
        steps=steps,
        measurement_source=MeasurementSource.METER_VALUES if series else MeasurementSource.NONE,
        series=series,
    )


def interrupted(case_id: str, devices: Sequence[DeviceRef]) -> CaseResult:
    """A case the harness could not judge (INCONCLUSIVE through an interruption)."""
    info = CaseInfo(
        case_id, f"case {case_id}", VP, "smart-charging", OcppSubprotocol.V201, tuple(devices)
    )
    return CaseResult(
        info,
        T0,
        T0 + timedelta(minutes=1),
        0.1,
        interruption=Interruption.inconclusive("setup failed: no connection"),
    )


def measured_series(*, export: bool = False) -> tuple[Series, ...]:
    """Limit (step 16 → 6 A, then no limit), offered, measured L1-L3, import power
    (and export power when ``export``), one sample every 10 s for 10 minutes."""
    times = [T0 + timedelta(seconds=10 * k) for k in range(61)]
    limit: list[float | None] = [16.0 if k < 20 else 6.0 if k < 50 else None for k in range(61)]
    drawn = [min(15.8, 5.9 if k >= 21 and k < 50 else 15.8) for k in range(61)]
    out = [
        Series.of(Quantity.LIMIT, unit=Unit.A, points=zip(times, limit, strict=True)),
        Series.of(
            Quantity.CURRENT_OFFERED,
            unit=Unit.A,
            points=zip(times, [v if v is not None else 32.0 for v in limit], strict=True),
        ),
        *(
            Series.of(
                Quantity.CURRENT_IMPORT, unit=Unit.A, phase=p, points=zip(times, drawn, strict=True)
            )
            for p in Phase
        ),
        Series.of(
            Quantity.POWER_IMPORT,
            unit=Unit.W,
            points=zip(times, [690.0 * v for v in drawn], strict=True),
        ),
    ]
    if export:
        out.append(
            Series.of(
                Quantity.POWER_EXPORT, unit=Unit.W, points=zip(times, [3680.0] * 61, strict=True)
            )
        )
    return tuple(out)


@dataclass
class Planned:
    """A result to store, with the frames of its trace."""

    result: CaseResult
    frames: list[Mapping[str, Any]] = field(default_factory=list)


def frame(
    i: int, raw: str, *, direction: str = "in", action: str = "MeterValues"
) -> dict[str, Any]:
    return {
        "t": (T0 + timedelta(seconds=i)).isoformat(),
        "dir": direction,
        "raw": raw,
        "station": "CP-1",
        "type": "CALL",
        "id": f"m{i}",
        "action": action,
    }


def store_run(
    root: Path,
    planned: Sequence[Planned | CaseResult],
    *,
    run_id: str = "20261101T080000Z-aaaaaa",
    devices: Sequence[DeviceRef] = (),
    finished: bool = True,
) -> Path:
    """Write a run folder through the store's public writer; return its path."""
    manifest = Manifest(
        run_id=run_id,
        started_at=T0,
        target="sim",
        ocpp_versions=(OcppSubprotocol.V201,),
        devices=tuple(devices),
    )
    writer = RunStore.create(root, manifest)
    for item in planned:
        plan = item if isinstance(item, Planned) else Planned(item)
        if plan.frames:
            sink = writer.trace_sink(plan.result.key)
            for f in plan.frames:
                sink.append(f)
        writer.write_result(plan.result)
    if finished:
        writer.finish(finished_at=T0 + timedelta(hours=1))
    else:
        writer.close()
    return writer.run_dir
