"""What a participant sees of their sessions: never the notes."""

from __future__ import annotations

from datetime import date

import pytest
from django.template.loader import render_to_string
from pytest_django import DjangoAssertNumQueries

from engagements.models import CoachingSession, Engagement, Outcome, Status
from engagements.selectors import participant_session_history
from tests.engagements.helpers import engagement_in

pytestmark = pytest.mark.django_db


def _sessions(engagement: Engagement, count: int) -> None:
    CoachingSession.objects.bulk_create(
        CoachingSession(
            engagement=engagement,
            coach=engagement.coach,
            number=n,
            held_on=date(2026, 3, n % 28 + 1),
            duration_minutes=45,
            outcome=Outcome.LATE_CANCEL if n == 2 else Outcome.HELD,
            notes=f"Private note {n}",
        )
        for n in range(count, 0, -1)
    )


def test_history_lists_number_date_duration_and_outcome_in_order_and_no_notes() -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    _sessions(engagement, 3)
    engagement_in(Status.IN_PROGRESS)  # somebody else's, with no sessions

    sessions = list(participant_session_history(engagement))

    assert [s.number for s in sessions] == [1, 2, 3]
    assert all("notes" in s.get_deferred_fields() for s in sessions)
    html = render_to_string("engagements/_session_history.html", {"sessions": sessions})
    assert "2 Mar 2026" in html and "45 min" in html and "Late cancellation" in html
    assert "Private note" not in html


def test_history_only_holds_the_engagements_own_sessions() -> None:
    mine = engagement_in(Status.IN_PROGRESS)
    other = engagement_in(Status.IN_PROGRESS)
    _sessions(other, 2)
    assert list(participant_session_history(mine)) == []
    html = render_to_string("engagements/_session_history.html", {"sessions": []})
    assert "No sessions logged yet." in html


@pytest.mark.parametrize("count", [5, 200])
def test_history_renders_in_one_query(
    count: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    _sessions(engagement, count)
    with django_assert_num_queries(1):
        html = render_to_string(
            "engagements/_session_history.html",
            {"sessions": participant_session_history(engagement)},
        )
    assert html.count("<tr>") == count + 1
