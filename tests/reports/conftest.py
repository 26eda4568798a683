"""A small stored run with every verdict, frames (one holding a <script> tag), measurement
series, two stations' vehicle matrices and a station matrix; and its rendered reports."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.results import CaseInfo, CaseResult, StepRecord, Verdict
from harness.transport.base import OcppSubprotocol
from reports import ReportFormat, write_reports

from .builders import CP1, CP2, T0, Planned, ev, frame, measured_series, result, store_run
from .cdp import Browser, find_chromium, launch

P, F, N, NA = Verdict.PASS, Verdict.FAIL, Verdict.NON_STRICT, Verdict.NOT_APPLICABLE
EV_A, EV_B, EV_C = ev("ev-a", 60.0), ev("ev-b", 30.0), ev("ev-c", 10.0, label="Model ev-c <C> & co")
SCRIPT = '[2,"x1","DataTransfer",{"data":"<script>alert(1)</script>"}]'
PROFILE = json.dumps([2, "m0", "SetChargingProfile", {"evseId": 1, "limit": 6}])


def frames(n: int = 6) -> list[dict[str, object]]:
    out = [
        frame(0, PROFILE, direction="out", action="SetChargingProfile"),
        frame(1, '[3,"m0",{"status":"Accepted"}]', action=""),
    ]
    out += [frame(i, f'[2,"s{i}","MeterValues",{{"evseId":1,"i":{i}}}]') for i in range(2, n)]
    out.append(frame(n, SCRIPT))
    return out


def sample_results() -> list[Planned | CaseResult]:
    steps = (StepRecord(T0, 0, "SetChargingProfile 6 A"), StepRecord(T0, 1, "wait 15 s"))
    return [
        Planned(
            result("VP-01", (CP1, EV_A), P, frames=(0, 1), series=measured_series(), steps=steps),
            frames(),
        ),
        Planned(
            result(
                "VP-14",
                (CP1, EV_A),
                F,
                frames=(0, 6),
                series=measured_series(export=True),
                minutes=30,
            ),
            frames(),
        ),
        Planned(
            result("VP-01", (CP1, EV_B), F, frames=(2,), series=measured_series(), steps=steps),
            frames(),
        ),
        result("VP-14", (CP1, EV_B), NA),
        Planned(result("VP-01", (CP1, EV_C), N, frames=(1,)), frames(3)),
        Planned(result("VP-14", (CP1, EV_C), P, frames=(0,)), frames(3)),
        Planned(result("VP-01", (CP2, EV_A), P), frames(3)),
        Planned(result("VP-01", (CP2, EV_B), Verdict.INCONCLUSIVE), frames(3)),
        Planned(result("TC_066_CS", (CP1,), P, suite="oca-2.0.1"), frames(4)),
        Planned(result("TC_066_CS", (CP2,), Verdict.ERROR, suite="oca-2.0.1"), frames(4)),
        CaseResult.not_applicable(
            CaseInfo(
                "TC_070_CS",
                "case TC_070_CS",
                "oca-2.0.1",
                "smart-charging",
                OcppSubprotocol.V201,
                (CP1,),
            ),
            reason="not declared",
            at=T0,
        ),
    ]


@pytest.fixture
def sample_run(tmp_path: Path) -> Path:
    return store_run(tmp_path / "runs", sample_results(), devices=(CP1, CP2, EV_A, EV_B, EV_C))


@pytest.fixture
def rendered(sample_run: Path, tmp_path: Path) -> dict[ReportFormat, Path]:
    return write_reports(sample_run, tmp_path / "out", list(ReportFormat))


@pytest.fixture(scope="module")
def chromium() -> str:
    """The system's Chromium; skipped when missing, except under CI (``CI`` set)."""
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """Headless Chromium on loopback, one per test module."""
    with launch(chromium) as connected:
        yield connected
