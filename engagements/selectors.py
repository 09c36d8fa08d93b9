"""Reads scoped to the person asking: a foreign id is a 404 by construction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, F, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from coaches.models import CoachProfile
from engagements.models import ACTIVE_STATUSES, CoachingSession, Engagement, held

# The session form starts with the coach's usual duration: the one they logged
# most often among their last USUAL_DURATION_SESSIONS sessions (the most recent
# of equally frequent ones), or DEFAULT_DURATION before their first session.
USUAL_DURATION_SESSIONS = 10
DEFAULT_DURATION = 60


def coach_engagements(*, coach: CoachProfile, status: str = "") -> QuerySet[Engagement]:
    """The coach's engagements, active first, with their open flags counted in SQL."""
    engagements = (
        Engagement.objects.filter(coach=coach)
        .select_related("participant", "program")
        .annotate(
            open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)),
            active_rank=Case(
                When(status__in=ACTIVE_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("active_rank", "participant__full_name", "pk")
    )
    if status:
        engagements = engagements.filter(status=status)
    return engagements


def coach_engagement_or_404(*, coach: CoachProfile, public_id: uuid.UUID) -> Engagement:
    """One of the coach's engagements; anybody else's is a 404, never a 403."""
    return get_object_or_404(
        Engagement.objects.select_related("participant", "program"),
        coach=coach,
        public_id=public_id,
    )


def coach_session_or_404(
    *, coach: CoachProfile, engagement: Engagement, public_id: uuid.UUID
) -> CoachingSession:
    """A session of the coach's engagement that this coach logged."""
    return get_object_or_404(
        CoachingSession.objects.select_related("engagement"),
        engagement=engagement,
        coach=coach,
        public_id=public_id,
    )


def participant_session_history(engagement: Engagement) -> QuerySet[CoachingSession]:
    """The sessions a participant may see: number, date, duration and outcome.

    The notes column is not even loaded; they belong to the coach alone.
    """
    return (
        CoachingSession.objects.filter(engagement=engagement)
        .only("number", "held_on", "duration_minutes", "outcome", "engagement_id")
        .order_by("number")
    )


def coach_session_history(
    *, coach: CoachProfile, engagement: Engagement
) -> QuerySet[CoachingSession]:
    """The engagement's sessions for its coach's page, with `own_notes`.

    Notes are private to the coach who logged the session (config/privacy.py):
    a session logged by a previous coach carries an empty `own_notes`, and the
    notes column itself is not loaded.
    """
    return (
        CoachingSession.objects.filter(engagement=engagement)
        .defer("notes")
        .annotate(
            own_notes=Case(
                When(coach=coach, then=F("notes")), default=Value(""), output_field=CharField()
            )
        )
        .order_by("number")
    )


def coach_usual_duration(*, coach: CoachProfile) -> int:
    """The duration in minutes the coach's session form starts with, in one query.

    The most frequent among the coach's last USUAL_DURATION_SESSIONS sessions,
    across all their engagements; a tie goes to the most recently logged.
    """
    recent = list(
        CoachingSession.objects.filter(coach=coach)
        .order_by("-created_at", "-pk")
        .values_list("duration_minutes", flat=True)[:USUAL_DURATION_SESSIONS]
    )
    if not recent:
        return DEFAULT_DURATION
    # max() keeps the first of equal counts, and `recent` is newest first.
    return max(recent, key=recent.count)


@dataclass(frozen=True)
class SessionTally:
    """An engagement's sessions as its participant reads them (engagements.models.held)."""

    held: int
    used: int
    allotted: int

    @property
    def remaining(self) -> int:
        """The allotment less every logged session, never below 0."""
        return max(self.allotted - self.used, 0)


def session_tally(engagement: Engagement) -> SessionTally:
    """Held and used sessions of the engagement against its allotment, in one query."""
    counts = engagement.sessions.aggregate(held=Count("pk", filter=held()), used=Count("pk"))
    return SessionTally(
        held=counts["held"],
        used=counts["used"],
        allotted=engagement.program.sessions_per_engagement,
    )
