"""The weekly chart of the program report: held sessions per week, drawn as SVG.

The geometry is computed here on the server; the template (reports/_chart.html)
only places the bars, so the page needs no script and no inline style.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import dateformat

from reports.selectors import WeekBar


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    held: int
    week: date
    label: str  # the week's date under the axis, on every few bars only

    # As the template's date filter writes them, put together once per bar.
    @property
    def title(self) -> str:
        return f"Week of {dateformat.format(self.week, 'j M Y')}: {self.held:,} held"

    @property
    def axis_label(self) -> str:
        return dateformat.format(self.week, "j M") if self.label else ""


@dataclass(frozen=True)
class ChartTick:
    y: float
    value: int


@dataclass(frozen=True)
class WeeklyChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    baseline: float
    bars: list[ChartBar]
    ticks: list[ChartTick]
    total: int
    peak: int


def weekly_chart(weeks: list[WeekBar], *, width: int = 640, height: int = 200) -> WeeklyChart:
    """Geometry of a bar chart of held sessions per week, in SVG user units."""
    left, right, top, bottom = 40, width - 8, 12, height - 28
    plot_w, plot_h = right - left, bottom - top
    peak = max((w.held for w in weeks), default=0)
    scale_max = _nice_ceiling(peak)
    step = plot_w / max(len(weeks), 1)
    gap = min(step * 0.25, 6)
    every = max(1, -(-len(weeks) // 8))  # at most about 8 date labels
    bars = []
    for i, week in enumerate(weeks):
        h = plot_h * week.held / scale_max
        bars.append(
            ChartBar(
                x=round(left + i * step + gap / 2, 2),
                y=round(bottom - h, 2),
                width=round(step - gap, 2),
                height=round(h, 2),
                held=week.held,
                week=week.week,
                label=week.week.strftime("%d %b") if i % every == 0 else "",
            )
        )
    ticks = [
        ChartTick(y=round(bottom - plot_h * v / scale_max, 2), value=v)
        for v in (0, scale_max // 2, scale_max)
    ]
    return WeeklyChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        baseline=bottom,
        bars=bars,
        ticks=ticks,
        total=sum(w.held for w in weeks),
        peak=peak,
    )


def _nice_ceiling(n: int) -> int:
    """The smallest of 2, 4, 10, 20, 40, 100, ... at or above n (even, so n/2 is whole)."""
    nice = 2
    while nice < n:
        nice = nice * 5 // 2 if str(nice).startswith("4") else nice * 2
    return nice
