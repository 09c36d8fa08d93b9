"""Feedback panels for pages of lower apps (docs/architecture.md, "Layers").

The participant home and the coach workspace belong to engagements, which may
not import feedback; their templates `{% load feedback_tags %}` and place these
panels, and each tag runs its own queries (the same ones the pages ran before).
"""

from __future__ import annotations

from typing import Any

from django import template

from coaches.models import CoachProfile
from engagements.models import Engagement
from feedback.selectors import closing_survey_due, coach_feedback_summary, rateable_sessions

register = template.Library()


@register.inclusion_tag("feedback/_rating_panel.html", takes_context=True)
def session_rating_panel(context: template.Context, engagement: Engagement) -> dict[str, Any]:
    """One-click rating forms for each held session of the engagement (one query)."""
    # The forms send the participant back to the page they are on.
    return {
        "request": context.get("request"),
        "sessions": list(rateable_sessions(engagement=engagement)),
    }


RATING_SCALE = ("1", "2", "3", "4", "5")


@register.filter
def rating_scale(score: int | None) -> list[tuple[str, bool]]:
    """The 1-5 buttons of a session's rating, each with whether it is the score
    given: one filter call per session rather than two comparisons per button."""
    given = "" if score is None else str(score)
    return [(n, n == given) for n in RATING_SCALE]


@register.inclusion_tag("feedback/_closing_survey_link.html")
def closing_survey_prompt(engagement: Engagement) -> dict[str, Any]:
    """The invitation to the closing survey while it is due (at most one query)."""
    return {"engagement": engagement, "survey_due": closing_survey_due(engagement=engagement)}


@register.inclusion_tag("feedback/_coach_averages.html")
def coach_feedback_averages(coach: CoachProfile) -> dict[str, Any]:
    """The coach's own released averages and counts, never who rated (one query)."""
    return {"feedback_summary": coach_feedback_summary(coach)}
