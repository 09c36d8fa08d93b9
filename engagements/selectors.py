"""Reads scoped to the person asking: a foreign id is a 404 by construction.

Also a coach's load: active engagements, "full" and "available", stated once
here and used by the directory, the service that chooses a coach, the coaches'
admin and the ops dashboard (docs/architecture.md, "Rules and where they live").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from coaches.models import COACH_LOAD_SCOPE, CoachProfile
from config.cached import cached, versions
from engagements.models import ACTIVE_STATUSES, CoachingSession, Engagement, Program, held

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


# --- The participant's current engagement ------------------------------------


def _current_engagements(participant: User) -> QuerySet[Engagement]:
    """The participant's engagements in programs that have not ended, most recent first."""
    return Engagement.objects.filter(
        participant=participant, program__ends_on__gte=timezone.localdate()
    ).order_by("-invited_at", "-pk")


def participant_current_engagement(*, participant: User, lock: bool = False) -> Engagement | None:
    """The participant's engagement in a program that has not ended (the most recent).

    Read with its program, the program's organization (whose clock the
    participant's bookings are shown on) and its coach. With `lock`, its row is
    locked until the transaction ends (the other rows are read, not locked).
    """
    engagements = _current_engagements(participant).select_related(
        "program__organization", "coach__user"
    )
    if lock:
        engagements = engagements.select_for_update(of=("self",))
    return engagements.first()


def participant_pool_coach_or_404(*, participant: User, public_id: uuid.UUID) -> CoachProfile:
    """A coach of the pool of the participant's current program; any other is a 404."""
    program = Subquery(_current_engagements(participant).values("program")[:1])
    return get_object_or_404(
        CoachProfile.objects.select_related("user"), programs=program, public_id=public_id
    )


# --- A coach's load: active engagements, full, available ------------------------


def active_engagement_count() -> Coalesce:
    """SQL expression: a coach's active engagements, across all programs."""
    # COUNT(*) rather than COUNT(id): the (coach, status) index answers it alone
    # (an index-only scan), without reading each engagement's row.
    counts = (
        Engagement.objects.filter(coach=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        .order_by()
        .values("coach")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


class CoachLoad(TypedDict):
    active_count: int
    is_full: bool


def coaches_with_load(
    coaches: QuerySet[CoachProfile] | None = None,
) -> QuerySet[WithAnnotations[CoachProfile, CoachLoad]]:
    """The coaches (default: all) with `active_count` and `is_full`: active >= capacity."""
    if coaches is None:
        coaches = CoachProfile.objects.all()
    return coaches.annotate(active_count=active_engagement_count()).annotate(
        is_full=Case(
            When(active_count__gte=F("capacity"), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def full_coach_ids() -> QuerySet[Engagement, Any]:
    """The ids of the full coaches (active >= capacity, as coaches_with_load) in one
    GROUP BY over the active engagements: a subquery that PostgreSQL runs once."""
    return (
        Engagement.objects.filter(status__in=ACTIVE_STATUSES, coach__isnull=False)
        .order_by()
        .values("coach_id", "coach__capacity")
        .annotate(n=Count("pk"))
        .filter(n__gte=F("coach__capacity"))
        .values("coach_id")
    )


def coaches_with_load_full_first() -> QuerySet[WithAnnotations[CoachProfile, CoachLoad]]:
    """Every coach with `active_count` and `is_full`, full ones first, for a paged list.

    `is_full` comes from full_coach_ids, so sorting all coaches by it counts no
    coach's engagements one by one; `active_count` is only in the SELECT list, so
    PostgreSQL computes it for the rows of the page, after the sort and the limit.
    """
    coaches = CoachProfile.objects.annotate(
        is_full=Case(
            When(pk__in=Subquery(full_coach_ids()), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    ).annotate(active_count=active_engagement_count())
    return cast("QuerySet[WithAnnotations[CoachProfile, CoachLoad]]", coaches.order_by("-is_full"))


# The cached order is a safety net's length only: every change of load moves its version.
FULL_FIRST_CACHE_SECONDS = 24 * 60 * 60


def coaches_full_first_ids() -> list[int]:
    """Every coach's pk, full ones first, then by name (the ops dashboard's paged list).

    Cached until a coach's load or profile changes (coaches.models.coach_load_changed,
    called by transition_to, CoachProfile.save and the coach import), so a page of the
    list loads its 50 coaches by pk instead of sorting every coach by load. A coach
    renamed since keeps their place until the next change of load.
    """
    version = versions([COACH_LOAD_SCOPE])[COACH_LOAD_SCOPE]
    return cached(
        f"coaches:full-first:{version}",
        lambda: list(
            coaches_with_load_full_first()
            .order_by("-is_full", "user__full_name", "pk")
            .values_list("pk", flat=True)
        ),
        FULL_FIRST_CACHE_SECONDS,
    )


def open_pool_coaches(*, program: Program) -> QuerySet[WithAnnotations[CoachProfile, CoachLoad]]:
    """The program's pool less coaches who are inactive or not accepting; full ones included."""
    return coaches_with_load().filter(programs=program, user__is_active=True, accepting_new=True)


def available_coaches(*, program: Program) -> QuerySet[WithAnnotations[CoachProfile, CoachLoad]]:
    """The coaches a participant of `program` may choose: in its open pool and not full."""
    return open_pool_coaches(program=program).filter(is_full=False)


@dataclass(frozen=True)
class AvailablePool:
    """available_coaches computed once: the coaches' ids and public ids."""

    ids: list[int]
    public_ids: list[uuid.UUID]

    def coaches(self) -> QuerySet[CoachProfile]:
        """The pool as a plain id list, for the directory's filters."""
        return CoachProfile.objects.filter(pk__in=self.ids)


def available_pool(*, program: Program) -> AvailablePool:
    """available_coaches computed once, in one query.

    The directory filters the pool and lists its languages and specialties;
    each of those reading available_coaches would count every pool coach's
    active engagements again. Unfiltered, the public ids are the directory's
    whole list, with no further query.
    """
    rows = available_coaches(program=program).order_by().values_list("pk", "public_id")
    ids, public_ids = [], []
    for pk, public_id in rows:
        ids.append(pk)
        public_ids.append(public_id)
    return AvailablePool(ids=ids, public_ids=public_ids)


# --- The coach's engagements and sessions --------------------------------------

# The session form starts with the coach's usual duration: the one they logged
# most often among their last USUAL_DURATION_SESSIONS sessions (the most recent
# of equally frequent ones), or DEFAULT_DURATION before their first session.
USUAL_DURATION_SESSIONS = 10
DEFAULT_DURATION = 60


def coach_engagements(*, coach: CoachProfile, status: str = "") -> QuerySet[Engagement]:
    """The coach's engagements, active first, with their open flags counted in SQL.

    Only the columns the workspace's table shows are read (a coach may have
    dozens of engagements; the participant and program rows are wide).
    """
    engagements = (
        Engagement.objects.filter(coach=coach)
        .select_related("participant", "program")
        .only(
            "public_id",
            "status",
            "sessions_logged",
            "last_session_on",
            "participant__full_name",
            "program__name",
            "program__sessions_per_engagement",
        )
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


class CountsAsHeld(TypedDict):
    counts_as_held: bool


def participant_session_history(
    engagement: Engagement,
) -> QuerySet[WithAnnotations[CoachingSession, CountsAsHeld]]:
    """The sessions a participant may see: number, date, duration and outcome.

    Voided sessions are left out: they were logged by mistake and never took place.
    The notes column is not even loaded; they belong to the coach alone. Each row
    says whether it `counts_as_held` (engagements.models.held, in SQL), so the
    tally is read from these rows (session_tally) without a query of its own.
    """
    history = (
        CoachingSession.objects.counted()
        .filter(engagement=engagement)
        .only("number", "held_on", "duration_minutes", "outcome", "engagement_id")
        .annotate(counts_as_held=ExpressionWrapper(held(), output_field=BooleanField()))
        .order_by("number")
    )
    return cast("QuerySet[WithAnnotations[CoachingSession, CountsAsHeld]]", history)


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


def coach_usual_duration(*, coach: CoachProfile) -> int:
    """The duration in minutes the coach's session form starts with, in one query.

    The most frequent among the coach's last USUAL_DURATION_SESSIONS sessions,
    across all their engagements; a tie goes to the most recently logged.
    """
    recent = list(
        CoachingSession.objects.counted()
        .filter(coach=coach)
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


def session_tally(
    engagement: Engagement, history: Sequence[WithAnnotations[CoachingSession, CountsAsHeld]]
) -> SessionTally:
    """Held and used sessions of the engagement against its allotment, no query:
    `history` is the engagement's participant_session_history (every counted
    session, each saying whether it counts as held)."""
    return SessionTally(
        held=sum(1 for session in history if session.counts_as_held),
        used=len(history),
        allotted=engagement.program.sessions_per_engagement,
    )
