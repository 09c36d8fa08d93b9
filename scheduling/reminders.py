"""The participant's reminder 24 hours before a booked session (docs/architecture.md,
"Bookings").

Queued when the booking arrives (or is assigned, or moved) as a task that runs at
start - 24 h; at that moment it checks again that the session is still booked for
that very start, so a cancelled or moved booking sends nothing (a move queues its
own reminder). The task queues the email like every other (accounts/emails.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.tasks import task
from django.utils import timezone

from accounts.emails import build_email, email_enqueue
from scheduling.models import LIVE_STATUSES, ScheduledSession
from scheduling.times import participant_time_zone

logger = logging.getLogger(__name__)

REMINDER_BEFORE = timedelta(hours=24)


def booking_reminder_schedule(session: ScheduledSession) -> bool:
    """Queue the reminder for the session's start, if it is live, matched and more
    than 24 hours away. Returns whether one was queued."""
    if session.status not in LIVE_STATUSES or session.engagement_id is None:
        return False
    run_after = session.starts_at - REMINDER_BEFORE
    if run_after <= timezone.now():
        return False  # booked less than a day ahead: the booking itself was the reminder
    booking_reminder_send.using(run_after=run_after).enqueue(
        public_id=str(session.public_id), starts_at=session.starts_at.isoformat()
    )
    return True


@task()
def booking_reminder_send(*, public_id: str, starts_at: str) -> bool:
    """Task: email the participant, unless the booking was cancelled or moved since."""
    session = (
        ScheduledSession.objects.select_related(
            "engagement__participant", "engagement__program__organization", "coach__user"
        )
        .filter(public_id=public_id)
        .first()
    )
    expected = datetime.fromisoformat(starts_at)
    if (
        session is None
        or session.status not in LIVE_STATUSES
        or session.starts_at != expected
        or session.engagement is None
        or session.confirmed_session_id is not None
    ):
        logger.info("booking reminder not needed: booking=%s", public_id)
        return False
    participant = session.engagement.participant
    if not participant.reminders_enabled or not participant.is_active:
        return False
    tz = participant_time_zone(session.engagement)
    message = build_email(
        template="booking_reminder",
        recipient=participant,
        context={
            "coach_name": session.coach.user.full_name,
            "starts_at": timezone.localtime(session.starts_at, tz),
            "ends_at": timezone.localtime(session.ends_at, tz),
            "time_zone": str(tz),
        },
        reminder=True,
    )
    email_enqueue(message, template="booking_reminder")
    return True
