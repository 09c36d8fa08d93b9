"""Releasing feedback in batches (feedback.services.feedback_release): under
concurrency, for both kinds of answers, and for figures people saw before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from engagements.models import Status
from feedback.models import FeedbackKind, ReleasedFeedback, SessionRating
from feedback.services import feedback_release, session_rate
from tests.factories import (
    CoachFactory,
    OrganizationFactory,
    ProgramFactory,
    SessionFactory,
    engagement_with_coach,
)
from tests.feedback.helpers import rate, survey

pytestmark = pytest.mark.django_db


def released(**subject: object) -> list[tuple[str, int, int]]:
    rows = ReleasedFeedback.objects.filter(**subject).order_by("kind")
    return [(r.kind, r.answers, r.total) for r in rows]


def test_a_release_covers_the_coach_and_the_program_of_the_answer() -> None:
    coach = CoachFactory()
    program = ProgramFactory()
    rate(coach, [5, 4, 3, 2, 1], program=program)
    assert released(coach=coach) == [(FeedbackKind.SESSION_RATINGS, 5, 15)]
    assert released(program=program) == [(FeedbackKind.SESSION_RATINGS, 5, 15)]


def test_closing_surveys_are_released_in_batches_of_their_own() -> None:
    coach = CoachFactory()
    program = ProgramFactory()
    survey(coach, [9, 8, 7, 6], program=program)
    assert released(coach=coach) == [(FeedbackKind.CLOSING_SURVEYS, 0, 0)]
    survey(coach, [10], program=program)
    assert released(program=program) == [(FeedbackKind.CLOSING_SURVEYS, 5, 40)]


def test_a_release_returns_only_what_it_released() -> None:
    coach = CoachFactory()
    program = ProgramFactory()
    rate(coach, [4, 4, 4, 4, 4], program=program)
    # Nothing new since: a second look releases nothing.
    assert (
        feedback_release(
            kind=FeedbackKind.SESSION_RATINGS, coach_id=coach.pk, program_id=program.pk
        )
        == []
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_answers_at_once_are_released_in_two_batches_of_five(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    """Each answer counts the ones committed before it: releases at exactly 5 and 10."""
    coach = CoachFactory()
    program = ProgramFactory()
    sessions = []
    for _ in range(10):
        engagement = engagement_with_coach(coach=coach, program=program)
        engagement.transition_to(Status.IN_PROGRESS)
        sessions.append(SessionFactory(engagement=engagement, coach=coach, number=1))

    def answer(i: int) -> list[int]:
        session = sessions[i]
        session_rate(participant=session.engagement.participant, session=session, score=1 + i % 5)
        return [r.answers for r in ReleasedFeedback.objects.filter(coach=coach)]

    results = run_in_threads(answer, 10)
    assert all(isinstance(r, list) for r in results), results
    assert SessionRating.objects.filter(session__coach=coach).count() == 10
    assert released(coach=coach) == [(FeedbackKind.SESSION_RATINGS, 10, 30)]
    assert released(program=program) == [(FeedbackKind.SESSION_RATINGS, 10, 30)]
    # Every reading any participant's request made: nothing, five, or ten answers.
    assert {n for r in results for n in r} <= {0, 5, 10}


# --- figures people saw before batches ----------------------------------------------

BEFORE = [("feedback", "0002_released_feedback")]


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_the_migration_releases_what_was_shown_where_the_group_is_large_enough(
    back_to_latest: None,
) -> None:
    big, small, tiny = CoachFactory(), CoachFactory(), CoachFactory()
    program = ProgramFactory()
    lenient = ProgramFactory(organization=OrganizationFactory(min_group_size=3))
    for coach, scores, in_program in (
        (big, [5, 4, 4, 3, 4, 4], program),
        (small, [2, 3], program),
        (tiny, [1, 2, 3], lenient),
    ):
        for score in scores:
            session = SessionFactory(coach=coach, engagement__program=in_program)
            SessionRating.objects.create(session=session, score=score)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    ReleasedFeedback.objects.all().delete()
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert released(coach=big) == [(FeedbackKind.SESSION_RATINGS, 6, 24)]
    assert released(coach=small) == []  # two answers: not enough
    assert released(coach=tiny) == [(FeedbackKind.SESSION_RATINGS, 3, 6)]  # the organization's 3
    assert released(program=program) == [(FeedbackKind.SESSION_RATINGS, 8, 29)]
    assert released(program=lenient) == [(FeedbackKind.SESSION_RATINGS, 3, 6)]
