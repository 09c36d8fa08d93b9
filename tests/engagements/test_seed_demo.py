from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q

from accounts.models import AuditEvent, User
from coaches.models import CoachProfile
from engagements.models import ACTIVE_STATUSES, CoachingSession, Engagement, Program, Status

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = [User, CoachProfile, Program, Engagement, CoachingSession, AuditEvent]
    return {m.__name__: m.objects.count() for m in models}


def test_seed_demo_builds_the_program_and_is_idempotent() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first

    program = Program.objects.get()
    assert program.engagements.count() == 400
    assert program.coaches.count() == 35
    assert set(program.engagements.values_list("status", flat=True)) == set(Status.values)
    assert CoachingSession.objects.exists()
    assert "participant" in out.getvalue() and "staff" in out.getvalue()


def test_seeded_coaches_are_within_capacity() -> None:
    call_command("seed_demo", stdout=StringIO())
    loads = CoachProfile.objects.annotate(
        active=Count("engagements", filter=Q(engagements__status__in=ACTIVE_STATUSES))
    ).values_list("active", "capacity")
    assert all(active <= capacity for active, capacity in loads)
    assert all(8 <= capacity <= 15 for _, capacity in loads)


def test_seeded_sessions_go_through_the_session_service() -> None:
    call_command("seed_demo", stdout=StringIO())
    program = Program.objects.get()
    engagements = Engagement.objects.annotate(
        n=Count("sessions"), first=Min("sessions__held_on"), last=Max("sessions__held_on")
    )
    for engagement in engagements:
        assert engagement.sessions_logged == engagement.n
        assert engagement.last_session_on == engagement.last
        if engagement.n:
            assert engagement.first >= program.starts_on
    completed = engagements.filter(status=Status.COMPLETED)
    assert all(e.n == program.sessions_per_engagement for e in completed)
    assert not engagements.filter(status=Status.COACH_SELECTED, n__gt=0).exists()
    assert AuditEvent.objects.filter(action="session.logged").count() == (
        CoachingSession.objects.count()
    )
    assert AuditEvent.objects.filter(action="engagement.completed").count() == completed.count()
