"""The weekly chart's geometry (reports/chart.py), drawn from the report's weeks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.template import Context, Template

from reports.chart import weekly_chart
from reports.selectors import WeekBar, program_report
from tests.reports.conftest import ReportData


@pytest.mark.django_db
def test_chart_bars_scale_to_the_busiest_week(report_data: ReportData) -> None:
    chart = weekly_chart(program_report(program=report_data.program).weeks)
    heights = [bar.height for bar in chart.bars]
    assert len(heights) == 7
    assert heights[0] == 0
    # The scale tops out at 4 (the next "nice" value above 3): 3 fills 3/4.
    assert heights[2] == pytest.approx(0.75 * (chart.baseline - chart.top))
    assert [t.value for t in chart.ticks] == [0, 2, 4]
    assert (chart.total, chart.peak) == (8, 3)


def test_an_empty_chart_has_a_scale_and_no_bars() -> None:
    chart = weekly_chart([])
    assert chart.bars == []
    assert (chart.total, chart.peak) == (0, 0)
    assert [t.value for t in chart.ticks] == [0, 1, 2]


@pytest.mark.parametrize(
    ("peak", "top"), [(0, 2), (2, 2), (3, 4), (5, 10), (11, 20), (21, 40), (41, 100), (101, 200)]
)
def test_the_scale_tops_out_at_the_next_even_nice_value(peak: int, top: int) -> None:
    chart = weekly_chart([WeekBar(week=date(2026, 3, 2), held=peak)])
    assert [t.value for t in chart.ticks] == [0, top // 2, top]
    assert chart.bars[0].height == pytest.approx((chart.baseline - chart.top) * peak / top)


def test_at_most_about_eight_weeks_are_labelled() -> None:
    weeks = [WeekBar(week=date(2026, 1, 5) + timedelta(weeks=i), held=1) for i in range(20)]
    labels = [bar.label for bar in weekly_chart(weeks).bars]
    assert labels[0] == "05 Jan"
    assert sum(1 for label in labels if label) == 7  # every third week of 20


def test_bar_titles_and_labels_read_as_the_date_filters_would_write_them() -> None:
    weeks = [WeekBar(week=date(2026, 1, 5) + timedelta(weeks=n), held=n * 700) for n in range(12)]
    for bar in weekly_chart(weeks).bars:
        filters = Template(
            '{% load humanize %}Week of {{ b.week|date:"j M Y" }}: {{ b.held|intcomma }} held|'
            '{% if b.label %}{{ b.week|date:"j M" }}{% endif %}'
        ).render(Context({"b": bar}))
        assert f"{bar.title}|{bar.axis_label}" == filters


# The loop reports/_chart.html had before chart_bars wrote the bars in one pass.
OLD_BARS = Template(
    "{% with label_y=chart.height|add:-8 %}{% for bar in chart.bars %}\n"
    '    <rect class="chart-bar" x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.width }}" '
    'height="{{ bar.height }}" fill="#1f5f8b"><title>{{ bar.title }}</title></rect>\n'
    '    {# The report\'s date style ("7 Sep"), on the bars the chart labels. #}\n'
    '    {% if bar.label %}<text x="{{ bar.x }}" y="{{ label_y }}" font-size="11" '
    'fill="#4f5869">{{ bar.axis_label }}</text>{% endif %}\n'
    "    {% endfor %}{% endwith %}"
)


@pytest.mark.parametrize("n_weeks", [0, 1, 7, 52])
def test_the_bars_read_as_the_template_wrote_them(n_weeks: int) -> None:
    held = [0, 3, 1250, 17, 999, 1, 40]
    weeks = [
        WeekBar(week=date(2025, 12, 29) + timedelta(weeks=n), held=held[n % len(held)] * (n + 1))
        for n in range(n_weeks)
    ]
    chart = weekly_chart(weeks, width=613, height=197)  # uneven: long fractions
    new = Template("{% load report_tags %}{% chart_bars chart.bars chart.height|add:-8 %}")
    written = new.render(Context({"chart": chart}))
    assert written == OLD_BARS.render(Context({"chart": chart}))
    assert written.count("<rect") == n_weeks
