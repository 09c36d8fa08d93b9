"""Booking panels for pages of lower apps (docs/architecture.md, "Layers").

The coach's profile page (coaches), the participant home and the coach workspace
(engagements) may not import scheduling; their templates `{% load scheduling_tags %}`
and place these panels, and each tag runs the queries its panel needs.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from coaches.models import CoachProfile
from engagements.models import Engagement, Outcome
from scheduling.selectors import (
    assignable_engagements,
    coach_sessions_to_confirm,
    coach_upcoming_sessions,
    engagement_upcoming_sessions,
    next_session,
    unmatched_bookings_page,
)
from scheduling.services import booking_endpoint_of
from scheduling.times import coach_time_zone, participant_time_zone

register = template.Library()


@register.inclusion_tag("scheduling/_endpoint_panel.html", takes_context=True)
def booking_endpoint_panel(context: template.Context, coach: CoachProfile) -> dict[str, Any]:
    """The two webhook URLs and the signing secret to paste into Calendly or Cal.com."""
    endpoint = booking_endpoint_of(coach)

    def url(name: str) -> str:
        return settings.SITE_URL + reverse(name, kwargs={"token": endpoint.token})

    return {
        "csrf_token": context.get("csrf_token"),
        "endpoint": endpoint,
        "calendly_url": url("scheduling:calendly_hook"),
        "calcom_url": url("scheduling:calcom_hook"),
    }


@register.inclusion_tag("scheduling/_next_session.html")
def next_session_panel(engagement: Engagement) -> dict[str, Any]:
    """The participant's next booked session, on their organization's clock (one query)."""
    session = next_session(engagement=engagement, now=timezone.now())
    if session is None or session.engagement is None:
        return {"session": None}
    return {"session": session, "time_zone": participant_time_zone(session.engagement)}


@register.inclusion_tag("scheduling/_coach_sessions.html", takes_context=True)
def coach_sessions_panel(context: template.Context, coach: CoachProfile) -> dict[str, Any]:
    """Sessions to confirm, then upcoming ones, on the coach's clock (two queries)."""
    now = timezone.now()
    return {
        "csrf_token": context.get("csrf_token"),
        "to_confirm": coach_sessions_to_confirm(coach=coach, now=now),
        "upcoming": coach_upcoming_sessions(coach=coach, now=now),
        "time_zone": coach_time_zone(coach),
        "outcomes": Outcome.choices,
    }


@register.inclusion_tag("scheduling/_engagement_sessions.html")
def engagement_sessions_panel(engagement: Engagement) -> dict[str, Any]:
    """Staff: the engagement's bookings that have not ended, on its organization's clock
    (one query; the clock comes with the bookings)."""
    sessions = engagement_upcoming_sessions(engagement=engagement, now=timezone.now())
    first = sessions[0].engagement if sessions else None
    return {
        "sessions": sessions,
        "time_zone": participant_time_zone(first) if first is not None else None,
    }


@register.inclusion_tag("scheduling/_unmatched.html", takes_context=True)
def unmatched_bookings_panel(context: template.Context) -> dict[str, Any]:
    """Staff: bookings that matched no engagement, with assign and dismiss (two queries,
    none when there are none: which ones, and how many, are cached)."""
    request = context.get("request")
    number = request.GET.get("bookings_page") if request is not None else None
    page = unmatched_bookings_page(number)
    coach_ids = {booking.coach_id for booking in page.object_list}
    choices = assignable_engagements(coach_ids) if coach_ids else {}
    rows = [(booking, choices.get(booking.coach_id, [])) for booking in page.object_list]
    return {"csrf_token": context.get("csrf_token"), "page": page, "rows": rows}
