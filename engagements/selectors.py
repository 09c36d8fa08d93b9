"""Reads scoped to the person asking: a foreign id is a 404 by construction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Case, CharField, Count, F, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from coaches.models import CoachProfile
from engagements.models import ACTIVE_STATUSES, CoachingSession, Engagement

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


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


class OwnNotes(TypedDict):
    own_notes: str


def coach_session_history(
    *, coach: CoachProfile, engagement: Engagement
) -> QuerySet[WithAnnotations[CoachingSession, OwnNotes]]:
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
