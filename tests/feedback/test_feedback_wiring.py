"""The feedback partials appear where participants and coaches will find them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from engagements import services
from engagements.models import Outcome, Status
from tests import factories

pytestmark = pytest.mark.django_db


def test_participant_home_offers_a_rating_for_each_held_session(client: Client) -> None:
    coach = factories.CoachFactory()
    engagement = factories.engagement_with_coach(coach=coach)
    services.session_log(
        engagement=engagement,
        coach=coach,
        held_on=engagement.program.starts_on,
        duration_minutes=60,
        outcome=Outcome.HELD,
        notes="",
    )
    client.force_login(engagement.participant)
    body = client.get("/").content.decode()
    assert "How useful was session 1" in body
    assert 'name="score" value="5"' in body
    # The panel is rendered by a template tag; its forms still lead back to this page.
    assert '<input type="hidden" name="next" value="/">' in body


def test_a_completed_engagement_invites_the_closing_survey(client: Client) -> None:
    coach = factories.CoachFactory()
    engagement = factories.engagement_with_coach(
        coach=coach, program=factories.ProgramFactory(sessions_per_engagement=1)
    )
    services.session_log(
        engagement=engagement,
        coach=coach,
        held_on=engagement.program.starts_on,
        duration_minutes=60,
        outcome=Outcome.HELD,
        notes="",
    )
    engagement.refresh_from_db()
    assert engagement.status == Status.COMPLETED
    client.force_login(engagement.participant)
    body = client.get("/").content.decode()
    assert f"/engagements/{engagement.public_id}/survey/" in body


def test_coach_workspace_shows_the_coach_their_own_averages(client: Client) -> None:
    coach = factories.CoachFactory()
    client.force_login(coach.user)
    body = client.get("/coach/").content.decode()
    assert "Your feedback" in body
    assert "Average session rating" in body


@pytest.mark.parametrize("count", [1, 6])
@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.COMPLETED])
def test_participant_home_with_feedback_costs_the_same_for_any_number_of_sessions(
    client: Client,
    django_assert_num_queries: DjangoAssertNumQueries,
    count: int,
    status: Status,
) -> None:
    coach = factories.CoachFactory()
    # The last session of the allotment completes the engagement.
    allotment = count if status == Status.COMPLETED else count + 1
    engagement = factories.engagement_with_coach(
        coach=coach, program=factories.ProgramFactory(sessions_per_engagement=allotment)
    )
    for i in range(count):
        services.session_log(
            engagement=engagement,
            coach=coach,
            held_on=engagement.program.starts_on + timedelta(days=i),
            duration_minutes=60,
            outcome=Outcome.HELD,
            notes="",
        )
    engagement.refresh_from_db()
    assert engagement.status == status
    client.force_login(engagement.participant)
    # user (first request: the session is in the cache since the login),
    # current engagement with program and coach, the coach's specialties and
    # languages (one query), session history (the tally is read from it),
    # rateable sessions, and on a completed engagement whether the closing
    # survey is answered; the next booked session (scheduling's panel).
    expected = 6 + (status == Status.COMPLETED)
    with django_assert_num_queries(expected):
        body = client.get("/").content.decode()
    assert body.count("How useful was session") == count
