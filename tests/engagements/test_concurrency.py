"""Real threads, each with its own PostgreSQL connection, racing on one engagement."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements import services
from engagements.models import CoachingSession, Engagement, InvalidTransition, Outcome, Status
from engagements.services import SessionNotAllowed
from tests.engagements.helpers import engagement_in
from tests.factories import ProgramFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _log(engagement_pk: int, coach: CoachProfile, i: int = 0) -> int:
    engagement = Engagement.objects.get(pk=engagement_pk)
    session = services.session_log(
        engagement=engagement,
        coach=coach,
        held_on=timezone.localdate() - timedelta(days=i % 20),
        duration_minutes=60,
        outcome=Outcome.HELD,
        notes=f"note {i}",
    )
    return session.number


def test_twenty_simultaneous_logs_take_numbers_1_to_20_and_complete_once(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    program = ProgramFactory(sessions_per_engagement=20)
    engagement = engagement_in(Status.COACH_SELECTED, program=program)
    coach = engagement.coach
    assert coach is not None

    started = time.monotonic()
    results = run_in_threads(lambda i: _log(engagement.pk, coach, i), 20)
    elapsed = time.monotonic() - started

    assert [r for r in results if not isinstance(r, int)] == []  # no request failed
    assert sorted(results) == list(range(1, 21))
    numbers = list(
        CoachingSession.objects.filter(engagement=engagement).values_list("number", flat=True)
    )
    assert sorted(numbers) == list(range(1, 21))
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.sessions_logged) == (Status.COMPLETED, 20)
    assert stored.last_session_on == timezone.localdate()
    for action, count in [
        ("session.logged", 20),
        ("engagement.in_progress", 1),
        ("engagement.completed", 1),
    ]:
        assert AuditEvent.objects.filter(action=action).count() == count
    print(f"\n[figures] 20 simultaneous logs: 20/20 succeeded, numbers 1..20, {elapsed:.2f}s")


def test_staff_hold_racing_the_completing_log_one_wins_cleanly(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    staff = UserFactory(role="staff")
    rounds = 10
    wins = {"hold": 0, "log": 0}
    for _ in range(rounds):
        program = ProgramFactory(sessions_per_engagement=3)
        engagement = engagement_in(Status.COACH_SELECTED, program=program)
        coach = engagement.coach
        assert coach is not None
        _log(engagement.pk, coach, 1)
        _log(engagement.pk, coach, 2)

        def act(i: int, engagement_pk: int = engagement.pk, coach: CoachProfile = coach) -> object:
            if i == 0:
                return services.engagement_put_on_hold(
                    engagement=Engagement.objects.get(pk=engagement_pk), actor=staff, reason="Leave"
                )
            return _log(engagement_pk, coach, 3)

        hold, log = run_in_threads(act, 2)

        stored = Engagement.objects.get(pk=engagement.pk)
        sessions = CoachingSession.objects.filter(engagement=engagement).count()
        logged_events = AuditEvent.objects.filter(
            action="session.logged", after__engagement=str(engagement.public_id)
        ).count()
        holds = AuditEvent.objects.filter(
            action="engagement.on_hold", object_id=str(engagement.public_id)
        ).count()
        assert isinstance(hold, DomainError) != isinstance(log, DomainError)  # exactly one lost
        if isinstance(log, DomainError):
            wins["hold"] += 1
            assert isinstance(log, SessionNotAllowed)
            assert "while the engagement is on hold" in log.message
            assert (stored.status, stored.sessions_logged, sessions) == (Status.ON_HOLD, 2, 2)
            assert (logged_events, holds) == (2, 1)
        else:
            wins["log"] += 1
            assert log == 3
            assert isinstance(hold, InvalidTransition)
            assert "completed cannot become on hold" in hold.message
            assert (stored.status, stored.sessions_logged, sessions) == (Status.COMPLETED, 3, 3)
            assert (logged_events, holds) == (3, 0)
    assert wins["hold"] + wins["log"] == rounds
    print(f"\n[figures] hold vs completing log, {rounds} rounds: {wins}")
