"""The hand-made SVG plot: ticks, gaps for "no limit", escaping, empty input."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import render_plot
from reports.load import PlotSeries
from reports.plot import nice_ticks

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(low=finite, high=finite)
def test_ticks_cover_the_range_evenly(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= min(low, high) + 1e-9
    assert ticks[-1] >= max(low, high) - 1e-9
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    assert steps == pytest.approx([steps[0]] * len(steps), rel=1e-6)
    assert steps[0] > 0
    assert 2 <= len(ticks) <= 13


def test_ticks_reject_infinite_ranges() -> None:
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(0.0, float("inf"))


def series(name: str, quantity: str, unit: str, values: list[float | None]) -> PlotSeries:
    times = tuple(float(10 * i) for i in range(len(values)))
    return PlotSeries(name, quantity, unit, None, times, tuple(values))


def test_no_limit_leaves_a_gap_and_text_is_escaped() -> None:
    svg = render_plot(
        [
            series("limit", "limit", "A", [16.0, 16.0, None, None, 6.0, 6.0]),
            series("current_offered", "current_offered", "A", [16.0, 16, 32, 32, 6, 6]),
        ],
        title="VP-01 <ev & co>",
    )
    root = ET.fromstring(str(svg))
    assert root.findtext("title") == "VP-01 <ev & co>"
    assert "&lt;ev &amp; co&gt;" in str(svg)
    limit = [p for p in root.iter("polyline") if p.get("data-series") == "limit"]
    assert len(limit) == 2  # 16 A until "no limit", then 6 A from t = 40 s
    assert len([g for g in root.iter("g")]) == 1  # amps only: one panel


def test_nothing_to_plot_gives_nothing() -> None:
    assert str(render_plot([], title="x")) == ""
    assert str(render_plot([series("limit", "limit", "A", [])], title="x")) == ""


def test_a_power_limit_goes_to_the_power_panel() -> None:
    root = ET.fromstring(
        str(
            render_plot(
                [
                    series("limit", "limit", "W", [7400.0, 4140.0]),
                    series("power_import", "power_import", "W", [7300.0, 4100.0]),
                ],
                title="VP-11",
            )
        )
    )
    (panel,) = list(root.iter("g"))
    assert panel.get("data-unit") == "W"
    assert {p.get("data-series") for p in panel.iter("polyline")} == {"limit", "power_import"}


def _ys(line: ET.Element) -> list[float]:
    return [float(pt.split(",")[1]) for pt in line.get("points", "").split()]


def test_import_and_export_are_drawn_on_either_side_of_zero_and_told_apart() -> None:
    """A V2X session: import, then export (meter values ≥ 0 for both), in A and in W."""
    importing = [16.0, 16.0, 0.0, 0.0, 0.0, 0.0]
    exporting = [0.0, 0.0, 0.0, 5.3, 5.3, 5.3]
    svg = render_plot(
        [
            PlotSeries("current_import.L1", "current_import", "A", "L1",
                       tuple(float(10 * i) for i in range(6)), tuple(importing)),
            PlotSeries("current_export.L1", "current_export", "A", "L1",
                       tuple(float(10 * i) for i in range(6)), tuple(exporting)),
            series("power_import", "power_import", "W", [11040.0, 11040, 0, 0, 0, 0]),
            series("power_export", "power_export", "W", [0.0, 0, 0, 3680, 3680, 3680]),
            series("setpoint", "setpoint", "W", [None, None, None, -3680.0, -3680, -3680]),
        ],
        title="VP-14",
    )  # fmt: skip
    root = ET.fromstring(str(svg))
    for unit, imported, exported in (
        ("A", "current_import.L1", "current_export.L1"),
        ("W", "power_import", "power_export"),
    ):
        panel = next(g for g in root.iter("g") if g.get("data-unit") == unit)
        zero_y = float(
            next(x for x in panel.iter("line") if x.get("class") == "zero").get("y1", "")
        )
        lines = {p.get("data-series"): p for p in panel.iter("polyline")}
        up, down = _ys(lines[imported]), _ys(lines[exported])
        assert min(up) < zero_y  # import above the zero line (SVG y grows downwards)
        assert max(up) == pytest.approx(zero_y)
        assert max(down) > zero_y  # export below it
        assert min(down) == pytest.approx(zero_y)
        assert lines[imported].get("stroke") != lines[exported].get("stroke")
        if unit == "W":  # the discharge setpoint is drawn at the export, below zero
            assert min(_ys(lines["setpoint"])) > zero_y
            assert max(down) == pytest.approx(max(_ys(lines["setpoint"])))
        legend = [t.text or "" for t in panel.iter("text") if t.get("class") == "legend"]
        assert any("export" in text and "below 0" in text for text in legend)
        assert any("export" not in text for text in legend)


def test_a_long_legend_wraps_inside_the_plot() -> None:
    names = [f"current_import.L{n}" for n in (1, 2, 3)] + [
        f"current_export.L{n}" for n in (1, 2, 3)
    ]
    svg = render_plot(
        [
            PlotSeries(name, name.split(".")[0], "A", name.split(".")[1], (0.0, 10.0), (1.0, 2.0))
            for name in names
        ]
        + [series("limit", "limit", "A", [16.0, 16.0])],
        title="legend",
    )
    root = ET.fromstring(str(svg))
    width = float(root.get("width", "0"))
    legend = [t for t in root.iter("text") if t.get("class") == "legend"]
    assert len(legend) == 7
    for text in legend:  # each label starts inside and (at ~7 px a character) ends inside
        assert float(text.get("x", "0")) + 7 * len(text.text or "") <= width
    assert len({text.get("y") for text in legend}) == 2


def test_ticks_of_a_span_too_small_to_show() -> None:
    """Found by hypothesis: (0, 5e-324) made the step underflow to 0 (log10 domain error)."""
    ticks = nice_ticks(0.0, 5e-324)
    assert ticks[0] <= 0.0 < ticks[-1]
    assert len(ticks) >= 2
