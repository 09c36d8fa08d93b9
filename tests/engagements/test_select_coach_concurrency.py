"""Selection under real concurrency: PostgreSQL, one thread and connection per request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from engagements.models import ACTIVE_STATUSES, Engagement, EngagementCoach
from engagements.services import AlreadyHasCoach, CoachFull, engagement_select_coach
from tests import factories
from tests.coaches.conftest import enrol, pool

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcome(result: object) -> str:
    if isinstance(result, Engagement):
        return "won"
    if isinstance(result, CoachFull | AlreadyHasCoach):
        return result.code
    return repr(result)  # anything else is a bug and fails the assertions below


def active_count(coach_pk: int) -> int:
    return Engagement.objects.filter(coach_id=coach_pk, status__in=ACTIVE_STATUSES).count()


def test_forty_participants_for_five_seats_exactly_five_win(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    program = factories.ProgramFactory()
    (coach,) = pool(program, 1, capacity=10)
    for _ in range(5):  # five seats taken elsewhere, five left
        factories.engagement_with_coach(coach=coach)
    participants = [enrol(program).participant for _ in range(40)]

    results = run_in_threads(
        lambda i: engagement_select_coach(participant=participants[i], coach=coach), 40
    )

    counts = Counter(outcome(result) for result in results)
    assert counts == {"won": 5, "coach_full": 35}
    assert active_count(coach.pk) == coach.capacity == 10
    assert EngagementCoach.objects.filter(engagement__program=program).count() == 5


def test_two_participants_racing_for_the_last_seat_exactly_one_wins(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    program = factories.ProgramFactory()
    (coach,) = pool(program, 1, capacity=1)
    participants = [enrol(program).participant for _ in range(2)]

    results = run_in_threads(
        lambda i: engagement_select_coach(participant=participants[i], coach=coach), 2
    )

    assert sorted(outcome(result) for result in results) == ["coach_full", "won"]
    assert active_count(coach.pk) == 1


def test_a_double_submission_gives_one_coach_and_one_history_row(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    program = factories.ProgramFactory()
    coaches = pool(program, 2)
    engagement = enrol(program)
    # Four submits at once, two for each coach (a double click, a second tab).
    results = run_in_threads(
        lambda i: engagement_select_coach(participant=engagement.participant, coach=coaches[i % 2]),
        4,
    )

    assert Counter(outcome(result) for result in results) == {"won": 1, "already_has_coach": 3}
    engagement.refresh_from_db()
    assert engagement.coach in coaches
    assert engagement.status_version == 1
    assert list(
        EngagementCoach.objects.filter(engagement=engagement).values_list("coach", flat=True)
    ) == [engagement.coach_id]
