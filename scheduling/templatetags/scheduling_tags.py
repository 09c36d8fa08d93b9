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

from coaches.models import CoachProfile
from scheduling.services import booking_endpoint_of

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
