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
