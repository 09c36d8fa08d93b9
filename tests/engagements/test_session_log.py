"""Logging sessions: numbering, counters, the transitions they cause and refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from engagements import services
from engagements.models import CoachingSession, Engagement, Outcome, Status
from engagements.services import SessionNotAllowed
from tests.engagements.helpers import engagement_in
from tests.factories import CoachFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _log(engagement: Engagement, *, days_ago: int = 1, **kwargs: Any) -> CoachingSession:
    values: dict[str, Any] = {
        "engagement": engagement,
        "coach": engagement.coach,
        "held_on": timezone.localdate() - timedelta(days=days_ago),
        "duration_minutes": 60,
        "outcome": Outcome.HELD,
        "notes": "Talked about delegation.",
        # Several sessions on one day are confirmed here; test_session_integrity.py
        # covers the warning.
        "confirm_same_date": True,
        **kwargs,
    }
    return services.session_log(**values)


def test_sessions_are_numbered_in_sequence_and_counted() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    numbers = [_log(engagement, days_ago=10 - i).number for i in range(3)]
    assert numbers == [1, 2, 3]
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.sessions_logged == 3
    assert stored.last_session_on == timezone.localdate() - timedelta(days=8)


def test_logging_an_older_session_does_not_move_the_last_session_date_back() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, days_ago=2)
    _log(engagement, days_ago=9)
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.last_session_on == timezone.localdate() - timedelta(days=2)


def test_the_first_session_moves_coach_selected_to_in_progress() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement)
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == Status.IN_PROGRESS and stored.started_at is not None
    event = AuditEvent.objects.get(action="engagement.in_progress")
    assert engagement.coach is not None and event.actor == engagement.coach.user


def test_no_shows_use_up_the_allotment_and_the_last_one_completes_the_engagement() -> None:
    program = ProgramFactory(sessions_per_engagement=3)
    engagement = engagement_in(Status.COACH_SELECTED, program=program)
    _log(engagement, outcome=Outcome.NO_SHOW)
    _log(engagement, outcome=Outcome.LATE_CANCEL)
    assert Engagement.objects.get(pk=engagement.pk).status == Status.IN_PROGRESS
    _log(engagement)
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == Status.COMPLETED and stored.completed_at is not None
    assert AuditEvent.objects.filter(action="engagement.completed").count() == 1


def test_an_allotment_of_one_starts_and_completes_with_the_same_session() -> None:
    engagement = engagement_in(
        Status.COACH_SELECTED, program=ProgramFactory(sessions_per_engagement=1)
    )
    _log(engagement)
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == Status.COMPLETED
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["session.logged", "engagement.in_progress", "engagement.completed"]


def test_the_log_is_audited_without_the_notes() -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    session = _log(engagement, notes="Secret: thinking of resigning")
    event = AuditEvent.objects.get(action="session.logged")
    assert event.object_id == str(session.public_id)
    assert engagement.coach is not None and event.actor == engagement.coach.user
    assert event.after == {
        "engagement": str(engagement.public_id),
        "number": 1,
        "held_on": session.held_on.isoformat(),
        "duration_minutes": 60,
        "outcome": "held",
    }
    assert "resigning" not in str(AuditEvent.objects.values_list("before", "after"))


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.ON_HOLD, "while the engagement is on hold"),
        (Status.COMPLETED, "while the engagement is completed"),
        (Status.CANCELLED, "while the engagement is cancelled"),
    ],
)
def test_logging_is_refused_on_hold_completed_or_cancelled(status: str, words: str) -> None:
    engagement = engagement_in(status, coach=CoachFactory())
    engagement.refresh_from_db()
    events = AuditEvent.objects.count()
    with pytest.raises(SessionNotAllowed, match=words) as caught:
        _log(engagement)
    assert caught.value.code == "session_not_allowed"
    assert not CoachingSession.objects.exists()
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.sessions_logged, stored.last_session_on, stored.status) == (0, None, status)
    assert AuditEvent.objects.count() == events


def test_only_the_current_coach_can_log() -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    with pytest.raises(SessionNotAllowed, match="no longer the coach"):
        _log(engagement, coach=CoachFactory())
    assert not CoachingSession.objects.exists()
