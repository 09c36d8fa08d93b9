"""One click after the end time logs the session through session_log, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from accounts.models import AuditEvent
from engagements.models import CoachingSession, Engagement, Status
from scheduling.models import ScheduledSession, SessionStatus
from scheduling.services import ConfirmationNotAllowed, booking_confirm
from tests.factories import CoachFactory, UserFactory, engagement_with_coach

pytestmark = pytest.mark.django_db

# 23:30 UTC on 9 December is 00:30 on 10 December in Paris, the coach's time zone.
START = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)
AFTER = START + timedelta(hours=2)


def _booking(engagement: Any, **fields: Any) -> ScheduledSession:
    return ScheduledSession.objects.create(
        coach=engagement.coach,
        engagement=engagement,
        provider="calendly",
        provider_booking_id=fields.pop("ref", "inv-1"),
        attendee_email="pia@client.example",
        starts_at=fields.pop("start", START),
        ends_at=fields.pop("end", START + timedelta(minutes=50)),
        **fields,
    )


def _url(booking: ScheduledSession) -> str:
    return f"/coach/bookings/{booking.public_id}/confirm/"


@time_machine.travel(AFTER, tick=False)
@pytest.mark.parametrize("outcome", ["held", "no_show", "late_cancel"])
def test_one_click_logs_the_booked_date_and_duration(
    client: Any, coach_profile: Any, outcome: str
) -> None:
    engagement = engagement_with_coach(coach=coach_profile)  # coach_selected
    booking = _booking(engagement)
    client.force_login(coach_profile.user)
    assert "Did this session happen?" in client.get("/coach/").content.decode()

    response = client.post(_url(booking), {"outcome": outcome})

    assert response.status_code == 302
    (session,) = CoachingSession.objects.filter(engagement=engagement)
    assert (session.number, session.held_on, session.duration_minutes, session.outcome) == (
        1,
        date(2026, 12, 10),
        50,
        outcome,
    )
    booking.refresh_from_db()
    assert booking.confirmed_session == session
    engagement.refresh_from_db()
    # The same transitions, counters and audit as a typed session.
    assert engagement.status == Status.IN_PROGRESS and engagement.sessions_logged == 1
    assert AuditEvent.objects.filter(action="session.logged").count() == 1
    assert "Did this session happen?" not in client.get("/coach/").content.decode()


@time_machine.travel(AFTER, tick=False)
def test_notes_can_be_added_afterwards_through_the_correction_form(
    client: Any, engagement: Any
) -> None:
    booking = _booking(engagement)
    client.force_login(engagement.coach.user)
    client.post(_url(booking), {"outcome": "held"})
    session = CoachingSession.objects.get(engagement=engagement)
    edit = f"/coach/engagements/{engagement.public_id}/sessions/{session.public_id}/edit/"
    assert client.get(edit).status_code == 200


@time_machine.travel(AFTER, tick=False)
def test_the_last_allotted_session_completes_the_engagement(client: Any, engagement: Any) -> None:
    Engagement.objects.filter(pk=engagement.pk).update(sessions_logged=5)
    booking = _booking(engagement)
    booking_confirm(scheduled=booking, coach=engagement.coach, outcome="held")
    engagement.refresh_from_db()
    assert engagement.status == Status.COMPLETED


@time_machine.travel(AFTER, tick=False)
def test_a_second_click_is_refused_and_logs_nothing_more(client: Any, engagement: Any) -> None:
    booking = _booking(engagement)
    client.force_login(engagement.coach.user)
    client.post(_url(booking), {"outcome": "held"})
    response = client.post(_url(booking), {"outcome": "no_show"}, follow=True)
    assert "already confirmed" in response.content.decode()
    assert CoachingSession.objects.filter(engagement=engagement).count() == 1


def test_a_session_that_has_not_ended_cannot_be_confirmed(engagement: Any) -> None:
    with time_machine.travel(START + timedelta(minutes=49), tick=False):
        booking = _booking(engagement)
        with pytest.raises(ConfirmationNotAllowed, match="not ended"):
            booking_confirm(scheduled=booking, coach=engagement.coach, outcome="held")
    assert not CoachingSession.objects.exists()


@time_machine.travel(AFTER, tick=False)
def test_a_cancelled_booking_cannot_be_confirmed(engagement: Any) -> None:
    booking = _booking(engagement, status=SessionStatus.CANCELLED)
    with pytest.raises(ConfirmationNotAllowed, match="cancelled"):
        booking_confirm(scheduled=booking, coach=engagement.coach, outcome="held")
    assert not CoachingSession.objects.exists()


@time_machine.travel(AFTER, tick=False)
def test_an_engagement_on_hold_refuses_like_the_form_does(client: Any, engagement: Any) -> None:
    booking = _booking(engagement)
    engagement.transition_to(Status.ON_HOLD)
    client.force_login(engagement.coach.user)
    response = client.post(_url(booking), {"outcome": "held"}, follow=True)
    assert "cannot be logged while the engagement is on hold" in response.content.decode()
    assert not CoachingSession.objects.exists()


@time_machine.travel(AFTER, tick=False)
@pytest.mark.parametrize("outcome", ["", "done", "HELD"])
def test_an_unknown_outcome_is_a_400(client: Any, engagement: Any, outcome: str) -> None:
    booking = _booking(engagement)
    client.force_login(engagement.coach.user)
    response = client.post(_url(booking), {"outcome": outcome})
    assert response.status_code == 400
    assert "Choose held, no-show or late cancel." in response.content.decode()
    assert not CoachingSession.objects.exists()


@time_machine.travel(AFTER, tick=False)
def test_another_coach_gets_a_404(client: Any, engagement: Any) -> None:
    booking = _booking(engagement)
    client.force_login(CoachFactory().user)
    assert client.post(_url(booking), {"outcome": "held"}).status_code == 404
    client.force_login(UserFactory())
    assert client.post(_url(booking), {"outcome": "held"}).status_code == 404
    assert not CoachingSession.objects.exists()


@time_machine.travel(AFTER, tick=False)
def test_confirming_is_post_only(client: Any, engagement: Any) -> None:
    booking = _booking(engagement)
    client.force_login(engagement.coach.user)
    assert client.get(_url(booking)).status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_click_confirms_once(run_in_threads: Any) -> None:
    coach = CoachFactory(time_zone="Europe/Paris")
    engagement = engagement_with_coach(coach=coach)
    booking = _booking(engagement)

    def click(i: int) -> str:
        try:
            booking_confirm(scheduled=booking, coach=coach, outcome="held", now=AFTER)
        except ConfirmationNotAllowed as refused:
            return refused.message
        return "logged"

    results = run_in_threads(click, 2)
    assert sorted(results) == ["This session is already confirmed.", "logged"]
    assert CoachingSession.objects.filter(engagement=engagement).count() == 1
    engagement.refresh_from_db()
    assert engagement.sessions_logged == 1


@time_machine.travel(AFTER, tick=False)
def test_a_session_typed_by_hand_on_the_booked_date_is_confirmed_not_logged_twice(
    engagement: Any,
) -> None:
    typed = CoachingSession.objects.create(
        engagement=engagement,
        coach=engagement.coach,
        number=1,
        held_on=date(2026, 12, 10),
        duration_minutes=45,
    )
    Engagement.objects.filter(pk=engagement.pk).update(sessions_logged=1)
    booking = _booking(engagement)

    assert booking_confirm(scheduled=booking, coach=engagement.coach, outcome="held") == typed

    assert CoachingSession.objects.filter(engagement=engagement).count() == 1
    booking.refresh_from_db()
    assert booking.confirmed_session == typed
    engagement.refresh_from_db()
    assert engagement.sessions_logged == 1


@time_machine.travel(AFTER, tick=False)
def test_a_booking_shorter_than_a_session_may_be_is_logged_at_the_shortest_length(
    engagement: Any,
) -> None:
    booking = _booking(engagement, end=START + timedelta(minutes=10))
    session = booking_confirm(scheduled=booking, coach=engagement.coach, outcome="held")
    assert session.duration_minutes == 15
