"""The full library's report, as a lab engineer opens it: a real ``ocpp-harness run`` of every
suite with a fleet of three vehicles, its index in headless Chromium at 1 400 px.

The headline figures are computed here from the stored results, independently of
``reports.model``: per station, the vehicles that ran the vehicle programme, which of them
passed every applicable case, and their market shares.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from harness.results import DeviceKind, RunStore, Verdict

from .cdp import Browser

REPO = Path(__file__).resolve().parents[2]
FLEET = {  # id: (archetype, market share in %)
    "ev-good": ("bev_3ph_16a", 60.0),
    "ev-single": ("bev_1ph_32a", 30.0),
    "ev-picky": ("needs_7_2a_to_start", 10.0),  # fails VP-03 (does not start at 6 A)
}
WIDTH_PX = 1400
NONE_APPLIED = f"no case applied to any of the {len(FLEET)} vehicles (all NOT_APPLICABLE)"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the whole case library with the three-vehicle fleet; its run folder."""
    root = tmp_path_factory.mktemp("programme")
    fleet = root / "fleet.yaml"
    fleet.write_text(
        "synthetic: true\nname: three\nmodels:\n"
        + "".join(
            f"  - {{id: {vid}, label: 'Model {vid}', archetype: {arch}, market_share: {share}}}\n"
            for vid, (arch, share) in FLEET.items()
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--fleet", str(fleet), "--out", str(root)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # ev-picky FAILs
    found = re.search(r"^Run folder: (.+)$", proc.stdout, re.MULTILINE)
    assert found is not None, proc.stdout[-2000:]
    return Path(found.group(1))


def expected_headlines(run_dir: Path) -> dict[str, tuple[int, int, float | None]]:
    """Per station id: (vehicles passed, vehicles counted, passing share of counted share in
    %), from the stored results of the vehicle programme."""
    verdicts: dict[str, dict[str, list[Verdict]]] = defaultdict(lambda: defaultdict(list))
    for result in RunStore.open(run_dir).results(with_series=False):
        if not result.info.suite.startswith("vehicle-programme"):
            continue
        (station,) = [d.id for d in result.info.devices if d.kind is DeviceKind.STATION]
        (vehicle,) = [d.id for d in result.info.devices if d.kind is DeviceKind.VEHICLE]
        verdicts[station][vehicle].append(result.verdict)
    out = {}
    for station, by_vehicle in verdicts.items():
        counted = {
            v for v, vs in by_vehicle.items() if any(x is not Verdict.NOT_APPLICABLE for x in vs)
        }
        ok = {Verdict.PASS, Verdict.NON_STRICT, Verdict.NOT_APPLICABLE}
        passed = {v for v in counted if all(x in ok for x in by_vehicle[v])}
        weight = sum(FLEET[v][1] for v in counted)
        share = sum(FLEET[v][1] for v in passed) / weight * 100 if weight else None
        out[station] = (len(passed), len(counted), share)
    return out


HEADLINE = re.compile(
    r"^vehicles covering ([\d.]+) % of the tested market share passed "
    r"\((\d+) of (\d+) models, [\d.]+ %\)$"
)


@pytest.mark.long
def test_headline_and_matrix_width_of_the_full_library_report(
    browser: Browser, full_run: Path
) -> None:
    expected = expected_headlines(full_run)
    assert expected, "the run holds no vehicle-programme result"
    assert any(p < c for p, c, _ in expected.values()), "the picky vehicle should fail"
    assert any(c == len(FLEET) for _, c, _ in expected.values())
    page = browser.new_page(width=WIDTH_PX, height=1000)
    page.navigate((full_run / "report" / "index.html").as_uri())
    assert page.console_errors() == []
    shown = page.evaluate(
        "Array.from(document.querySelectorAll('table.matrix')).map(t => ({"
        " kind: t.querySelector('thead th').textContent.trim(),"
        " id: t.dataset.matrix,"
        " rows: Array.from(t.tBodies[0].rows).map(r => r.dataset.device),"
        " right: t.getBoundingClientRect().right,"
        " scrolls: t.parentElement.scrollWidth > t.parentElement.clientWidth,"
        " headline: document.querySelector('[data-headline=\"' + t.dataset.matrix + '\"]')"
        "   .textContent.trim()}))"
    )
    vehicles = [m for m in shown if m["kind"] == "vehicle"]
    # the matrix a reader needs comes first: the vehicles × programme matrices
    assert shown[0]["kind"] == "vehicle"
    assert len(vehicles) == len(expected)
    for matrix in vehicles:
        station = next(s for s in expected if matrix["id"] == "vehicles-at-" + s.replace(".", "-"))
        passed, counted, share = expected[station]
        assert sorted(matrix["rows"]) == sorted(FLEET)
        # vehicles × tests within the first 1 400 px, no horizontal scrolling
        assert matrix["right"] <= WIDTH_PX, matrix
        assert not matrix["scrolls"], matrix
        if share is None:  # every programme case NOT_APPLICABLE at this station
            assert matrix["headline"] == NONE_APPLIED
            continue
        found = HEADLINE.match(matrix["headline"])
        assert found is not None, matrix["headline"]
        assert (int(found.group(2)), int(found.group(3))) == (passed, counted)
        assert float(found.group(1)) == pytest.approx(share, abs=0.05)
    # station conformance cases have their own table: one row per station, no vehicle rows
    stations = [m for m in shown if m["kind"] == "station"]
    assert stations
    assert not {r for m in stations for r in m["rows"]} & set(FLEET)
    # every cell word of the matrices is explained in the legend
    words = page.evaluate(
        "Array.from(new Set(Array.from(document.querySelectorAll('td.cell'))"
        ".map(c => c.textContent.trim())))"
    )
    legend = page.evaluate("document.getElementById('legend').textContent")
    for word in words:
        assert word in legend, word
    for outcome in ("passed", "failed", "unresolved", "not applicable"):
        assert outcome in legend
