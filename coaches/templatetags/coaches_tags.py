from __future__ import annotations

from django import template

from accounts.models import User
from coaches.models import CoachProfile

register = template.Library()


@register.filter
def initials(name: str) -> str:
    """'Ada Lovelace' -> 'AL': the avatar shown when a coach has no photo."""
    parts = [part for part in str(name).split() if part]
    if not parts:
        return "?"
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()


@register.filter
def booking_link_for(coach: CoachProfile, person: User) -> str:
    """The coach's booking link with `person`'s name and email filled in."""
    return coach.booking_link_for(person)
