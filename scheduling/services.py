"""Writes about bookings: receiving them, rotating a coach's secrets, confirming,
assigning and dismissing (docs/architecture.md, "Bookings")."""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import User, normalize_email
from coaches.models import CoachProfile
from config.cached import changed
from config.errors import DomainError
from engagements.models import (
    ACTIVE_STATUSES,
    MAX_SESSION_MINUTES,
    MIN_SESSION_MINUTES,
    CoachingSession,
    Engagement,
)
from engagements.services import session_log
from scheduling.models import (
    BookingEndpoint,
    BookingReference,
    ScheduledSession,
    SessionStatus,
    UnmatchedReason,
)
from scheduling.selectors import UNMATCHED_SCOPE
from scheduling.webhooks import BookingEvent

logger = logging.getLogger(__name__)


# --- The coach's endpoint ----------------------------------------------------


def booking_endpoint_of(coach: CoachProfile) -> BookingEndpoint:
    """The coach's endpoint, made on first use (a token and a secret of its own)."""
    endpoint, _ = BookingEndpoint.objects.get_or_create(coach=coach)
    return endpoint


def booking_endpoint_rotate(*, coach: CoachProfile, actor: User) -> BookingEndpoint:
    """New token and signing secret: the old URLs answer 404 from now on."""
    with transaction.atomic():
        endpoint = booking_endpoint_of(coach)
        endpoint = BookingEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        fresh = BookingEndpoint(coach=coach)
        endpoint.token, endpoint.signing_secret = fresh.token, fresh.signing_secret
        endpoint.rotated_at = timezone.now()
        endpoint.save(update_fields=["token", "signing_secret", "rotated_at"])
        audit_record(action="scheduling.endpoint_rotated", obj=coach, actor=actor)
    return endpoint


# --- Receiving ----------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    session: ScheduledSession
    duplicate: bool


def booking_match(*, coach: CoachProfile, email: str) -> tuple[Engagement | None, str]:
    """The coach's active engagement whose participant has `email`, or why there is none."""
    engagements = list(
        # Addresses are stored lower-cased: an exact match uses the unique index.
        Engagement.objects.filter(coach=coach, participant__email=normalize_email(email)).order_by(
            "-invited_at"
        )
    )
    for engagement in engagements:
        if engagement.status in ACTIVE_STATUSES:
            return engagement, ""
    if engagements:
        return None, UnmatchedReason.ENGAGEMENT_CLOSED
    return None, UnmatchedReason.NO_ENGAGEMENT


def booking_receive(*, endpoint: BookingEndpoint, event: BookingEvent) -> Received:
    """Apply one delivery: idempotent and in any order.

    The coach's endpoint row is locked first, so one coach's deliveries are applied
    one at a time. Each booking id is a BookingReference that remembers what we heard
    of it (created, cancelled, replaced by a reschedule); an event already applied
    to its reference changes nothing. The session follows the reference that no
    reschedule replaces: cancelled if that one is, rescheduled if the session has
    had more than one booking id, booked otherwise.
    """
    with transaction.atomic():
        BookingEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
        coach = endpoint.coach
        keys = [key for key in (event.reference, event.previous, event.replaced_by) if key]
        known = {
            ref.reference: ref
            for ref in BookingReference.objects.filter(
                coach=coach, provider=event.provider, reference__in=keys
            ).select_related("session")
        }
        mine = known.get(event.reference)
        if mine is not None and _already_applied(mine, event):
            return Received(session=mine.session, duplicate=True)
        # Sessions a reschedule merges away may have been unmatched ones.
        before_merge = {ref.session for ref in known.values()}
        session = _session_for(coach=coach, event=event, known=known)
        _record_references(session=session, event=event, known=known)
        before = (session.starts_at, session.status) if session.history else None
        # A new session's references are all in `known`; an older one may have more.
        refs = list(session.references.all()) if session.history else list(known.values())
        _follow_current_booking(session, refs)
        session.history = [*session.history, _history_entry(event)]
        session.save()
        if before != (session.starts_at, session.status):
            _schedule_reminder(session)
        if any(s.engagement_id is None for s in (session, *before_merge)):
            unmatched_bookings_changed()
    return Received(session=session, duplicate=False)


def _already_applied(ref: BookingReference, event: BookingEvent) -> bool:
    return ref.cancelled if event.cancelled else ref.created_seen


def _session_for(
    *, coach: CoachProfile, event: BookingEvent, known: dict[str, BookingReference]
) -> ScheduledSession:
    """The session these booking ids belong to: new, or the oldest of those they name
    (two halves of a reschedule that arrived apart are merged into it)."""
    sessions = sorted({ref.session for ref in known.values()}, key=lambda s: s.pk)
    if not sessions:
        engagement, reason = booking_match(coach=coach, email=event.email)
        return ScheduledSession.objects.create(
            coach=coach,
            engagement=engagement,
            unmatched_reason=reason,
            provider=event.provider,
            provider_booking_id=event.reference,
            attendee_email=event.email,
            attendee_name=event.attendee_name[:200],
            starts_at=event.starts_at,
            ends_at=event.ends_at,
        )
    kept, *others = sessions
    for other in others:
        BookingReference.objects.filter(session=other).update(session=kept)
        kept.history = sorted([*kept.history, *other.history], key=lambda e: e["received_at"])
        kept.confirmed_session = kept.confirmed_session or other.confirmed_session
        other.delete()
    for ref in known.values():
        ref.session = kept
    return kept


def _record_references(
    *, session: ScheduledSession, event: BookingEvent, known: dict[str, BookingReference]
) -> None:
    def ref(key: str) -> BookingReference:
        if key not in known:
            known[key] = BookingReference(
                session=session, coach=session.coach, provider=event.provider, reference=key
            )
        return known[key]

    mine = ref(event.reference)
    mine.starts_at, mine.ends_at = event.starts_at, event.ends_at
    if event.cancelled:
        mine.cancelled = True
    else:
        mine.created_seen = True
    if event.replaced_by:
        mine.replaced_by = event.replaced_by
        ref(event.replaced_by)
    if event.previous:
        ref(event.previous).replaced_by = event.reference
    for reference in known.values():
        reference.save()


def _follow_current_booking(session: ScheduledSession, refs: list[BookingReference]) -> None:
    """Times, booking id and status from the booking no reschedule replaces."""
    current = [ref for ref in refs if not ref.replaced_by] or refs
    latest = max(current, key=lambda ref: (ref.starts_at is not None, ref.starts_at, ref.pk))
    session.provider_booking_id = latest.reference
    if latest.starts_at is not None and latest.ends_at is not None:
        session.starts_at, session.ends_at = latest.starts_at, latest.ends_at
    if latest.cancelled:
        session.status = SessionStatus.CANCELLED
    elif len(refs) > 1:
        session.status = SessionStatus.RESCHEDULED
    else:
        session.status = SessionStatus.BOOKED


def _history_entry(event: BookingEvent) -> dict[str, Any]:
    return {
        "event": event.name,
        "booking": event.reference,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "received_at": timezone.now().isoformat(),
    }


def _schedule_reminder(session: ScheduledSession) -> None:
    from scheduling.reminders import booking_reminder_schedule

    booking_reminder_schedule(session)


# --- Staff: unmatched bookings -----------------------------------------------


def unmatched_bookings_changed() -> None:
    """Which bookings are unmatched, or what one of them says, changes once the current
    transaction commits: the dashboard's cached list is read afresh after it
    (scheduling/selectors.py, `unmatched_bookings_page`). Every write to an unmatched
    booking calls this; booking_receive, booking_assign and booking_dismiss are them."""
    changed(UNMATCHED_SCOPE)


class BookingNotAssignable(DomainError):
    code = "booking_not_assignable"
    message = "This booking can only go to an active engagement of its coach."


def booking_assign(
    *, scheduled: ScheduledSession, engagement: Engagement, actor: User
) -> ScheduledSession:
    """Staff attach an unmatched booking to one of its coach's active engagements."""
    with transaction.atomic():
        locked = ScheduledSession.objects.select_for_update().get(pk=scheduled.pk)
        if locked.engagement_id is not None or locked.dismissed_at is not None:
            raise BookingNotAssignable("This booking is already assigned or dismissed.")
        if engagement.coach_id != locked.coach_id or engagement.status not in ACTIVE_STATUSES:
            raise BookingNotAssignable()
        locked.engagement = engagement
        locked.unmatched_reason = ""
        locked.save(update_fields=["engagement", "unmatched_reason", "updated_at"])
        unmatched_bookings_changed()
        audit_record(
            action="scheduling.booking_assigned",
            obj=locked,
            actor=actor,
            after={"engagement": str(engagement.public_id)},
        )
        _schedule_reminder(locked)
    return locked


def booking_dismiss(*, scheduled: ScheduledSession, actor: User) -> ScheduledSession:
    """Staff set an unmatched booking aside; it stays recorded."""
    with transaction.atomic():
        locked = ScheduledSession.objects.select_for_update().get(pk=scheduled.pk)
        if locked.engagement_id is not None or locked.dismissed_at is not None:
            raise BookingNotAssignable("This booking is already assigned or dismissed.")
        locked.dismissed_at = timezone.now()
        locked.save(update_fields=["dismissed_at", "updated_at"])
        unmatched_bookings_changed()
        audit_record(action="scheduling.booking_dismissed", obj=locked, actor=actor)
    return locked


# --- The coach's one-click confirmation ---------------------------------------


class ConfirmationNotAllowed(DomainError):
    code = "confirmation_not_allowed"
    message = "This booking cannot be confirmed."


def booked_minutes(scheduled: ScheduledSession) -> int:
    """The booked length, within the session's own range (15-240 minutes)."""
    minutes = round(scheduled.duration / timedelta(minutes=1))
    return min(max(minutes, MIN_SESSION_MINUTES), MAX_SESSION_MINUTES)


def _typed_by_hand(engagement_id: int, held_on: date) -> CoachingSession | None:
    """A counted session of that date that no booking confirmed: the coach typed it."""
    return (
        CoachingSession.objects.counted()
        .filter(engagement_id=engagement_id, held_on=held_on, booking__isnull=True)
        .order_by("number")
        .first()
    )


def booking_confirm(
    *, scheduled: ScheduledSession, coach: CoachProfile, outcome: str, now: datetime | None = None
) -> CoachingSession:
    """Log the booked session through session_log, once.

    The booking's row is locked first and re-checked: a second click (or a second
    tab) waits, then finds it confirmed and is refused. The date is the booked
    start in the coach's time zone, the duration the booked one.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = ScheduledSession.objects.select_for_update().get(pk=scheduled.pk)
        if locked.coach_id != coach.pk or locked.engagement_id is None:
            raise ConfirmationNotAllowed()
        if locked.confirmed_session_id is not None:
            raise ConfirmationNotAllowed("This session is already confirmed.")
        if locked.status == SessionStatus.CANCELLED:
            raise ConfirmationNotAllowed("This booking was cancelled.")
        if not locked.has_ended(now):
            raise ConfirmationNotAllowed("This session has not ended yet.")
        held_on = timezone.localtime(locked.starts_at, zoneinfo.ZoneInfo(coach.time_zone)).date()
        # Already typed in by hand: the click confirms that session, never a second one.
        session = _typed_by_hand(locked.engagement_id, held_on) or session_log(
            engagement=Engagement.objects.get(pk=locked.engagement_id),
            coach=coach,
            held_on=held_on,
            duration_minutes=booked_minutes(locked),
            outcome=outcome,
            # Each booking is its own meeting, confirmed once under its row lock:
            # two bookings on one day are two sessions, not a double submission.
            confirm_same_date=True,
        )
        locked.confirmed_session = session
        locked.save(update_fields=["confirmed_session", "updated_at"])
    return session
