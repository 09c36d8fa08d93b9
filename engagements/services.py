"""Writes that span several models: choosing a coach, staff transitions and
session logging.

Views, admin actions and management commands call these functions; none of
them re-implements a rule. Status only ever changes through
Engagement.transition_to(), which these functions call on a row they hold
locked, so its compare-and-set cannot go stale underneath them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Value
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.emails import send_email
from accounts.models import Role, User
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements.models import (
    CoachingSession,
    Engagement,
    EngagementCoach,
    InvalidTransition,
    Status,
    program_rows_changed,
)
from engagements.selectors import open_pool_coaches, participant_current_engagement

# Statuses in which a coach may log a session (docs/architecture.md, "Engagement states").
LOGGABLE_STATUSES = (Status.COACH_SELECTED, Status.IN_PROGRESS)
CORRECTION_WINDOW = timedelta(days=7)


class ReasonRequired(DomainError):
    code = "reason_required"
    message = "Give a reason: it is kept on the engagement and in the audit trail."
    http_status = 400


class SessionNotAllowed(DomainError):
    code = "session_not_allowed"
    message = "A session cannot be logged on this engagement."


class CorrectionNotAllowed(DomainError):
    code = "correction_not_allowed"
    message = (
        "Only the most recent session can be corrected, by its coach, "
        f"for {CORRECTION_WINDOW.days} days."
    )


class NotEnrolled(DomainError):
    code = "not_enrolled"
    message = "You are not enrolled in a running coaching program, so you cannot choose a coach."


class AlreadyHasCoach(DomainError):
    code = "already_has_coach"
    message = "You have already chosen your coach; a coach is chosen only once."


class CoachNotAvailable(DomainError):
    code = "coach_not_available"
    message = "This coach is not available in your program any more. Please choose another."


class CoachFull(DomainError):
    code = "coach_full"
    message = "This coach has just filled up. Please choose another coach."


class SameDateSession(DomainError):
    """A session is already logged on that date: the coach confirms a second one."""

    code = "same_date_session"
    message = (
        "A session on this date is already logged. If there really were two, "
        "tick “Yes, log a second session on this date” and log it again."
    )


class VoidNotAllowed(DomainError):
    code = "void_not_allowed"
    message = (
        "A coach can void their own sessions for 7 days after logging them; "
        "after that, ask the Coachdesk team."
    )
    http_status = 403


class AlreadyVoided(DomainError):
    code = "already_voided"
    message = "This session is already voided."


def _lock(engagement: Engagement) -> Engagement:
    """Re-read the engagement with its row locked until the transaction ends.

    `of=("self",)` keeps the program row unlocked: locking it would make every
    coach in the program wait for each other.
    """
    return (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("program")
        .get(pk=engagement.pk)
    )


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    return reason


# --- Invitations ----------------------------------------------------------


def invitation_send(*, engagement: Engagement, actor: User | None) -> None:
    """Email the participant an invitation to sign in (queued in the caller's transaction)."""
    participant = engagement.participant
    send_email(
        template="invitation",
        recipient=participant,
        context={"user": participant, "program": engagement.program},
    )
    audit_record(
        action="invitation.sent", obj=engagement, actor=actor, after={"status": engagement.status}
    )


# --- Choosing a coach ------------------------------------------------------


def engagement_select_coach(*, participant: User, coach: CoachProfile) -> Engagement:
    """Assign `coach` to the participant's current engagement, within capacity.

    Locks the coach row, then the engagement (always in that order, so two
    selections cannot deadlock), then asks the directory's own queryset
    (`open_pool_coaches`) whether the coach is still available, moves the
    engagement to coach_selected through its transition method and records the
    assignment in the coach history. Emails both sides with the commit.
    Raises NotEnrolled, AlreadyHasCoach, CoachNotAvailable or CoachFull; on any
    of them nothing is written.
    """
    with transaction.atomic():
        coach = (
            CoachProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=coach.pk)
        )
        engagement = participant_current_engagement(participant=participant, lock=True)
        if engagement is None:
            raise NotEnrolled()
        if engagement.coach_id is not None or engagement.status != Status.INVITED:
            raise AlreadyHasCoach()
        # A separate statement after the coach lock, so the count sees every
        # selection committed before the lock was granted.
        is_full = (
            open_pool_coaches(program=engagement.program)
            .filter(pk=coach.pk)
            .values_list("is_full", flat=True)
            .first()
        )
        if is_full is None:
            raise CoachNotAvailable()
        if is_full:
            raise CoachFull()
        engagement.transition_to(
            Status.COACH_SELECTED,
            actor=participant,
            changes={"coach": coach},
        )
        EngagementCoach.objects.create(engagement=engagement, coach=coach)
        _email_selection(engagement=engagement, coach=coach, participant=participant)
    return engagement


def _email_selection(*, engagement: Engagement, coach: CoachProfile, participant: User) -> None:
    context = {
        "participant_name": participant.full_name,
        "coach_name": coach.user.full_name,
        "program_name": engagement.program.name,
        "booking_url": coach.booking_link_for(participant),
        "home_url": settings.SITE_URL + reverse("home"),
        "coach_url": settings.SITE_URL + reverse("coach_workspace"),
    }
    send_email(template="coach_selected_participant", recipient=participant, context=context)
    send_email(template="coach_selected_coach", recipient=coach.user, context=context)


# --- Staff transitions ----------------------------------------------------
# Each has a `*_refusal(engagement)`: why it is not allowed now, or None. The
# service asks it under the row lock; the admin asks it to offer only the
# buttons that would work.


def _refuse(refusal: str | None) -> None:
    if refusal:
        raise InvalidTransition(refusal)


def release_coach_refusal(engagement: Engagement) -> str | None:
    return engagement.transition_refusal(Status.INVITED)


def engagement_release_coach(
    *, engagement: Engagement, actor: User | None, reason: str = ""
) -> Engagement:
    """Send the engagement back to `invited` without a coach, freeing the seat.

    The coach stays in the engagement's history: the open EngagementCoach row
    is closed with `released_at`. Sessions already logged are kept.
    """
    with transaction.atomic():
        locked = _lock(engagement)
        _refuse(release_coach_refusal(locked))
        locked.transition_to(
            Status.INVITED,
            actor=actor,
            reason=reason.strip(),
            changes={"coach": None},
            action="engagement.coach_released",
        )
        EngagementCoach.objects.filter(engagement=locked, released_at__isnull=True).update(
            released_at=timezone.now()
        )
    return locked


def put_on_hold_refusal(engagement: Engagement) -> str | None:
    return engagement.transition_refusal(Status.ON_HOLD)


def engagement_put_on_hold(
    *, engagement: Engagement, actor: User | None, reason: str = ""
) -> Engagement:
    """Pause an active engagement; no session can be logged until it resumes."""
    with transaction.atomic():
        locked = _lock(engagement)
        _refuse(put_on_hold_refusal(locked))
        locked.transition_to(Status.ON_HOLD, actor=actor, reason=reason.strip())
    return locked


def resume_refusal(engagement: Engagement) -> str | None:
    if engagement.status != Status.ON_HOLD:
        return (
            f"Only an engagement on hold can be resumed; this one is "
            f"{engagement.get_status_display().lower()}."
        )
    return None


def engagement_resume(
    *, engagement: Engagement, actor: User | None, reason: str = ""
) -> Engagement:
    """Take an engagement off hold: back to in progress once a session was logged,
    otherwise back to coach selected."""
    with transaction.atomic():
        locked = _lock(engagement)
        _refuse(resume_refusal(locked))
        target = Status.IN_PROGRESS if locked.sessions_logged > 0 else Status.COACH_SELECTED
        locked.transition_to(
            target, actor=actor, reason=reason.strip(), action="engagement.resumed"
        )
    return locked


def cancel_refusal(engagement: Engagement) -> str | None:
    return engagement.transition_refusal(Status.CANCELLED)


def engagement_cancel(*, engagement: Engagement, actor: User | None, reason: str) -> Engagement:
    """Cancel an engagement that is not completed; the reason is required."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = _lock(engagement)
        _refuse(cancel_refusal(locked))
        locked.transition_to(Status.CANCELLED, actor=actor, reason=reason)
    return locked


def complete_early_refusal(engagement: Engagement) -> str | None:
    if engagement.status == Status.INVITED:
        # The table allows invited -> cancelled only; say it in words.
        return "An engagement without a coach cannot be completed."
    return engagement.transition_refusal(Status.COMPLETED)


def engagement_complete_early(
    *, engagement: Engagement, actor: User | None, reason: str
) -> Engagement:
    """Mark an engagement completed before its allotment is used; the reason is required."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = _lock(engagement)
        _refuse(complete_early_refusal(locked))
        locked.transition_to(
            Status.COMPLETED, actor=actor, reason=reason, action="engagement.completed_early"
        )
    return locked


@dataclass(frozen=True)
class StaffTransition:
    """A status change ops make by hand, the service that makes it and the service's
    own answer to "is it allowed now?" (None, or why not)."""

    name: str
    label: str
    done: str
    service: Callable[..., Engagement]
    reason_required: bool
    refusal: Callable[[Engagement], str | None]

    def offered(self, engagement: Engagement) -> bool:
        return self.refusal(engagement) is None


# The status changes staff make by hand, offered by the admin and the ops
# engagement page alike: each asks its service's refusal, never restates it.
STAFF_TRANSITIONS = {
    t.name: t
    for t in [
        StaffTransition(
            "release",
            "Release coach",
            "coach released",
            engagement_release_coach,
            False,
            release_coach_refusal,
        ),
        StaffTransition(
            "hold",
            "Put on hold",
            "put on hold",
            engagement_put_on_hold,
            False,
            put_on_hold_refusal,
        ),
        StaffTransition(
            "resume",
            "Resume",
            "resumed",
            engagement_resume,
            False,
            resume_refusal,
        ),
        StaffTransition(
            "cancel",
            "Cancel",
            "cancelled",
            engagement_cancel,
            True,
            cancel_refusal,
        ),
        StaffTransition(
            "complete",
            "Mark completed early",
            "marked completed",
            engagement_complete_early,
            True,
            complete_early_refusal,
        ),
    ]
}


# --- Sessions -------------------------------------------------------------


def _session_snapshot(session: CoachingSession) -> dict[str, Any]:
    """What the audit trail keeps about a session: never the notes."""
    return {
        "engagement": str(session.engagement.public_id),
        "number": session.number,
        "held_on": session.held_on.isoformat(),
        "duration_minutes": session.duration_minutes,
        "outcome": session.outcome,
    }


def _refuse_logging(engagement: Engagement, coach: CoachProfile) -> None:
    if engagement.coach_id != coach.pk:
        raise SessionNotAllowed("You are no longer the coach of this engagement.")
    if engagement.status not in LOGGABLE_STATUSES:
        raise SessionNotAllowed(
            f"Sessions cannot be logged while the engagement is "
            f"{engagement.get_status_display().lower()}."
        )


def _next_session_number(engagement: Engagement) -> int:
    last = CoachingSession.objects.filter(engagement=engagement).aggregate(n=Max("number"))
    return (last["n"] or 0) + 1


def session_log(
    *,
    engagement: Engagement,
    coach: CoachProfile,
    held_on: date,
    duration_minutes: int,
    outcome: str,
    notes: str = "",
    submission_key: uuid.UUID | None = None,
    confirm_same_date: bool = False,
) -> CoachingSession:
    """Log one session with the next number and move the engagement along.

    The engagement row is locked first, so the status is checked where no
    one can change it (a log racing staff's "put on hold" either lands before
    the hold or is refused, never after it), the counters are exact and the
    completing transition happens exactly once. The first session moves
    coach_selected -> in_progress; the one reaching the program's allotment
    moves it to completed.

    Idempotent per `submission_key` (the log form's one-time key): a second
    call with the key returns the session the first one logged and writes
    nothing. It is looked up under the lock, so simultaneous submissions of
    one form wait for each other and the later ones find the first's session.
    A second session on a date that already has one (not voided) needs
    `confirm_same_date`. Raises SessionNotAllowed or SameDateSession; on
    either, nothing is written.
    """
    with transaction.atomic():
        locked = _lock(engagement)
        if submission_key is not None:
            earlier = CoachingSession.objects.filter(submission_key=submission_key).first()
            if earlier is not None:
                if earlier.engagement_id != locked.pk:
                    raise SessionNotAllowed("This form belongs to another engagement.")
                return earlier
        _refuse_logging(locked, coach)
        if not confirm_same_date and locked.sessions.counted().filter(held_on=held_on).exists():
            raise SameDateSession()
        # Under the engagement's lock no other log can take this number; the
        # unique constraint on (engagement, number) still guards it.
        session = CoachingSession.objects.create(
            number=_next_session_number(locked),
            engagement=locked,
            coach=coach,
            held_on=held_on,
            duration_minutes=duration_minutes,
            outcome=outcome,
            notes=notes,
            submission_key=submission_key,
        )
        Engagement.objects.filter(pk=locked.pk).update(
            sessions_logged=F("sessions_logged") + 1,
            last_session_on=Greatest(Coalesce("last_session_on", Value(held_on)), Value(held_on)),
        )
        locked.sessions_logged += 1
        locked.last_session_on = max(filter(None, [locked.last_session_on, held_on]))
        program_rows_changed(locked.program_id)
        audit_record(
            action="session.logged", obj=session, actor=coach.user, after=_session_snapshot(session)
        )
        if locked.status == Status.COACH_SELECTED:
            locked.transition_to(Status.IN_PROGRESS, actor=coach.user)
        if locked.sessions_logged >= locked.program.sessions_per_engagement:
            locked.transition_to(Status.COMPLETED, actor=coach.user)
    return session


def session_can_be_corrected(
    *, session: CoachingSession, coach: CoachProfile, latest_number: int | None
) -> bool:
    """True for the engagement's most recent session, by this coach, logged within
    CORRECTION_WINDOW."""
    return (
        session.coach_id == coach.pk
        and not session.is_voided
        and session.number == latest_number
        and timezone.now() - session.created_at <= CORRECTION_WINDOW
    )


def session_correct(
    *,
    session: CoachingSession,
    coach: CoachProfile,
    held_on: date,
    duration_minutes: int,
    outcome: str,
    notes: str,
) -> CoachingSession:
    """Correct the most recent session of an engagement (its coach, within CORRECTION_WINDOW).

    Audited with the values before and after; of the notes, only whether they
    changed. The engagement's last session date follows the correction.
    """
    with transaction.atomic():
        engagement = _lock(session.engagement)
        # Re-read under the engagement lock: a session logged meanwhile makes
        # this one no longer the most recent.
        current = CoachingSession.objects.select_for_update().get(pk=session.pk)
        latest = engagement.sessions.counted().aggregate(n=Max("number"))["n"]
        if not session_can_be_corrected(session=current, coach=coach, latest_number=latest):
            raise CorrectionNotAllowed()
        current.engagement = engagement
        before = _session_snapshot(current)
        notes_changed = current.notes != notes
        current.held_on = held_on
        current.duration_minutes = duration_minutes
        current.outcome = outcome
        current.notes = notes
        current.save(
            update_fields=["held_on", "duration_minutes", "outcome", "notes", "updated_at"]
        )
        Engagement.objects.filter(pk=engagement.pk).update(
            last_session_on=engagement.sessions.counted().aggregate(d=Max("held_on"))["d"]
        )
        program_rows_changed(engagement.program_id)
        audit_record(
            action="session.corrected",
            obj=current,
            actor=coach.user,
            before=before,
            after={**_session_snapshot(current), "notes_changed": notes_changed},
        )
    return current


def session_can_be_voided(*, session: CoachingSession, actor: User) -> bool:
    """Staff void any session; a coach their own, for CORRECTION_WINDOW after logging it."""
    if session.is_voided:
        return False
    if actor.role == Role.STAFF:
        return True
    return (
        actor.role == Role.COACH
        and session.coach_id == _coach_pk(actor)
        and timezone.now() - session.created_at <= CORRECTION_WINDOW
    )


def _coach_pk(user: User) -> int | None:
    """The pk of the user's coach profile (read once, then cached on the user)."""
    try:
        return user.coach_profile.pk
    except CoachProfile.DoesNotExist:
        return None


def session_void(*, session: CoachingSession, actor: User, reason: str) -> CoachingSession:
    """Void a session logged by mistake: it stays, marked, and counts nowhere.

    Under the engagement's lock: recounts `sessions_logged` and
    `last_session_on` from the sessions that count, and moves the status back
    where the count demands it (completed -> in progress when the void takes
    it below the allotment, or -> coach selected when none is left; in
    progress -> coach selected when none is left), keeping the entry times.
    An engagement completed early by staff, on hold or cancelled keeps its
    status. The number is not reused. Audited with the counts before and
    after. Raises ReasonRequired, VoidNotAllowed or AlreadyVoided; on any,
    nothing is written.
    """
    reason = _require_reason(reason)
    with transaction.atomic():
        engagement = _lock(session.engagement)
        current = CoachingSession.objects.select_for_update().get(pk=session.pk)
        if current.is_voided:
            raise AlreadyVoided()
        if not session_can_be_voided(session=current, actor=actor):
            raise VoidNotAllowed()
        before = {
            **_session_snapshot(current),
            "status": engagement.status,
            "sessions_logged": engagement.sessions_logged,
        }
        current.voided_at = timezone.now()
        current.voided_by = actor
        current.void_reason = reason
        current.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
        counts = engagement.sessions.counted().aggregate(n=Count("pk"), last=Max("held_on"))
        Engagement.objects.filter(pk=engagement.pk).update(
            sessions_logged=counts["n"], last_session_on=counts["last"]
        )
        program_rows_changed(engagement.program_id)
        was = engagement.sessions_logged
        engagement.sessions_logged, engagement.last_session_on = counts["n"], counts["last"]
        _move_back_after_void(engagement, was=was, actor=actor, reason=reason)
        audit_record(
            action="session.voided",
            obj=current,
            actor=actor,
            before=before,
            after={
                **_session_snapshot(current),
                "void_reason": reason,
                "status": engagement.status,
                "sessions_logged": engagement.sessions_logged,
            },
        )
    current.engagement = engagement
    return current


def _move_back_after_void(engagement: Engagement, *, was: int, actor: User, reason: str) -> None:
    """The status the new count demands, through transition_to (entry times kept)."""
    allotment = engagement.program.sessions_per_engagement
    left = engagement.sessions_logged
    back_to = Status.IN_PROGRESS if left else Status.COACH_SELECTED
    completed_by_count = (
        engagement.status == Status.COMPLETED and was >= allotment and left < allotment
    )
    emptied = engagement.status == Status.IN_PROGRESS and left == 0
    if completed_by_count or emptied:
        engagement.transition_to(
            back_to,
            actor=actor,
            reason=reason,
            changes={"completed_at": None} if completed_by_count else None,
            action="engagement.reopened_by_void",
            stamp=False,
        )
