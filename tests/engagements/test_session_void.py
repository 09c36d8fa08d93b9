"""Issue 13: a session logged by mistake is voided through session_void, never deleted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from zeal import zeal_context

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from engagements import services
from engagements.models import CoachingSession, Engagement, Outcome, Status
from engagements.selectors import participant_session_history
from engagements.services import AlreadyVoided, ReasonRequired, VoidNotAllowed
from feedback.models import FeedbackKind, ReleasedFeedback, SessionRating
from feedback.selectors import rateable_sessions
from feedback.services import SessionNotRateable, session_rate
from nudges.selectors import engagement_timeline
from reports.exports import ENGAGEMENT_HEADER, SESSION_HEADER, engagement_rows, session_rows
from reports.selectors import program_report
from tests.engagements.helpers import engagement_in
from tests.factories import CoachFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def coach_of(engagement: Engagement) -> CoachProfile:
    """The engagement's coach (these tests only build engagements that have one)."""
    assert engagement.coach is not None
    return engagement.coach


def _log(engagement: Engagement, days_ago: int, outcome: str = Outcome.HELD) -> CoachingSession:
    return services.session_log(
        engagement=engagement,
        coach=coach_of(engagement),
        held_on=timezone.localdate() - timedelta(days=days_ago),
        duration_minutes=60,
        outcome=outcome,
        notes="private",
    )


def session_void(**kwargs: object) -> CoachingSession:
    """The service, as one request calls it (its own django-zeal scope)."""
    with zeal_context():
        return services.session_void(**kwargs)  # type: ignore[arg-type]


def _stored(engagement: Engagement) -> Engagement:
    return Engagement.objects.get(pk=engagement.pk)


def test_voiding_recounts_keeps_the_row_and_audits_before_and_after() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, 9)
    second = _log(engagement, 2)
    coach_user = coach_of(engagement).user

    voided = session_void(session=second, actor=coach_user, reason="  Logged twice  ")

    stored = _stored(engagement)
    assert (stored.sessions_logged, stored.last_session_on) == (
        1,
        timezone.localdate() - timedelta(days=9),
    )
    assert stored.status == Status.IN_PROGRESS
    row = CoachingSession.objects.get(pk=second.pk)
    assert (row.voided_by, row.void_reason) == (coach_user, "Logged twice")
    assert row.voided_at is not None and voided.is_voided
    event = AuditEvent.objects.get(action="session.voided")
    assert event.actor == coach_user and event.object_id == str(second.public_id)
    before, after = event.before or {}, event.after or {}
    assert (before["sessions_logged"], after["sessions_logged"]) == (2, 1)
    assert (before["status"], after["status"]) == ("in_progress", "in_progress")
    assert after["void_reason"] == "Logged twice"
    assert "notes" not in before and "notes" not in after


def test_a_voided_number_is_never_reused() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, 9)
    second = _log(engagement, 5)
    session_void(session=second, actor=coach_of(engagement).user, reason="Wrong participant")

    third = _log(engagement, 2)

    assert third.number == 3
    numbers = CoachingSession.objects.filter(engagement=engagement).values_list(
        "number", "voided_at"
    )
    assert [(n, v is not None) for n, v in numbers.order_by("number")] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    assert _stored(engagement).sessions_logged == 2


def test_voiding_below_the_allotment_reopens_a_completed_engagement() -> None:
    program = ProgramFactory(sessions_per_engagement=2)
    engagement = engagement_in(Status.COACH_SELECTED, program=program)
    _log(engagement, 9)
    last = _log(engagement, 2)
    completed = _stored(engagement)
    assert completed.status == Status.COMPLETED
    staff = UserFactory(role="staff")

    session_void(session=last, actor=staff, reason="Never took place")

    stored = _stored(engagement)
    assert (stored.status, stored.sessions_logged, stored.completed_at) == (
        Status.IN_PROGRESS,
        1,
        None,
    )
    # The entry time into in progress is the original one (report figures rely on it).
    assert stored.started_at == completed.started_at
    assert stored.status_version == completed.status_version + 1
    move = AuditEvent.objects.get(action="engagement.reopened_by_void")
    assert ((move.before or {})["status"], (move.after or {})["status"]) == (
        "completed",
        "in_progress",
    )
    assert move.actor == staff
    # A session can be logged again, and it completes the engagement once more.
    _log(engagement, 1)
    assert _stored(engagement).status == Status.COMPLETED


def test_voiding_the_only_session_goes_back_to_coach_selected() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    selected_at = _stored(engagement).coach_selected_at
    only = _log(engagement, 2)

    session_void(session=only, actor=coach_of(engagement).user, reason="Wrong engagement")

    stored = _stored(engagement)
    assert (stored.status, stored.sessions_logged, stored.last_session_on) == (
        Status.COACH_SELECTED,
        0,
        None,
    )
    assert stored.coach_selected_at == selected_at


def test_an_engagement_completed_early_on_hold_or_cancelled_keeps_its_status() -> None:
    staff = UserFactory(role="staff")
    for finish in (
        lambda e: services.engagement_complete_early(engagement=e, actor=staff, reason="Left"),
        lambda e: services.engagement_put_on_hold(engagement=e, actor=staff),
        lambda e: services.engagement_cancel(engagement=e, actor=staff, reason="Left"),
    ):
        engagement = engagement_in(Status.COACH_SELECTED)
        _log(engagement, 5)
        session = _log(engagement, 2)
        finish(engagement)
        status = _stored(engagement).status

        session_void(session=session, actor=staff, reason="Duplicate")

        assert (_stored(engagement).status, _stored(engagement).sessions_logged) == (status, 1)


def test_a_coach_voids_only_their_own_sessions_within_the_window(time_machine: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    session = _log(engagement, 1)
    other_coach = CoachFactory()
    participant = engagement.participant

    for actor in (other_coach.user, participant, UserFactory(role="sponsor")):
        with pytest.raises(VoidNotAllowed):
            session_void(session=session, actor=actor, reason="Not mine")

    time_machine.move_to(timezone.now() + services.CORRECTION_WINDOW + timedelta(minutes=1))
    with pytest.raises(VoidNotAllowed):
        session_void(session=session, actor=coach_of(engagement).user, reason="Too late")
    assert not CoachingSession.objects.get(pk=session.pk).is_voided
    assert _stored(engagement).sessions_logged == 1
    assert not AuditEvent.objects.filter(action="session.voided").exists()

    # Staff may void any session, at any time.
    session_void(session=session, actor=UserFactory(role="staff"), reason="Asked by the coach")
    assert _stored(engagement).sessions_logged == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_void_without_a_reason_is_refused_and_changes_nothing(reason: str) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    session = _log(engagement, 1)
    with pytest.raises(ReasonRequired):
        session_void(session=session, actor=coach_of(engagement).user, reason=reason)
    assert not CoachingSession.objects.get(pk=session.pk).is_voided


def test_a_session_is_voided_once() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, 3)
    session = _log(engagement, 1)
    session_void(session=session, actor=coach_of(engagement).user, reason="Duplicate")
    events = AuditEvent.objects.count()

    with pytest.raises(AlreadyVoided):
        session_void(session=session, actor=UserFactory(role="staff"), reason="Again")

    assert AuditEvent.objects.count() == events
    assert _stored(engagement).sessions_logged == 1


def test_a_voided_session_on_a_date_needs_no_same_date_confirmation() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    wrong = _log(engagement, 2)
    session_void(session=wrong, actor=coach_of(engagement).user, reason="Wrong duration")
    assert _log(engagement, 2).number == 2


def test_a_voided_session_counts_nowhere() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    kept = _log(engagement, 9)
    voided = _log(engagement, 2)
    session_void(session=voided, actor=coach_of(engagement).user, reason="Duplicate")

    assert [s.pk for s in participant_session_history(engagement)] == [kept.pk]
    assert [s.pk for s in rateable_sessions(engagement=engagement)] == [kept.pk]
    report = program_report(program=engagement.program)
    assert report.sessions_held == 1
    assert sum(week.held for week in report.weeks) == 1
    number, held = SESSION_HEADER.index("number"), ENGAGEMENT_HEADER.index("sessions held")
    assert [row[number] for row in session_rows(program=engagement.program)] == [1]
    assert [row[held] for row in engagement_rows(program=engagement.program)] == [1]
    with pytest.raises(SessionNotRateable):
        session_rate(
            participant=engagement.participant,
            session=CoachingSession.objects.get(pk=voided.pk),
            score=5,
        )


def test_ratings_of_a_voided_session_stop_counting_at_the_next_release(settings: Any) -> None:
    settings.MIN_GROUP_SIZE = 3
    coach = CoachFactory()
    engagements = [engagement_in(Status.COACH_SELECTED, coach=coach) for _ in range(7)]
    sessions = [_log(e, 1) for e in engagements]
    for session in sessions[:3]:
        session_rate(participant=session.engagement.participant, session=session, score=1)
    released = ReleasedFeedback.objects.get(coach=coach, kind=FeedbackKind.SESSION_RATINGS)
    assert (released.answers, released.total) == (3, 3)

    session_void(session=sessions[0], actor=coach.user, reason="Never took place")
    # Voiding releases nothing by itself: the figure stays until the next batch.
    released.refresh_from_db()
    assert (released.answers, released.total) == (3, 3)

    for session in sessions[3:7]:
        session_rate(participant=session.engagement.participant, session=session, score=5)
    released.refresh_from_db()
    # 2 of the first batch still count, and the 4 new ones: the voided rating is gone.
    assert (released.answers, released.total) == (6, 2 + 20)
    assert SessionRating.objects.count() == 7  # the rating itself is kept


# --- The coach's page -----------------------------------------------------------


def _void_url(session: CoachingSession) -> str:
    return reverse(
        "coach_session_void",
        kwargs={"public_id": session.engagement.public_id, "session_id": session.public_id},
    )


def _page(engagement: Engagement) -> str:
    return reverse("coach_engagement", kwargs={"public_id": engagement.public_id})


def test_a_coach_voids_a_session_from_its_page_with_a_reason(client: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, 9)
    second = _log(engagement, 2)
    client.force_login(coach_of(engagement).user)
    page = client.get(_page(engagement)).content.decode()
    assert _void_url(second) in page

    empty = client.post(_void_url(second), {"reason": "  "})
    assert empty.status_code == 400 and "Give a reason" in empty.content.decode()
    assert not CoachingSession.objects.get(pk=second.pk).is_voided

    done = client.post(_void_url(second), {"reason": "Logged twice"}, follow=True)

    assert done.redirect_chain == [(_page(engagement), 302)]
    html = done.content.decode()
    assert "Session 2 voided." in html
    assert 'class="voided"' in html and "Logged twice" in html
    assert "1 of 6" in html
    assert _void_url(second) not in html  # voided once


def test_the_void_link_is_gone_after_the_window_and_the_page_refuses(
    client: Any, time_machine: Any
) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    session = _log(engagement, 1)
    client.force_login(coach_of(engagement).user)
    time_machine.move_to(timezone.now() + services.CORRECTION_WINDOW + timedelta(hours=1))

    assert _void_url(session) not in client.get(_page(engagement)).content.decode()
    response = client.post(_void_url(session), {"reason": "late"}, follow=True)
    assert "void their own sessions for 7 days" in response.content.decode()
    assert not CoachingSession.objects.get(pk=session.pk).is_voided


def test_another_coach_or_the_participant_gets_a_404(client: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    session = _log(engagement, 1)
    for user in (CoachFactory().user, engagement.participant):
        client.force_login(user)
        assert client.post(_void_url(session), {"reason": "x"}).status_code == 404
    assert not CoachingSession.objects.get(pk=session.pk).is_voided


def test_the_participant_never_sees_a_voided_session_as_held(client: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, 9)
    voided = _log(engagement, 2)
    session_void(session=voided, actor=coach_of(engagement).user, reason="Duplicate entry")
    client.force_login(engagement.participant)

    html = client.get(reverse("home")).content.decode()

    assert "1 of 6" in html
    assert "Duplicate entry" not in html
    assert str(voided.public_id) not in html


def test_staffs_timeline_marks_a_voided_session_with_its_reason() -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    _log(engagement, 9)
    voided = _log(engagement, 2)
    session_void(session=voided, actor=UserFactory(role="staff"), reason="Duplicate entry")

    titles = [entry.title for entry in engagement_timeline(_stored(engagement), [])]

    assert "Session 2 logged: held (voided: Duplicate entry)" in titles
    assert "Session 1 logged: held" in titles
