"""The HTML report in a real browser (headless Chromium, driven over CDP on 127.0.0.1).

Skipped when Chromium is not installed -- except under CI (``CI`` set), where that fails.
Screenshots go to ``$REPORT_ARTIFACTS_DIR`` or ``<repo>/test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reports import ReportFormat

from .cdp import LAUNCH_FLAGS, Browser, Page

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    folder = Path(os.environ.get("REPORT_ARTIFACTS_DIR", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def visible_rows(page: Page) -> list[str]:
    return list(
        page.evaluate(
            "Array.from(document.querySelectorAll('table.matrix tbody tr'))"
            ".filter(r => !r.hidden && r.offsetParent !== null).map(r => r.dataset.device)"
        )
    )


def test_dump_dom_runs_the_inline_script(
    chromium: str, rendered: dict[ReportFormat, Path], tmp_path: Path
) -> None:
    proc = subprocess.run(
        [
            chromium,
            *[f for f in LAUNCH_FLAGS if "remote-debugging" not in f],
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            rendered[ReportFormat.HTML].as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '<span id="shown-count">7 of 7 rows shown</span>' in proc.stdout


def test_matrix_filters_sorting_and_a_failing_cell_in_the_browser(
    browser: Browser, rendered: dict[ReportFormat, Path], artifacts: Path
) -> None:
    page = browser.new_page()
    page.navigate(rendered[ReportFormat.HTML].as_uri())
    page.screenshot(artifacts / "report-index.png")
    assert page.console_errors() == []

    # the matrices: rows and cells with the right verdict classes
    shape = page.evaluate(
        "Array.from(document.querySelectorAll('table.matrix')).map(t => ["
        " t.dataset.matrix, t.tBodies[0].rows.length, t.querySelectorAll('td.cell').length])"
    )
    assert shape == [["vehicles-at-CP-1", 3, 6], ["vehicles-at-CP-2", 2, 2], ["stations", 2, 4]]
    mismatched = page.evaluate(
        "Array.from(document.querySelectorAll('td.cell'))"
        ".filter(c => !c.classList.contains('v-' + c.dataset.verdict)).length"
    )
    assert mismatched == 0
    colours = page.evaluate(
        "['PASS', 'FAIL', 'ERROR'].map(v => getComputedStyle("
        "document.querySelector('td.cell.v-' + v)).backgroundColor)"
    )
    assert len(set(colours)) == 3  # the verdict classes are styled, and differently

    # sorting: click VP-01 in the CP-1 matrix; the failing vehicle comes first
    page.click("#matrix-vehicles-at-CP-1 th.case[data-col='0']")
    first = page.evaluate(
        "document.querySelector('#matrix-vehicles-at-CP-1 tbody tr').dataset.device"
    )
    assert first == "ev-b"

    # filtering by verdict: untick every verdict but FAIL (real mouse clicks)
    for verdict in ("PASS", "NON_STRICT", "NOT_APPLICABLE", "INCONCLUSIVE", "ERROR", "NOT_RUN"):
        page.click(f"input.f-verdict[value='{verdict}']")
    assert sorted(visible_rows(page)) == ["ev-a", "ev-b"]
    hidden_cells = page.evaluate(
        "Array.from(document.querySelectorAll('tr:not([hidden]) td.cell'))"
        ".filter(c => c.offsetParent !== null)"
        ".map(c => [c.dataset.verdict, getComputedStyle(c).visibility])"
    )
    assert sorted(hidden_cells) == [
        ["FAIL", "visible"],
        ["FAIL", "visible"],
        ["NOT_APPLICABLE", "hidden"],
        ["PASS", "hidden"],
    ]
    assert page.evaluate("document.getElementById('shown-count').textContent") == (
        "2 of 7 rows shown"
    )
    page.screenshot(artifacts / "report-index-filtered.png")

    # filtering by suite and by device
    page.click("input.f-verdict[value='ERROR']")
    page.evaluate(
        "(() => { const s = document.getElementById('f-suite');"
        " s.value = 'oca-2.0.1'; s.dispatchEvent(new Event('change')); })()"
    )
    assert visible_rows(page) == ["CP-2"]
    page.evaluate(
        "(() => { const s = document.getElementById('f-suite');"
        " s.value = ''; s.dispatchEvent(new Event('change')); })()"
    )
    page.click("#f-device")
    page.send("Input.insertText", {"text": "ev-a"})
    assert visible_rows(page) == ["ev-a"]

    # follow the failing cell of ev-a (VP-14) to its detail page
    page.click("#matrix-vehicles-at-CP-1 td.cell[data-verdict='FAIL'][data-device='ev-a'] a")
    browser.wait_event("Page.loadEventFired", session=page.session)
    assert page.evaluate("location.pathname").split("/")[-2:-1] == ["cases"]
    detail = page.evaluate(
        "({verdict: document.getElementById('verdict').dataset.verdict,"
        " expected: document.querySelector('.check[data-verdict=FAIL] .expected').textContent,"
        " actual: document.querySelector('.check[data-verdict=FAIL] .actual').textContent,"
        " lines: document.querySelectorAll('svg.plot polyline').length,"
        " plotWidth: document.querySelector('svg.plot').getBoundingClientRect().width,"
        " cited: Array.from(document.querySelectorAll('tr.cited')).map(r => r.id)})"
    )
    assert detail["verdict"] == "FAIL"
    assert detail["expected"] == "<= 6 A within 15 s"
    assert detail["actual"] == "16 A after 15 s"
    assert detail["lines"] >= 7
    assert detail["plotWidth"] > 400
    assert detail["cited"] == ["frame-0", "frame-6"]
    assert page.console_errors() == []
    page.screenshot(artifacts / "report-case.png", full_page=True)
