"""The HTML report: escaping, links, self-containment, matrix cells, detail pages, plots."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness.results import RunStore
from reports import ReportError, ReportFormat, load_report, render_html

from .conftest import EV_A, SCRIPT


class Elements(HTMLParser):
    """Start tags with their attributes, and the text, of one HTML file."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}

    def with_class(self, cls: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if cls in a.get("class", "").split()]


def page_of(out: Path, key: str) -> str:
    return (out / "cases" / f"{key}.html").read_text(encoding="utf-8")


def key_of(sample_run: Path, case_id: str, device_id: str, station: str = "CP-1") -> str:
    for r in RunStore.open(sample_run).results(with_series=False):
        ids = {d.id for d in r.info.devices}
        if r.info.case_id == case_id and ids >= {device_id, station}:
            return r.key
    raise AssertionError(f"no {case_id} for {device_id}")


def assert_points_inside_their_panel(svg: ET.Element) -> int:
    """Every plotted point lies inside its panel's frame; returns how many were checked."""
    checked = 0
    for panel in svg.iter("g"):
        rect = panel.find("rect")
        assert rect is not None
        x0, y0 = float(rect.get("x", "nan")), float(rect.get("y", "nan"))
        x1 = x0 + float(rect.get("width", "nan"))
        y1 = y0 + float(rect.get("height", "nan"))
        for line in panel.iter("polyline"):
            for point in line.get("points", "").split():
                x, y = (float(v) for v in point.split(","))
                assert x0 - 0.1 <= x <= x1 + 0.1, (line.get("data-series"), x, x0, x1)
                assert y0 - 0.1 <= y <= y1 + 0.1, (line.get("data-series"), y, y0, y1)
                checked += 1
    return checked


def test_raw_frames_and_labels_are_escaped(
    rendered: dict[ReportFormat, Path], sample_run: Path
) -> None:
    out = rendered[ReportFormat.HTML].parent
    text = page_of(out, key_of(sample_run, "VP-01", "ev-a"))
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    parsed = Elements(text)
    assert SCRIPT in "".join(parsed.text)  # shown as text, exactly
    assert not [t for t, _ in parsed.tags if t == "script"]
    index = rendered[ReportFormat.HTML].read_text(encoding="utf-8")
    assert "Model ev-c &lt;C&gt; &amp; co" in index
    assert index.count("<script>") == 1  # the report's own inline script, nothing else


def test_every_link_resolves_to_an_existing_file_and_anchor(
    rendered: dict[ReportFormat, Path],
) -> None:
    out = rendered[ReportFormat.HTML].parent
    files = [out / "index.html", *sorted((out / "cases").glob("*.html"))]
    assert len(files) == 12  # the index and one page per case (11 results)
    checked = 0
    for path in files:
        parsed = Elements(path.read_text(encoding="utf-8"))
        for _, attrs in parsed.tags:
            href = attrs.get("href")
            if href is None:
                continue
            parts = urlsplit(href)
            assert not parts.scheme, f"{path.name}: absolute link {href}"
            target = (path.parent / parts.path).resolve() if parts.path else path
            assert target.is_file(), f"{path.name}: {href} does not exist"
            if parts.fragment:
                ids = Elements(target.read_text(encoding="utf-8")).ids()
                assert parts.fragment in ids, f"{path.name}: no #{parts.fragment} in {target}"
            checked += 1
    assert checked > 20


def test_no_external_resources_anywhere(rendered: dict[ReportFormat, Path]) -> None:
    out = rendered[ReportFormat.HTML].parent
    generated = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in generated} >= {
        "index.html",
        "junit.xml",
        "report.json",
        "summary.md",
        "matrix.csv",
    }
    for path in generated:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text, path
        assert "https://" not in text, path
        if path.suffix == ".html":
            tags = Elements(text).tags
            assert not [a for _, a in tags if "src" in a], f"{path}: an element loads a src"
            assert not [t for t, _ in tags if t in ("iframe", "img", "object")], path
            # the one link: the report's own stylesheet, next to the pages
            links = [dict(a) for t, a in tags if t == "link"]
            assert len(links) == 1, path
            assert links[0]["rel"] == "stylesheet"
            assert (path.parent / str(links[0]["href"])).resolve() == out / "assets" / "style.css"
            assert "@import" not in text
            assert "url(" not in text


def test_matrix_cells_carry_verdict_classes_and_filter_attributes(
    rendered: dict[ReportFormat, Path],
) -> None:
    parsed = Elements(rendered[ReportFormat.HTML].read_text(encoding="utf-8"))
    cells = parsed.with_class("cell")
    # CP-1: 3 vehicles x 2 cases; CP-2: 2 vehicles x 1 case; stations: 2 x 2 (1 not run)
    assert len(cells) == 6 + 2 + 4
    for cell in cells:
        assert f"v-{cell['data-verdict']}" in cell["class"].split()
        assert cell["data-suite"] in ("vehicle-programme", "oca-2.0.1")
        assert cell["data-device"]
    verdicts = sorted(c["data-verdict"] for c in cells)
    assert verdicts == sorted(
        [
            "PASS",
            "FAIL",
            "FAIL",
            "NOT_APPLICABLE",
            "NON_STRICT",
            "PASS",
            "PASS",
            "INCONCLUSIVE",
            "PASS",
            "ERROR",
            "NOT_APPLICABLE",
            "NOT_RUN",
        ]
    )
    rows = [a for t, a in parsed.tags if t == "tr" and "row" in a.get("class", "").split()]
    assert [r["data-device"] for r in rows] == [
        "ev-a",
        "ev-b",
        "ev-c",
        "ev-a",
        "ev-b",
        "CP-1",
        "CP-2",
    ]
    text = "".join(parsed.text)
    assert (
        "vehicles covering 10 % of the tested market share passed (1 of 3 models, 33.3 %)" in text
    )


def test_detail_page_has_requirement_expected_actual_steps_frames_and_plot(
    rendered: dict[ReportFormat, Path], sample_run: Path
) -> None:
    out = rendered[ReportFormat.HTML].parent
    text = page_of(out, key_of(sample_run, "VP-01", "ev-b"))
    parsed = Elements(text)
    plain = " ".join(" ".join(parsed.text).split())
    assert "K01.FR.31 (MUST) apply the limit" in plain
    assert "Expected <= 6 A within 15 s" in plain
    assert "Actual 16 A after 15 s" in plain
    assert "SetChargingProfile 6 A" in plain  # the step log
    back = [a["href"] for t, a in parsed.tags if t == "a" and a.get("id") == "back"]
    assert back == ["../index.html#vehicles-at-CP-1"]
    cited = [a for t, a in parsed.tags if t == "tr" and "cited" in a.get("class", "")]
    assert [a["id"] for a in cited] == ["frame-2"]
    assert [a["data-verdict"] for a in parsed.with_class("badge") if "id" in a] == ["FAIL"]
    svg = re.search(r"<div id=\"plot\"><svg class=\"plot\".*?</svg>", text, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0).removeprefix('<div id="plot">'))
    names = {p.get("data-series") for p in root.iter("polyline")}
    assert names == {
        "limit",
        "current_offered",
        "current_import.L1",
        "current_import.L2",
        "current_import.L3",
        "power_import",
    }
    assert assert_points_inside_their_panel(root) > 6 * 61 / 2
    labels = {t.text for t in root.iter("text")}
    assert {
        "current (A)",
        "power (W)",
        "time since case start (s)",
        "limit set",
        "measured L1",
    } <= labels


def test_export_power_is_drawn_below_zero(
    rendered: dict[ReportFormat, Path], sample_run: Path
) -> None:
    out = rendered[ReportFormat.HTML].parent
    text = page_of(out, key_of(sample_run, "VP-14", "ev-a"))
    svg = re.search(r"<div id=\"plot\"><svg class=\"plot\".*?</svg>", text, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0).removeprefix('<div id="plot">'))
    # this case started 30 minutes after its samples: the axis must reach back to them
    assert assert_points_inside_their_panel(root) > 6 * 61 / 2
    power = next(g for g in root.iter("g") if g.get("data-unit") == "W")
    zero = next(line for line in power.iter("line") if line.get("class") == "zero")
    zero_y = float(zero.get("y1", "nan"))
    export = next(p for p in power.iter("polyline") if p.get("data-series") == "power_export")
    ys = [float(pt.split(",")[1]) for pt in export.get("points", "").split()]
    assert ys
    assert all(y > zero_y for y in ys)  # SVG y grows downwards: below the zero line
    imported = next(p for p in power.iter("polyline") if p.get("data-series") == "power_import")
    assert all(float(pt.split(",")[1]) < zero_y for pt in imported.get("points", "").split())


def test_case_without_series_has_no_plot_and_not_applicable_page_exists(
    rendered: dict[ReportFormat, Path], sample_run: Path
) -> None:
    out = rendered[ReportFormat.HTML].parent
    assert "<svg" not in page_of(out, key_of(sample_run, "VP-01", "ev-c"))
    na = page_of(out, key_of(sample_run, "VP-14", "ev-b"))
    assert 'data-verdict="NOT_APPLICABLE"' in na
    assert "No frames recorded." in na


def test_report_model_counts_match_the_html(sample_run: Path) -> None:
    report = load_report(sample_run)
    assert report.summary.total == 11
    assert [m.id for m in report.matrices] == ["vehicles-at-CP-1", "vehicles-at-CP-2", "stations"]
    assert EV_A.attributes["market_share"] == 60.0


def test_pages_are_the_same_rendered_in_one_or_several_processes(
    sample_run: Path, tmp_path: Path
) -> None:
    report = load_report(sample_run)
    reader = RunStore.open(sample_run)
    render_html(report, reader, tmp_path / "one", workers=1)
    render_html(report, reader, tmp_path / "three", workers=3)
    one = {
        p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*.html")
    }
    three = {
        p.relative_to(tmp_path / "three"): p.read_bytes()
        for p in (tmp_path / "three").rglob("*.html")
    }
    assert len(one) == 12
    assert one == three


@pytest.mark.parametrize("workers", [1, 2])
def test_a_corrupt_trace_is_a_clear_error(sample_run: Path, tmp_path: Path, workers: int) -> None:
    report = load_report(sample_run)
    victim = report.results[1].key  # rendered by the forked worker when workers == 2
    trace = sample_run / "traces" / f"{victim}.jsonl"
    lines = trace.read_text(encoding="utf-8").splitlines(keepends=True)
    trace.write_text(lines[0] + "{oops\n" + "".join(lines[1:]), encoding="utf-8")
    with pytest.raises(ReportError, match=re.escape(f"{victim}.jsonl:2: not a valid JSON line")):
        render_html(report, RunStore.open(sample_run), tmp_path / "out", workers=workers)


def test_station_by_case_summary_across_stations(rendered: dict[ReportFormat, Path]) -> None:
    text = rendered[ReportFormat.HTML].read_text(encoding="utf-8")
    table = re.search(r'<table class="across">.*?</table>', text, re.S)
    assert table is not None
    rows = [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    ]
    assert rows[0] == ["station", "VP-01", "VP-14", "all cases"]
    # CP-1, VP-14: ev-a FAIL (0.6), ev-b n/a, ev-c PASS (0.1): 1/2, by share 0.1 / 0.7
    assert rows[1][1:] == ["2/3 66.7 % · 70 %", "1/2 50 % · 14.3 %", "1/3 33.3 % · 10 %"]
    # CP-2: ev-a PASS (60), ev-b INCONCLUSIVE (30): 1/2, by share 60 / 90; VP-14 not run
    assert rows[2][1:] == ["1/2 50 % · 66.7 %", "–", "1/2 50 % · 66.7 %"]
    assert rows[2][0] == "CP-2"
    assert 'title="1 of 2 vehicles passed; 50 % by count; 66.7 % by market share"' in table.group(0)
