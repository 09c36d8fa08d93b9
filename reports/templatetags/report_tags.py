"""Tags of the program reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import dateformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from reports.chart import ChartBar
from reports.selectors import CoachLine, half_up

register = template.Library()

ROW = (
    '<tr><th scope="row" class="card-title"><a href="{}">{}</a></th>'
    '<td data-label="Organization">{}</td><td data-label="Dates">{} to {}</td>'
    '<td class="num" data-label="Participants">{}</td>'
    '<td class="num" data-label="Average rating">{}</td>'
    '<td class="num" data-label="Would recommend">{}</td></tr>'
)


@register.simple_tag
def program_rows(programs: Iterable[Any]) -> SafeString:
    """The staff list's rows, one per program, written in one pass: every program is
    listed, and filters and {% url %} on each cell cost more than the rest of the page
    (make bench). Every value is escaped, as in a template; numbers and dates are
    written as intcomma, floatformat and the date filter write them."""
    blank = UUID(int=0)
    link = reverse("reports:staff_program_report", kwargs={"public_id": blank})
    return format_html_join(
        "\n",
        ROW,
        (
            (
                link.replace(str(blank), str(program.public_id)),
                program.name,
                program.organization.name,
                dateformat.format(program.starts_on, "j M Y"),
                dateformat.format(program.ends_on, "j M Y"),
                f"{program.participants:,}",
                _average(program.rating_avg),
                _average(program.survey_avg),
            )
            for program in programs
        ),
    )


def _average(value: float | None) -> str:
    return "–" if value is None else half_up(value, 1)


COACH_ROW = (
    '<tr><th scope="row" class="card-title">{}</th>'
    '<td class="num" data-label="Active / capacity">{}</td>'
    '<td class="num" data-label="Utilisation">{}</td>'
    '<td class="num" data-label="In this program">{}</td>'
    '<td class="num" data-label="Average rating">{}</td></tr>'
)


@register.simple_tag
def coach_rows(coaches: Iterable[CoachLine]) -> SafeString:
    """The staff report's coach table rows (the whole pool), written in one pass."""
    return format_html_join(
        "\n",
        COACH_ROW,
        (
            (c.name, c.load_text, c.utilisation_text, c.in_program_text, c.rating_text)
            for c in coaches
        ),
    )


@register.simple_tag
def survey_text_items(texts: Iterable[tuple[date, int, str]]) -> SafeString:
    """The closing-survey texts staff read (up to 50), written in one pass, each text's
    line breaks kept as the linebreaksbr filter keeps them."""
    return format_html_join(
        "\n",
        '<li class="card"><p>{}</p><p class="muted">{} · would recommend {}/10</p></li>',
        (
            (linebreaksbr(text, autoescape=True), dateformat.format(answered, "j M Y"), score)
            for answered, score, text in texts
        ),
    )


CHART_BAR = (
    '\n    <rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="#1f5f8b">'
    "<title>{}</title></rect>\n    \n    {}\n    "
)
CHART_LABEL = '<text x="{}" y="{}" font-size="11" fill="#4f5869">{}</text>'


@register.simple_tag
def chart_bars(bars: Iterable[ChartBar], label_y: int) -> SafeString:
    """The weekly chart's bars and their date labels (up to a year of weeks), written
    in one pass, as reports/_chart.html wrote them bar by bar."""
    return format_html_join(
        "",
        CHART_BAR,
        (
            (
                bar.x,
                bar.y,
                bar.width,
                bar.height,
                bar.title,
                format_html(CHART_LABEL, bar.x, label_y, bar.axis_label) if bar.label else "",
            )
            for bar in bars
        ),
    )
