"""Each rule that must never be broken is refused by PostgreSQL itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from coaches.models import CoachProfile
from engagements.models import CoachingSession, Engagement, Program
from tests.factories import (
    CoachFactory,
    EngagementFactory,
    ProgramFactory,
    SessionFactory,
    engagement_with_coach,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _refused(write: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_capacity_cannot_go_negative() -> None:
    coach = CoachFactory()
    _refused(lambda: CoachProfile.objects.filter(pk=coach.pk).update(capacity=-1))


def test_one_engagement_per_participant_per_program() -> None:
    engagement = EngagementFactory()
    _refused(
        lambda: Engagement.objects.create(
            participant=engagement.participant, program=engagement.program
        )
    )


def test_session_number_is_unique_per_engagement() -> None:
    session = SessionFactory(number=1)
    _refused(lambda: SessionFactory(engagement=session.engagement, coach=session.coach, number=1))


def test_the_same_number_is_fine_on_another_engagement() -> None:
    SessionFactory(number=1)
    SessionFactory(number=1)
    assert CoachingSession.objects.filter(number=1).count() == 2


@pytest.mark.parametrize("minutes", [0, 14, 241, 481])
def test_duration_must_be_within_the_forms_15_to_240_minutes(minutes: int) -> None:
    session = SessionFactory()
    _refused(lambda: CoachingSession.objects.filter(pk=session.pk).update(duration_minutes=minutes))


def test_program_must_end_after_it_starts() -> None:
    program = ProgramFactory()
    _refused(lambda: Program.objects.filter(pk=program.pk).update(ends_on=program.starts_on))
    _refused(
        lambda: Program.objects.filter(pk=program.pk).update(
            ends_on=program.starts_on - timedelta(days=1)
        )
    )


def test_an_engagement_with_a_coach_status_needs_a_coach() -> None:
    engagement = EngagementFactory()
    _refused(lambda: Engagement.objects.filter(pk=engagement.pk).update(status="in_progress"))


def test_an_invited_engagement_has_no_coach() -> None:
    engagement = engagement_with_coach()
    _refused(lambda: Engagement.objects.filter(pk=engagement.pk).update(status="invited"))


def test_unknown_status_is_refused() -> None:
    engagement = EngagementFactory()
    _refused(lambda: Engagement.objects.filter(pk=engagement.pk).update(status="lost"))
