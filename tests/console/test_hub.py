"""The console's event stream: what a browser is sent, and what one that connects late gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.console import ConsoleHub
from harness.lab.status import BootInfo, StationState, StationStatus
from harness.results import MeasurementSource
from harness.runner.observations import LimitRecord, MeterSample
from harness.scenario import ExpectSettledStep, WaitStep

T0 = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def _settled(**fields: object) -> ExpectSettledStep:
    return ExpectSettledStep.model_validate(
        {
            "kind": "expect_settled",
            "target": "min(limit, ${cap_a})",
            "relation": "at_or_below",
            "tolerance": "${tol_a}",
            "within_s": 15,
            "evse": 2,
            **fields,
        }
    )


def test_points_bands_and_a_late_subscriber() -> None:
    hub = ConsoleHub(now=lambda: T0, report_url=lambda sid: f"/runs/{sid}/report/index.html")
    early = hub.subscribe()
    status = StationStatus("CP1", ocpp="2.0.1", boot=BootInfo("acme", "W1", "1.2"))
    status.connected, status.state, status.case, status.planned = (
        True,
        StationState.RUNNING,
        "C1",
        1,
    )
    hub.station_changed(status)
    hub.station_changed(status)  # unchanged: not sent again
    hub.step_started("CP1", "C1", 1, _settled(), {"cap_a": 13, "tol_a": 0.5})
    hub.observed("CP1", LimitRecord(T0, 2, 16.0, "A"))
    hub.observed("CP1", LimitRecord(T0, 2, 4000.0, "W"))  # not a current: not plotted
    for measurand, phase, value in (
        ("Current.Import", "L1", 12.5),
        ("Current.Import", None, 37.0),  # a total, not a phase: not plotted
        ("Current.Offered", None, 16.0),
        ("Voltage", "L1", 230.0),
    ):
        hub.observed("CP1", MeterSample(T0 + timedelta(seconds=1), 2, measurand, phase, value))
    hub.observed(
        "CP1",
        MeterSample(T0, 2, "Current.Import", "L2", 12.0, source=MeasurementSource.LAB_METER),
    )
    sent = []
    while not early.empty():
        sent.append(early.get_nowait())
    assert [e["type"] for e in sent] == ["station", "case", "step", "band"] + ["point"] * 4
    station = sent[0]
    assert (station["vendor"], station["model"], station["firmware"], station["ocpp"]) == (
        "acme",
        "W1",
        "1.2",
        "2.0.1",
    )
    assert station["report"] == "/runs/CP1/report/index.html"
    assert sent[2]["detail"] == "current settles at_or_below min(limit, 13)"
    band = sent[3]
    assert (band["evse"], band["relation"], band["tolerance"], band["cap"]) == (
        2,
        "at_or_below",
        0.5,
        13.0,
    )
    assert band["uses_limit"] is True
    assert band["t1"] is None
    assert [(e["series"], e["v"]) for e in sent[4:]] == [
        ("limit", 16.0),
        ("L1", 12.5),
        ("offered", 16.0),
        ("lab L2", 12.0),
    ]
    assert sent[5]["t"] == (T0 + timedelta(seconds=1)).timestamp()

    # The next step closes the band; a browser that connects now catches up.
    hub.step_started("CP1", "C1", 2, WaitStep(kind="wait", duration_s=1), {})
    late = hub.subscribe()
    caught_up = []
    while not late.empty():
        caught_up.append(late.get_nowait())
    assert [e["type"] for e in caught_up] == ["station", "step", "band"] + ["point"] * 4
    assert caught_up[2]["t1"] == T0.timestamp()

    # A new case starts a new plot.
    hub.step_started("CP1", "C2", 1, WaitStep(kind="wait", duration_s=1), {})
    assert [e["type"] for e in hub.snapshot()] == ["station", "step"]
