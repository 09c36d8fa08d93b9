"""Reads of bookings for the pages, scoped to the person asking (a foreign id is a 404)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from coaches.models import CoachProfile
from config.cached import cached, versions
from engagements.models import ACTIVE_STATUSES, Engagement
from engagements.services import LOGGABLE_STATUSES
from scheduling.models import LIVE_STATUSES, ScheduledSession

# Panels list at most this many bookings; the coach's page is not a calendar.
PANEL_SIZE = 20
UNMATCHED_PAGE_SIZE = 20


# What the coach's panels show of a booking (templates/scheduling/_coach_sessions.html):
# not its history (JSON) nor the full engagement, participant and program rows.
COACH_PANEL_COLUMNS = (
    "public_id",
    "coach_id",
    "starts_at",
    "ends_at",
    "status",
    "engagement__public_id",
    "engagement__status",
    "engagement__participant__full_name",
    "engagement__program__name",
)


# What the participant's panel shows (templates/scheduling/_next_session.html).
NEXT_SESSION_COLUMNS = (
    "public_id",
    "engagement_id",
    "starts_at",
    "ends_at",
    "status",
    "coach__user__full_name",
)


def _live() -> QuerySet[ScheduledSession]:
    return ScheduledSession.objects.filter(status__in=LIVE_STATUSES, engagement__isnull=False)


def next_session(*, engagement: Engagement, now: datetime) -> ScheduledSession | None:
    """The engagement's next booked session that has not ended (one query).

    Its `engagement` is the one given, with whatever that row already carries
    (the participant home reads it with its program and organization), rather
    than the same rows joined again.
    """
    session = (
        _live()
        .filter(engagement=engagement, ends_at__gt=now)
        .select_related("coach__user")
        .only(*NEXT_SESSION_COLUMNS)
        .order_by("starts_at")
        .first()
    )
    if session is not None:
        session.engagement = engagement
    return session


def coach_upcoming_sessions(*, coach: CoachProfile, now: datetime) -> list[ScheduledSession]:
    """The coach's booked sessions not yet ended, across engagements, soonest first."""
    return list(
        _live()
        .filter(coach=coach, engagement__coach=coach, ends_at__gt=now)
        .select_related("engagement__participant", "engagement__program")
        .only(*COACH_PANEL_COLUMNS)
        .order_by("starts_at")[:PANEL_SIZE]
    )


def coach_sessions_to_confirm(*, coach: CoachProfile, now: datetime) -> list[ScheduledSession]:
    """Ended, unconfirmed bookings of the coach's engagements in which a session can be logged."""
    return list(
        _live()
        .filter(
            coach=coach,
            engagement__coach=coach,
            engagement__status__in=LOGGABLE_STATUSES,
            confirmed_session__isnull=True,
            ends_at__lte=now,
        )
        .select_related("engagement__participant", "engagement__program")
        .only(*COACH_PANEL_COLUMNS)
        .order_by("starts_at")[:PANEL_SIZE]
    )


def coach_booking_or_404(*, coach: CoachProfile, public_id: uuid.UUID) -> ScheduledSession:
    return get_object_or_404(ScheduledSession, coach=coach, public_id=public_id)


def participant_booking_or_404(*, participant: User, public_id: uuid.UUID) -> ScheduledSession:
    return get_object_or_404(
        ScheduledSession.objects.select_related("coach__user", "engagement__program__organization"),
        engagement__participant=participant,
        status__in=LIVE_STATUSES,
        public_id=public_id,
    )


def engagement_upcoming_sessions(
    *, engagement: Engagement, now: datetime
) -> list[ScheduledSession]:
    """Every booking of the engagement that has not ended, cancelled ones included (staff)."""
    return list(
        ScheduledSession.objects.filter(engagement=engagement, ends_at__gt=now)
        .select_related("engagement__program__organization")
        .order_by("starts_at")[:PANEL_SIZE]
    )


def unmatched_bookings() -> QuerySet[ScheduledSession]:
    """Bookings no engagement took and staff have not dismissed, oldest first."""
    return (
        ScheduledSession.objects.filter(engagement__isnull=True, dismissed_at__isnull=True)
        .select_related("coach__user")
        .order_by("created_at", "pk")
    )


# The version every change to which bookings are unmatched replaces on commit
# (scheduling/services.py, `unmatched_bookings_changed`).
UNMATCHED_SCOPE = "scheduling:unmatched"
UNMATCHED_CACHE_SECONDS = 24 * 60 * 60


def unmatched_bookings_page(number: str | None) -> Page[ScheduledSession]:
    """One page of unmatched_bookings(), 20 a page (docs/architecture.md, "Cached figures").

    How many there are and which bookings each page lists are cached under the
    unmatched bookings' version: they change only in booking_receive, booking_assign
    and booking_dismiss, which replace it on commit. The page's rows (coach name,
    times, status) are read live, by primary key: one query, none when there are none.
    """
    version = versions([UNMATCHED_SCOPE])[UNMATCHED_SCOPE]
    count = cached(
        f"scheduling:unmatched:{version}:count",
        lambda: unmatched_bookings().count(),
        UNMATCHED_CACHE_SECONDS,
    )
    # The paginator needs only the count to check the page number.
    paginator: Paginator[ScheduledSession] = Paginator(
        cast("Sequence[ScheduledSession]", range(count)), UNMATCHED_PAGE_SIZE
    )
    valid = paginator.get_page(number)
    bottom = (valid.number - 1) * UNMATCHED_PAGE_SIZE
    ids = (
        []
        if count == 0
        else cached(
            f"scheduling:unmatched:{version}:page:{valid.number}",
            lambda: list(
                unmatched_bookings().values_list("pk", flat=True)[
                    bottom : bottom + UNMATCHED_PAGE_SIZE
                ]
            ),
            UNMATCHED_CACHE_SECONDS,
        )
    )
    rows = unmatched_bookings().in_bulk(ids) if ids else {}
    # A row gone since (its coach deleted) is left out rather than shown stale.
    return Page([rows[pk] for pk in ids if pk in rows], valid.number, paginator)


def assignable_engagements(coach_ids: set[int]) -> dict[int, list[Engagement]]:
    """Each coach's active engagements, for the assign menus (one query)."""
    by_coach: dict[int, list[Engagement]] = defaultdict(list)
    engagements = (
        Engagement.objects.filter(coach_id__in=coach_ids, status__in=ACTIVE_STATUSES)
        .select_related("participant", "program")
        .order_by("participant__full_name", "pk")
    )
    for engagement in engagements:
        assert engagement.coach_id is not None  # noqa: S101 - the filter says so
        by_coach[engagement.coach_id].append(engagement)
    return by_coach
