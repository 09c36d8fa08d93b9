"""Tags of the ops dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from nudges.selectors import FlaggedRow

register = template.Library()


@register.simple_tag
def open_flag_rows(summary: list[dict[str, Any]]) -> SafeString:
    """The open-flag summary's table rows, one per program and kind, written in one pass.

    There are programs times kinds of them (250 at 50 programs), and a template loop
    cost more than the rest of the dashboard's rendering (make bench). Every value is
    escaped, as in a template.
    """
    return format_html_join(
        "\n",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} day{}</td></tr>",
        (
            (
                row["program__name"],
                row["kind_label"],
                row["count"],
                row["longest_stuck"],
                "" if row["longest_stuck"] == 1 else "s",
            )
            for row in summary
        ),
    )


FLAGGED_ROW = (
    '<tr><td class="card-actions"><input type="checkbox" name="engagement" value="{}" '
    'id="pick-{}" aria-label="Select {}"></td>'
    '<td class="card-title"><a href="{}">{}</a></td>'
    '<td data-label="Program">{}</td><td data-label="Coach">{}</td>'
    '<td data-label="Status">{}</td><td data-label="Sessions">{}</td>'
    '<td data-label="Stuck">{}</td></tr>'
)
NO_COACH = mark_safe('<span class="muted">none yet</span>')  # noqa: S308 - a constant


@register.simple_tag
def flagged_rows(rows: Iterable[FlaggedRow]) -> SafeString:
    """A page of flagged engagements (50 rows), written in one pass, escaped as in a
    template."""
    return format_html_join("\n", FLAGGED_ROW, (_flagged_cells(row) for row in rows))


def _flagged_cells(row: FlaggedRow) -> tuple[Any, ...]:
    engagement = row.engagement
    name = engagement.participant.full_name
    badges = format_html_join(
        "", '<span class="badge badge-warn">{}</span> ', ((badge,) for badge in row.badges)
    )
    return (
        engagement.public_id,
        engagement.public_id,
        name,
        row.url,
        name,
        engagement.program.name,
        row.coach_name if engagement.coach_id else NO_COACH,
        engagement.get_status_display(),
        row.sessions_text,
        badges,
    )


COACH_ROW = "<tr><td>{}</td><td>{} / {}{}</td><td>{}</td></tr>"
FULL = mark_safe(' <span class="badge badge-danger">Full</span>')  # noqa: S308 - a constant
PAUSED = mark_safe('<span class="muted">No (paused)</span>')  # noqa: S308 - a constant


@register.simple_tag
def coach_capacity_rows(coaches: Iterable[Any]) -> SafeString:
    """A page of coaches with their load (50 rows), written in one pass."""
    return format_html_join(
        "\n",
        COACH_ROW,
        (
            (
                coach.user.full_name,
                coach.active_count,
                coach.capacity,
                FULL if coach.is_full else "",
                "Yes" if coach.accepting_new else PAUSED,
            )
            for coach in coaches
        ),
    )
