"""Rating a session: held ones only, by its participant only, once, changeable for 7 days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from time_machine import TimeMachineFixture
from zeal import zeal_context

from accounts.models import AuditEvent, Role, User
from coaches.models import CoachProfile
from engagements.models import CoachingSession, Engagement
from feedback.models import SessionRating
from feedback.selectors import rateable_sessions
from feedback.services import SessionNotRateable, session_rate
from tests.accounts.test_redirects import OFF_SITE
from tests.factories import SessionFactory, UserFactory
from tests.feedback.conftest import NOTES_MARKER
from tests.responses import ClientResponse

pytestmark = pytest.mark.django_db


def rate(
    client: Client,
    session: CoachingSession,
    score: int | str,
    *,
    follow: bool = False,
    **extra: str,
) -> ClientResponse:
    return client.post(
        f"/sessions/{session.public_id}/rating/", {"score": score, **extra}, follow=follow
    )


def message_texts(response: ClientResponse) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_participant_rates_a_held_session_in_one_click(
    client: Client, engagement: Engagement, held: CoachingSession
) -> None:
    client.force_login(engagement.participant)
    response = rate(client, held, 4, next="/?tab=sessions")
    assert response.status_code == 302
    assert response["Location"] == "/?tab=sessions"
    assert SessionRating.objects.get(session=held).score == 4
    event = AuditEvent.objects.get(action="feedback.session_rated")
    assert (event.actor, event.after) == (engagement.participant, {"score": 4})
    response = client.get("/")
    assert "Thank you: session 1 rated 4 out of 5." in message_texts(response)


def test_a_rating_can_be_changed_within_seven_days(
    client: Client, engagement: Engagement, held: CoachingSession, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to("2026-03-01 10:00Z", tick=False)
    client.force_login(engagement.participant)
    rate(client, held, 2)
    time_machine.move_to("2026-03-08 09:59Z", tick=False)
    rate(client, held, 5)
    rating = SessionRating.objects.get(session=held)
    assert rating.score == 5
    assert SessionRating.objects.count() == 1  # once per session: the same rating changed
    event = AuditEvent.objects.get(action="feedback.session_rating_changed")
    assert (event.before, event.after) == ({"score": 2}, {"score": 5})


def test_after_seven_days_the_rating_is_locked(
    client: Client, engagement: Engagement, held: CoachingSession, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to("2026-03-01 10:00Z", tick=False)
    client.force_login(engagement.participant)
    rate(client, held, 2)
    time_machine.move_to("2026-03-08 10:01Z", tick=False)
    response = rate(client, held, 5, follow=True)
    assert SessionRating.objects.get(session=held).score == 2
    assert "Ratings can be changed for 7 days; this one can no longer be changed." in message_texts(
        response
    )
    assert not AuditEvent.objects.filter(action="feedback.session_rating_changed").exists()


def test_the_window_runs_from_the_first_rating_not_the_last_change(
    client: Client,
    engagement: Engagement,
    held: CoachingSession,
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to("2026-03-01 10:00Z", tick=False)
    client.force_login(engagement.participant)
    rate(client, held, 2)
    time_machine.move_to("2026-03-07 10:00Z", tick=False)
    rate(client, held, 3)
    time_machine.move_to("2026-03-09 10:00Z", tick=False)
    rate(client, held, 4)
    assert SessionRating.objects.get(session=held).score == 3


def test_a_no_show_cannot_be_rated(
    client: Client, engagement: Engagement, no_show: CoachingSession
) -> None:
    client.force_login(engagement.participant)
    response = client.post(f"/sessions/{no_show.public_id}/rating/", {"score": 3}, follow=True)
    assert "Only sessions that took place can be rated." in message_texts(response)
    assert not SessionRating.objects.exists()


def test_another_participant_gets_404_and_nothing_is_written(
    client: Client, held: CoachingSession
) -> None:
    client.force_login(UserFactory(role=Role.PARTICIPANT))
    assert rate(client, held, 5).status_code == 404
    assert not SessionRating.objects.exists()


@pytest.mark.parametrize("role", [Role.COACH, Role.STAFF, Role.SPONSOR])
def test_other_roles_cannot_rate(client: Client, held: CoachingSession, role: str) -> None:
    client.force_login(UserFactory(role=role))
    assert rate(client, held, 5).status_code == 404
    assert not SessionRating.objects.exists()


def test_the_coach_of_the_session_cannot_rate_it(
    client: Client, held: CoachingSession, coach_profile: CoachProfile
) -> None:
    client.force_login(coach_profile.user)
    assert rate(client, held, 5).status_code == 404
    assert not SessionRating.objects.exists()


@pytest.mark.parametrize("score", ["0", "6", "abc", "", "3.5"])
def test_a_score_outside_1_to_5_is_refused_with_a_message(
    client: Client, engagement: Engagement, held: CoachingSession, score: str
) -> None:
    client.force_login(engagement.participant)
    response = rate(client, held, score, follow=True)
    assert "Choose a rating from 1 to 5." in message_texts(response)
    assert not SessionRating.objects.exists()


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_foreign_next_url_is_ignored(
    client: Client, engagement: Engagement, held: CoachingSession, target: str
) -> None:
    client.force_login(engagement.participant)
    response = rate(client, held, 3, next=target)
    assert response["Location"] == "/"


def test_rating_needs_a_post(client: Client, engagement: Engagement, held: CoachingSession) -> None:
    client.force_login(engagement.participant)
    assert client.get(f"/sessions/{held.public_id}/rating/").status_code == 405


def test_the_service_refuses_someone_elses_session(held: CoachingSession) -> None:
    with pytest.raises(SessionNotRateable):
        session_rate(participant=UserFactory(), session=held, score=3)
    assert not SessionRating.objects.exists()


def render_partial(engagement: Engagement, participant: User) -> str:
    request = RequestFactory().get("/")
    request.user = participant
    with zeal_context():  # each render stands for one page view (django-zeal scope)
        sessions = list(rateable_sessions(engagement=engagement))
        return "".join(
            render_to_string("feedback/_rate_session.html", {"session": s}, request=request)
            for s in sessions
        )


def test_partial_offers_five_one_click_buttons_per_held_session(
    engagement: Engagement, held: CoachingSession, no_show: CoachingSession
) -> None:
    html = render_partial(engagement, engagement.participant)
    assert html.count('name="score"') == 5  # the no-show is not offered
    assert f"/sessions/{held.public_id}/rating/" in html
    assert "How useful was session 1" in html
    assert NOTES_MARKER not in html
    assert " style=" not in html


def test_partial_shows_the_rating_and_then_locks_it(
    engagement: Engagement, held: CoachingSession, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to("2026-03-01 10:00Z", tick=False)
    session_rate(participant=engagement.participant, session=held, score=4)
    html = render_partial(engagement, engagement.participant)
    assert 'aria-pressed="true">4' in html
    assert "you can change it until 8 Mar" in html
    time_machine.shift(timedelta(days=8))
    html = render_partial(engagement, engagement.participant)
    assert 'name="score"' not in html
    assert "You rated it 4 out of 5." in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_ratings_at_once_leave_one_rating(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    session = SessionFactory()
    participant = session.engagement.participant

    def rate_once(i: int) -> int:
        return session_rate(participant=participant, session=session, score=i + 1).pk

    results = run_in_threads(rate_once, 4)
    assert all(isinstance(r, int) for r in results), results
    assert SessionRating.objects.filter(session=session).count() == 1
    assert SessionRating.objects.get(session=session).score in {1, 2, 3, 4}
