"""Tags of the ops dashboard."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

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
