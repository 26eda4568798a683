"""Hand-made SVG plots of a case's measurement series (no browser, no plotting library).

One panel per unit: **current** (the limit when it is in A, the current offered, the current
measured per phase, and exported current per phase drawn *below zero* in other colours) and
**power** (the limit when it is in W, the 2.1 setpoint — negative when discharging —, import
power, and export power drawn *below zero*).
Each panel has axes with ticks and units, and a legend. The limit is drawn as a step line
(it holds until the next sample; a ``None`` sample means "no limit" and leaves a gap). All
text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from markupsafe import Markup, escape

from reports.load import PlotSeries

__all__ = ["nice_ticks", "render_plot"]

WIDTH = 860
PANEL_HEIGHT = 230
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 70
_MAX_POINTS = 2 * (WIDTH - LEFT - RIGHT)
LEGEND_ROW = 16
"""Height of a legend row; a legend wider than the plot wraps to a second row (the space
below a panel holds two)."""

# (colour, dash pattern, legend label); the phases differ in dash too, so that phases drawing
# the same current stay visible on top of each other.
_STYLE = {
    "limit": ("#d62728", "6 3", "limit set"),
    "setpoint": ("#7f7f7f", "4 2", "setpoint set"),
    "current_offered": ("#ff7f0e", "2 2", "current offered"),
    "current_import.L1": ("#1f77b4", "", "measured L1"),
    "current_import.L2": ("#2ca02c", "7 4", "measured L2"),
    "current_import.L3": ("#9467bd", "2 3", "measured L3"),
    "current_import": ("#1f77b4", "", "measured"),
    # export (vehicle-to-grid) in warm colours, drawn below zero, so that it never reads as
    # import even where a phase's line crosses another's
    "current_export.L1": ("#d4a017", "", "export L1 (below 0)"),
    "current_export.L2": ("#8c564b", "7 4", "export L2 (below 0)"),
    "current_export.L3": ("#e377c2", "2 3", "export L3 (below 0)"),
    "current_export": ("#d4a017", "", "export (below 0)"),
    "power_import": ("#1f77b4", "", "import power"),
    "power_export": ("#17becf", "", "export power (shown below 0)"),
}


def nice_ticks(low: float, high: float, *, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (about ``count`` of them)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("tick range must be finite")
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step)
    digits = max(0, 2 - math.floor(math.log10(step)))  # enough decimals to keep steps exact
    ticks = [round(i * step, digits) for i in range(first, max(last, first + 1) + 1)]
    return ticks


def _time_unit(span_s: float) -> tuple[str, float]:
    if span_s <= 600:
        return "s", 1.0
    if span_s <= 4 * 3600:
        return "min", 60.0
    return "h", 3600.0


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class _Line:
    key: str
    times: Sequence[float]
    values: Sequence[float | None]
    step: bool


def _decimate(
    times: Sequence[float], values: Sequence[float | None]
) -> tuple[Sequence[float], Sequence[float | None]]:
    """Keep at most about ``_MAX_POINTS`` points (min and max per bucket keep the shape)."""
    n = len(times)
    if n <= _MAX_POINTS:
        return times, values
    buckets = _MAX_POINTS // 2
    out_t: list[float] = []
    out_v: list[float | None] = []
    size = n / buckets
    for b in range(buckets):
        lo, hi = int(b * size), int((b + 1) * size)
        chunk = [(values[i], i) for i in range(lo, hi) if values[i] is not None]
        if not chunk:
            out_t.append(times[lo])
            out_v.append(None)
            continue
        low_i = min(chunk, key=lambda p: p[0] or 0.0)[1]
        high_i = max(chunk, key=lambda p: p[0] or 0.0)[1]
        for i in sorted({low_i, high_i}):
            out_t.append(times[i])
            out_v.append(values[i])
    return out_t, out_v


def _step_segments(
    times: Sequence[float],
    values: Sequence[float | None],
    step: bool,
    xpos: Callable[[float], float],
    ypos: Callable[[float], float],
    x_end: float,
) -> list[list[str]]:
    """Polyline point lists; a ``None`` value breaks the line. A step line holds each value
    until the next sample (only the points where it changes are needed) and to ``x_end``."""
    segments: list[list[str]] = [[]]
    prev: float | None = None
    prev_y = 0.0
    for t, v in zip(times, values, strict=True):
        if v is None:
            if segments[-1]:
                segments.append([])
            prev = None
            continue
        if step and prev is not None and v == prev:
            continue
        x = xpos(t)
        y = ypos(v)
        if step and prev is not None:
            segments[-1].append(f"{x:.1f},{prev_y:.1f}")
        segments[-1].append(f"{x:.1f},{y:.1f}")
        prev, prev_y = v, y
    if step and prev is not None and segments[-1]:
        segments[-1].append(f"{x_end:.1f},{prev_y:.1f}")
    return segments


def _panel(
    lines: Sequence[_Line],
    *,
    y_unit: str,
    y_label: str,
    t_min: float,
    t_max: float,
    top: float,
) -> list[str]:
    t_unit, t_div = _time_unit(t_max - t_min)
    x_ticks = nice_ticks(t_min / t_div, t_max / t_div)
    x_lo, x_hi = x_ticks[0] * t_div, x_ticks[-1] * t_div
    present = [v for line in lines for v in line.values if v is not None]
    y_lo = min([0.0, *present])
    y_hi = max([0.0, *present])
    y_ticks = nice_ticks(y_lo, y_hi if y_hi > y_lo else y_lo + 1)
    y_min, y_max = y_ticks[0], y_ticks[-1]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = PANEL_HEIGHT - BOTTOM
    x_scale = plot_w / (x_hi - x_lo)
    x0 = LEFT - x_lo * x_scale  # x = x0 + t * x_scale
    y_scale = plot_h / (y_max - y_min)
    bottom = top + plot_h

    def ypos(v: float) -> float:
        return bottom - (v - y_min) * y_scale

    out = [
        f'<g class="panel" data-unit="{escape(y_unit)}">',
        f'<rect x="{LEFT}" y="{top:.1f}" width="{plot_w}" height="{plot_h}" class="frame"/>',
    ]
    for tick in x_ticks:
        x = x0 + tick * t_div * x_scale
        out.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" class="grid"/>'
        )
        tick_text = escape(_fmt(tick))
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 14:.1f}" text-anchor="middle">{tick_text}</text>'
        )
    for tick in y_ticks:
        y = ypos(tick)
        cls = "zero" if tick == 0 else "grid"
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" class="{cls}"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(tick))}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{bottom + 30:.1f}" text-anchor="middle" '
        f'class="axis-label">time since case start ({escape(t_unit)})</text>'
    )
    out.append(
        f'<text x="16" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="axis-label" '
        f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">'
        f"{escape(y_label)} ({escape(y_unit)})</text>"
    )
    x_text: dict[int, list[str]] = {}  # the x coordinates of a time axis, formatted once
    for line in lines:
        colour, dash, _ = _STYLE.get(line.key, ("#444444", "", line.key))
        times, values = _decimate(line.times, line.values)
        if line.step or None in values:
            segments = _step_segments(
                times, values, line.step, lambda t: x0 + t * x_scale, ypos, x0 + t_max * x_scale
            )
        else:
            xs = x_text.get(id(times))
            if xs is None:
                xs = x_text[id(times)] = [f"{x0 + t * x_scale:.1f}" for t in times]
            base = bottom + y_min * y_scale  # y = base - v * y_scale
            numbers = cast(Sequence[float], values)  # no None on this path
            segments = [[f"{x},{base - v * y_scale:.1f}" for x, v in zip(xs, numbers, strict=True)]]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for points in segments:
            if points:
                out.append(
                    f'<polyline class="series" data-series="{escape(line.key)}" fill="none" '
                    f'stroke="{colour}" stroke-width="1.6"{dash_attr} points="{" ".join(points)}"/>'
                )
    # legend
    x = float(LEFT)
    y = bottom + 50
    for line in lines:
        colour, dash, label = _STYLE.get(line.key, ("#444444", "", line.key))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if x > LEFT and x + 27 + 7 * len(label) > WIDTH - RIGHT:  # wrap to a second row
            x, y = float(LEFT), y + LEGEND_ROW
        out.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 22:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )
        out.append(f'<text x="{x + 27:.1f}" y="{y:.1f}" class="legend">{escape(label)}</text>')
        x += 40 + 7 * len(label)
    out.append("</g>")
    return out


def _below_zero(values: Sequence[float | None]) -> tuple[float | None, ...]:
    """Export values (≥ 0 by convention; a meter may also sign them) drawn below zero."""
    return tuple(None if v is None else -abs(v) for v in values)


def _clip(s: PlotSeries, start_s: float, end_s: float) -> PlotSeries:
    """``s`` within ``[start_s, end_s]``, with the last sample before the window (a step
    line's value at the window's start) moved to its start."""
    keep = [i for i, t in enumerate(s.times_s) if start_s <= t <= end_s]
    before = [i for i, t in enumerate(s.times_s) if t < start_s][-1:]
    times = [start_s for _ in before] + [s.times_s[i] for i in keep]
    values = [s.values[i] for i in before] + [s.values[i] for i in keep]
    return PlotSeries(s.name, s.quantity, s.unit, s.phase, tuple(times), tuple(values))


def render_plot(
    series: Sequence[PlotSeries],
    *,
    title: str,
    window_s: tuple[float, float] | None = None,
) -> Markup:
    """An ``<svg>`` element plotting ``series`` (one panel per unit); empty when there is
    nothing to plot. ``title`` becomes the SVG's accessible title. ``window_s``
    (``(start, end)`` in seconds of the series' time axis) zooms in on that window, e.g. the
    minute in which a check failed within a case of hours."""
    if window_s is not None:
        # widen the window to round ticks, so that the axis starts and ends on one
        _, per = _time_unit(window_s[1] - window_s[0])
        ticks = nice_ticks(window_s[0] / per, window_s[1] / per)
        window_s = (ticks[0] * per, ticks[-1] * per)
        series = [_clip(s, *window_s) for s in series]
    current: list[_Line] = []
    power: list[_Line] = []
    for s in series:
        if not s.times_s:
            continue
        if s.quantity == "limit":
            target = current if s.unit == "A" else power
            target.append(_Line("limit", s.times_s, s.values, step=True))
        elif s.quantity in ("current_offered", "current_import"):
            current.append(_Line(s.name, s.times_s, s.values, step=False))
        elif s.quantity == "power_import":
            power.append(_Line(s.name, s.times_s, s.values, step=False))
        elif s.quantity == "setpoint":  # signed: a discharge setpoint lies below zero
            power.append(_Line("setpoint", s.times_s, s.values, step=True))
        elif s.quantity == "power_export":
            power.append(_Line(s.name, s.times_s, _below_zero(s.values), step=False))
        elif s.quantity == "current_export":
            current.append(_Line(s.name, s.times_s, _below_zero(s.values), step=False))
    panels = [
        (lines, unit, label)
        for lines, unit, label in (
            (current, "A", "current"),
            (power, "W", "power"),
        )
        if lines
    ]
    if not panels:
        return Markup("")
    # the axis starts at the case start, or earlier if a sample is older
    t_min = min(0.0, *(min(line.times) for lines, _, _ in panels for line in lines))
    t_max = max(
        line_max for lines, _, _ in panels for line in lines for line_max in line.times[-1:]
    )
    if window_s is not None:
        t_min, t_max = window_s
    t_max = max(t_max, t_min + 1.0)
    height = TOP + len(panels) * (PANEL_HEIGHT + TOP)
    parts = [
        f'<svg class="plot" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img">',
        f"<title>{escape(title)}</title>",
    ]
    top = float(TOP)
    for lines, unit, label in panels:
        parts.extend(_panel(lines, y_unit=unit, y_label=label, t_min=t_min, t_max=t_max, top=top))
        top += PANEL_HEIGHT + TOP
    parts.append("</svg>")
    return Markup("\n".join(parts))
