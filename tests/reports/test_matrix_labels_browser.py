"""The compact vehicles × tests matrix in headless Chromium: its group labels (suite and
category) never break inside a word, and it still fits 1 400 px.

The columns are the vehicle programme's real cases at one station (OCPP 2.0.1, the widest:
VP-01…VP-13 and VP-15…VP-24), with the library's categories, so narrow one-column groups
such as ``offered`` (VP-13) appear as they do in a full run, and the rows carry the longest
labels of the synthetic fleet; a second station ran VP-14 alone (a matrix of one column, as
at a 2.1 station). A break after a hyphen ("vehicle-" / "programme") is a break between
words.
"""

from __future__ import annotations

from pathlib import Path

from harness.results import Verdict
from reports import ReportFormat, write_reports
from tests.scenarios.library import SCENARIOS

from .builders import CP1, CP2, ev, result, store_run
from .cdp import Browser

WIDTH_PX = 1400
VEHICLES = (
    ev("ev-a", 50.0, label="Synthetic BEV 3ph 11 kW bidirectional #1"),
    ev("ev-b", 30.0, label="Synthetic BEV 3ph 11 kW ISO 15118 #1"),
    ev("ev-c", 20.0, label="Synthetic PHEV 1ph 3.7 kW #1"),
)

BROKEN_WORDS = """
Array.from(document.querySelectorAll('table.matrix.compact thead th.group')).flatMap(th => {
  const out = [];
  for (const node of th.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE) continue;
    for (const m of node.textContent.matchAll(/[^\\s-]+-?/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      // a word set on one line is one box; a word broken over lines is several
      if (range.getClientRects().length > 1) out.push(m[0]);
    }
  }
  return out;
})
"""


def _programme_run(root: Path) -> Path:
    from harness.scenario import load_cases

    cases = load_cases([SCENARIOS / "vehicle-programme-201"])
    assert len(cases) == 23
    (alone,) = [c for c in load_cases([SCENARIOS / "vehicle-programme"]) if c.id == "VP-14"]
    assert any(c.category == "offered" for c in cases)  # the label that broke ("offere d")
    results = [
        result(
            case.id,
            (CP1, vehicle),
            Verdict.PASS if n % 5 else Verdict.NOT_APPLICABLE,
            suite=case.suite,
            category=case.category,
        )
        for n, vehicle in enumerate(VEHICLES)
        for case in cases
    ]
    results += [
        result(alone.id, (CP2, v), Verdict.PASS, suite=alone.suite, category=alone.category)
        for v in VEHICLES
    ]
    return store_run(root / "runs", results, devices=(CP1, CP2, *VEHICLES))


def test_group_labels_of_the_compact_matrix_never_break_inside_a_word(
    browser: Browser, tmp_path: Path
) -> None:
    out = write_reports(_programme_run(tmp_path), tmp_path / "out", [ReportFormat.HTML])
    page = browser.new_page(width=WIDTH_PX, height=1000)
    page.navigate(out[ReportFormat.HTML].as_uri())
    assert page.console_errors() == []
    labels = page.evaluate(
        "Array.from(document.querySelectorAll('table.matrix.compact thead th.group'))"
        ".map(th => th.textContent.trim())"
    )
    assert "offered" in labels
    assert page.evaluate(BROKEN_WORDS) == []
    # and the matrix still fits the page: no horizontal scrolling
    fits = page.evaluate(
        "Array.from(document.querySelectorAll('table.matrix.compact')).map(t => ["
        " t.getBoundingClientRect().right,"
        " t.parentElement.scrollWidth > t.parentElement.clientWidth])"
    )
    assert fits
    for right, scrolls in fits:
        assert right <= WIDTH_PX
        assert not scrolls
