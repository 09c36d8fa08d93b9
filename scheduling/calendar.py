"""The "Add to calendar" file: one RFC 5545 event, written by icalendar.

The times carry the participant's time zone (the organization's, scheduling/times.py)
with its VTIMEZONE, so a calendar shows the session at the right hour wherever it is
opened. The UID is the booking's, so a second download updates the same event.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from scheduling.models import ScheduledSession
from scheduling.times import participant_time_zone


def booking_ics(session: ScheduledSession) -> bytes:
    assert session.engagement is not None  # noqa: S101 - only matched bookings are offered
    tz = participant_time_zone(session.engagement)
    calendar = Calendar()
    calendar.add("prodid", "-//Coachdesk//Booked sessions//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{session.public_id}@{settings.EMAIL_MESSAGE_ID_DOMAIN}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", timezone.localtime(session.starts_at, tz))
    event.add("dtend", timezone.localtime(session.ends_at, tz))
    event.add("summary", f"Coaching session with {session.coach.user.full_name}")
    event.add("sequence", len(session.history))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
