"""The coach's workspace, engagement page and session correction, through HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries
from time_machine import TimeMachineFixture

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from engagements.forms import session_submission_key
from engagements.models import CoachingSession, Engagement, Outcome, Status
from engagements.selectors import coach_session_history
from nudges.models import FlagKind, NudgeFlag
from tests.engagements.helpers import engagement_in
from tests.factories import CoachFactory, ProgramFactory, UserFactory
from tests.responses import ClientResponse

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 14, 12, 0, tzinfo=UTC)
TODAY = date(2026, 5, 14)


@pytest.fixture(autouse=True)
def frozen(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def coach_client(client: Client, coach: CoachProfile) -> Client:
    client.force_login(coach.user)
    return client


def _page(engagement: Engagement) -> str:
    return reverse("coach_engagement", kwargs={"public_id": engagement.public_id})


def _edit(engagement: Engagement, session: CoachingSession) -> str:
    return reverse(
        "coach_session_edit",
        kwargs={"public_id": engagement.public_id, "session_id": session.public_id},
    )


def _valid(**overrides: object) -> dict[str, object]:
    return {
        "held_on": (TODAY - timedelta(days=1)).isoformat(),
        "duration_minutes": "60",
        "outcome": "held",
        "notes": "Worked on feedback conversations.",
        **overrides,
    }


def _log(engagement: Engagement, client: Client, **overrides: object) -> ClientResponse:
    """Post the log form as a fresh rendering of it would (its own one-time key)."""
    key = session_submission_key(engagement)
    return client.post(_page(engagement), _valid(submission_key=key, **overrides))


# --- Workspace ---------------------------------------------------------------


def test_workspace_lists_own_engagements_active_first_with_progress_and_open_flags(
    coach_client: Client, coach: CoachProfile
) -> None:
    done = engagement_in(Status.COMPLETED, coach=coach, participant__full_name="Aaron Done")
    active = engagement_in(Status.IN_PROGRESS, coach=coach, participant__full_name="Zoe Active")
    Engagement.objects.filter(pk=active.pk).update(
        sessions_logged=2, last_session_on=date(2026, 5, 2)
    )
    NudgeFlag.objects.create(engagement=active, kind=FlagKind.STALLED)
    NudgeFlag.objects.create(engagement=active, kind=FlagKind.BEHIND_SCHEDULE)
    NudgeFlag.objects.create(engagement=active, kind=FlagKind.NO_FIRST_SESSION, resolved_at=NOW)
    engagement_in(Status.IN_PROGRESS, participant__full_name="Someone Elses")

    response = coach_client.get("/coach/")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("Zoe Active") < body.index("Aaron Done")  # active first
    assert "Someone Elses" not in body
    assert "2 of 6" in body and "2 May 2026" in body
    assert '<span class="badge badge-warn">2</span>' in body
    rows = {e.pk: e.open_flags for e in response.context["engagements"]}
    assert rows == {active.pk: 2, done.pk: 0}


def test_workspace_filters_by_status(coach_client: Client, coach: CoachProfile) -> None:
    engagement_in(Status.IN_PROGRESS, coach=coach, participant__full_name="Ina Progress")
    engagement_in(Status.ON_HOLD, coach=coach, participant__full_name="Olga Hold")
    response = coach_client.get("/coach/", {"status": "on_hold"})
    body = response.content.decode()
    assert "Olga Hold" in body and "Ina Progress" not in body


def test_workspace_refuses_an_unknown_status_filter_with_a_message(coach_client: Client) -> None:
    response = coach_client.get("/coach/", {"status": "lost"})
    assert response.status_code == 400
    assert "Choose a status from the list." in response.content.decode()


@pytest.mark.parametrize("count", [5, 200])
def test_workspace_query_count_does_not_grow(
    count: int,
    coach_client: Client,
    coach: CoachProfile,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    program = ProgramFactory()
    for _ in range(count):
        engagement = engagement_in(Status.IN_PROGRESS, coach=coach, program=program)
        NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.STALLED)
    # user (then cached; the session is cached at sign-in), coach profile, engagements
    # with their flags counted, the coach's
    # released feedback (1; it was 2 live aggregates), the bookings to confirm and the
    # upcoming ones (scheduling's panel, 2)
    with django_assert_num_queries(6):
        response = coach_client.get("/coach/")
    assert len(response.context["engagements"]) == count


# --- Access --------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/coach/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_every_coach_url_is_a_404_for_another_coach_or_a_participant(
    client: Client, coach: CoachProfile
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS, coach=coach)
    session = CoachingSession.objects.create(
        engagement=engagement, coach=coach, number=1, held_on=TODAY, duration_minutes=60
    )
    urls = [_page(engagement), _edit(engagement, session)]
    outsiders = [
        CoachFactory().user,
        engagement.participant,
        UserFactory(role="participant"),
        UserFactory(role="sponsor"),
        UserFactory(role="staff"),
    ]
    for user in outsiders:
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user.role, url)
            assert client.post(url, _valid()).status_code == 404, (user.role, url)
        if user.role != "coach":
            assert client.get("/coach/").status_code == 404
    assert CoachingSession.objects.count() == 1


def test_a_coach_account_without_a_profile_gets_404(client: Client) -> None:
    client.force_login(UserFactory(role="coach"))
    assert client.get("/coach/").status_code == 404


def test_an_unknown_engagement_id_is_a_404(coach_client: Client) -> None:
    url = "/coach/engagements/6f1c1d5e-2f43-4d7e-9a5b-1f0c4e3f9a11/"
    assert coach_client.get(url).status_code == 404
    assert coach_client.get("/coach/engagements/12/").status_code == 404


def test_a_previous_coachs_notes_are_hidden_from_the_new_coach(
    client: Client, coach: CoachProfile
) -> None:
    first = CoachFactory()
    engagement = engagement_in(Status.IN_PROGRESS, coach=first)
    CoachingSession.objects.create(
        engagement=engagement,
        coach=first,
        number=1,
        held_on=TODAY,
        duration_minutes=60,
        notes="Private to the first coach",
    )
    Engagement.objects.filter(pk=engagement.pk).update(status=Status.ON_HOLD, coach=coach)

    client.force_login(coach.user)
    body = client.get(_page(engagement)).content.decode()

    assert "Private to the first coach" not in body
    assert "Logged by a previous coach" in body


def test_the_history_never_loads_a_previous_coachs_notes(coach: CoachProfile) -> None:
    first = CoachFactory()
    engagement = engagement_in(Status.IN_PROGRESS, coach=coach)
    for number, author in ((1, first), (2, coach)):
        CoachingSession.objects.create(
            engagement=engagement,
            coach=author,
            number=number,
            held_on=TODAY,
            duration_minutes=60,
            notes=f"Notes of session {number}",
        )

    history = list(coach_session_history(coach=coach, engagement=engagement))

    assert [s.own_notes for s in history] == ["", "Notes of session 2"]
    assert all("notes" in s.get_deferred_fields() for s in history)


# --- Engagement page and logging -------------------------------------------------


def test_engagement_page_shows_participant_program_history_and_own_notes(
    coach_client: Client, coach: CoachProfile
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS, coach=coach, participant__full_name="Ada Park")
    CoachingSession.objects.create(
        engagement=engagement,
        coach=coach,
        number=1,
        held_on=date(2026, 5, 4),
        duration_minutes=45,
        outcome=Outcome.NO_SHOW,
        notes="Did not join",
    )
    body = coach_client.get(_page(engagement)).content.decode()
    for text in ["Ada Park", engagement.program.name, "4 May 2026", "45 min", "No-show"]:
        assert text in body
    assert "Did not join" in body
    assert '<label for="id_held_on">' in body


def test_logging_a_session_through_the_form(coach_client: Client, coach: CoachProfile) -> None:
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)

    response = _log(engagement, coach_client)

    assert response.status_code == 302 and response["Location"] == _page(engagement)
    session = CoachingSession.objects.get()
    assert (session.number, session.coach, session.duration_minutes) == (1, coach, 60)
    assert Engagement.objects.get(pk=engagement.pk).status == Status.IN_PROGRESS
    page = coach_client.get(_page(engagement)).content.decode()
    assert "Session 1 logged." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"held_on": "2026-05-15"}, "The date cannot be in the future."),
        ({"held_on": "2026-04-13"}, "The date cannot be before the program starts"),
        ({"held_on": "14/05/2026"}, "Enter the date as YYYY-MM-DD."),
        ({"held_on": ""}, "Enter the date of the session."),
        ({"duration_minutes": "0"}, "A session lasts at least 15 minutes."),
        ({"duration_minutes": "14"}, "A session lasts at least 15 minutes."),
        ({"duration_minutes": "241"}, "A session lasts at most 240 minutes"),
        ({"duration_minutes": "-5"}, "A session lasts at least 15 minutes."),
        ({"duration_minutes": "sixty"}, "Enter the duration as a whole number of minutes."),
        ({"duration_minutes": ""}, "Enter how long the session lasted, in minutes."),
        ({"outcome": "rescheduled"}, "Choose what happened"),
        ({"outcome": ""}, "Choose what happened"),
        ({"notes": "x" * 10_001}, "Ensure this value has at most 10000 characters"),
    ],
)
def test_bad_session_values_get_a_clear_message_and_write_nothing(
    overrides: dict, message: str, coach_client: Client, coach: CoachProfile
) -> None:
    program = ProgramFactory(starts_on=date(2026, 4, 14))
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach, program=program)
    events = AuditEvent.objects.count()

    response = _log(engagement, coach_client, **overrides)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CoachingSession.objects.exists()
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.sessions_logged) == (Status.COACH_SELECTED, 0)
    assert AuditEvent.objects.count() == events


def test_missing_fields_are_each_named(coach_client: Client, coach: CoachProfile) -> None:
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    response = coach_client.post(_page(engagement), {})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter the date of the session." in body
    assert "Enter how long the session lasted" in body
    assert "Choose what happened" in body
    assert not CoachingSession.objects.exists()


def test_the_first_and_last_days_allowed_are_accepted(
    coach_client: Client, coach: CoachProfile
) -> None:
    program = ProgramFactory(starts_on=date(2026, 4, 14))
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach, program=program)
    assert (
        _log(engagement, coach_client, held_on="2026-04-14", duration_minutes="15").status_code
        == 302
    )
    assert (
        _log(engagement, coach_client, held_on="2026-05-14", duration_minutes="240").status_code
        == 302
    )
    assert CoachingSession.objects.count() == 2


def test_today_is_the_coachs_own_day(client: Client) -> None:
    # 12:00 UTC on 14 May is already 15 May on Kiritimati (UTC+14).
    coach = CoachFactory(time_zone="Pacific/Kiritimati")
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    client.force_login(coach.user)
    assert _log(engagement, client, held_on="2026-05-15").status_code == 302
    assert _log(engagement, client, held_on="2026-05-16").status_code == 400


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.ON_HOLD, "on hold"),
        (Status.COMPLETED, "completed"),
        (Status.CANCELLED, "cancelled"),
    ],
)
def test_logging_on_a_closed_or_paused_engagement_is_refused_with_a_message(
    status: str, words: str, coach_client: Client, coach: CoachProfile
) -> None:
    engagement = engagement_in(status, coach=coach)
    page = coach_client.get(_page(engagement)).content.decode()
    assert f"Sessions cannot be logged while the engagement is {words}." in page
    assert "<button" not in page.split('id="log-title"')[1]

    response = _log(engagement, coach_client)

    assert response.status_code == 409
    assert f"Sessions cannot be logged while the engagement is {words}." in (
        response.content.decode()
    )
    assert not CoachingSession.objects.exists()


@pytest.mark.parametrize("count", [5, 200])
def test_engagement_page_query_count_does_not_grow(
    count: int,
    coach_client: Client,
    coach: CoachProfile,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS, coach=coach)
    CoachingSession.objects.bulk_create(
        CoachingSession(
            engagement=engagement,
            coach=coach,
            number=n,
            held_on=TODAY,
            duration_minutes=60,
            notes=f"n{n}",
        )
        for n in range(1, count + 1)
    )
    # user (then cached; the session is cached at sign-in), coach profile, engagement
    # with participant and program, sessions, and the coach's usual duration
    with django_assert_num_queries(5):
        response = coach_client.get(_page(engagement))
    assert len(response.context["sessions"]) == count


# --- The form's starting values ---------------------------------------------------


def _starting_values(client: Client, engagement: Engagement) -> tuple[str, str]:
    form = client.get(_page(engagement)).context["form"]
    body = form.as_div()
    date_value = body.split('name="held_on"')[1].split('value="')[1].split('"')[0]
    duration = body.split('name="duration_minutes"')[1].split('value="')[1].split('"')[0]
    return date_value, duration


def test_a_new_coachs_form_starts_with_today_and_an_hour(
    coach_client: Client, coach: CoachProfile
) -> None:
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    assert _starting_values(coach_client, engagement) == ("2026-05-14", "60")


def test_the_form_starts_on_the_coachs_own_today(client: Client) -> None:
    # 12:00 UTC on 14 May is already 15 May on Kiritimati (UTC+14), still 14 May in Paris.
    coach = CoachFactory(time_zone="Pacific/Kiritimati")
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    client.force_login(coach.user)
    assert _starting_values(client, engagement)[0] == "2026-05-15"


def test_the_form_starts_with_the_duration_the_coach_logs_most_often(
    coach_client: Client, coach: CoachProfile, time_machine: TimeMachineFixture
) -> None:
    other = engagement_in(Status.IN_PROGRESS, coach=coach)
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    for number, minutes in enumerate([45, 90, 45, 30], start=1):
        time_machine.move_to(NOW + timedelta(minutes=number), tick=False)
        _log(other, coach_client, duration_minutes=str(minutes))
    assert _starting_values(coach_client, engagement)[1] == "45"
    # Another coach's habits do not count.
    someone = engagement_in(Status.IN_PROGRESS)
    assert someone.coach is not None
    CoachingSession.objects.create(
        engagement=someone, coach=someone.coach, number=1, held_on=TODAY, duration_minutes=120
    )
    assert _starting_values(coach_client, engagement)[1] == "45"


def test_a_tie_goes_to_the_duration_logged_last(
    coach_client: Client, coach: CoachProfile, time_machine: TimeMachineFixture
) -> None:
    other = engagement_in(Status.IN_PROGRESS, coach=coach)
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    for number, minutes in enumerate([45, 90, 45, 90], start=1):
        time_machine.move_to(NOW + timedelta(minutes=number), tick=False)
        _log(other, coach_client, duration_minutes=str(minutes), confirm_same_date="on")
    assert _starting_values(coach_client, engagement)[1] == "90"


def test_only_the_last_ten_sessions_count(
    coach_client: Client, coach: CoachProfile, time_machine: TimeMachineFixture
) -> None:
    other = engagement_in(Status.IN_PROGRESS, coach=coach)
    Engagement.objects.filter(pk=other.pk).update(
        program=ProgramFactory(sessions_per_engagement=20)
    )
    other.refresh_from_db()
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    for number, minutes in enumerate([60] * 8 + [45] * 6 + [90] * 4, start=1):
        time_machine.move_to(NOW + timedelta(minutes=number), tick=False)
        logged = _log(other, coach_client, duration_minutes=str(minutes), confirm_same_date="on")
        assert logged.status_code == 302
    # 60 is the most frequent of all, 45 of the last ten.
    assert _starting_values(coach_client, engagement)[1] == "45"


def test_a_bad_submission_keeps_what_the_coach_typed_not_the_defaults(
    coach_client: Client, coach: CoachProfile
) -> None:
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    response = _log(engagement, coach_client, held_on="2026-05-10", duration_minutes="14")
    body = response.content.decode()
    assert response.status_code == 400
    assert 'value="2026-05-10"' in body and 'value="14"' in body


# --- Correcting the most recent session ------------------------------------------


Logged = tuple[Engagement, CoachingSession]  # the engagement and its latest session


@pytest.fixture
def logged(coach_client: Client, coach: CoachProfile) -> Logged:
    engagement = engagement_in(Status.COACH_SELECTED, coach=coach)
    _log(engagement, coach_client, held_on="2026-05-10", notes="first")
    _log(engagement, coach_client, held_on="2026-05-12", notes="secret words")
    return engagement, CoachingSession.objects.get(engagement=engagement, number=2)


def test_the_latest_session_can_be_corrected_and_the_change_is_audited_without_notes(
    coach_client: Client, logged: Logged
) -> None:
    engagement, session = logged
    assert "Correct</a>" in coach_client.get(_page(engagement)).content.decode()
    form = coach_client.get(_edit(engagement, session)).content.decode()
    assert 'value="2026-05-12"' in form and "secret words" in form

    response = coach_client.post(
        _edit(engagement, session),
        _valid(held_on="2026-05-13", duration_minutes="90", outcome="late_cancel", notes="new"),
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.held_on, session.duration_minutes, session.outcome, session.notes) == (
        date(2026, 5, 13),
        90,
        "late_cancel",
        "new",
    )
    assert Engagement.objects.get(pk=engagement.pk).last_session_on == date(2026, 5, 13)
    event = AuditEvent.objects.get(action="session.corrected")
    assert event.before is not None and event.after is not None
    assert event.before["held_on"] == "2026-05-12" and event.after["held_on"] == "2026-05-13"
    assert (event.before["duration_minutes"], event.after["duration_minutes"]) == (60, 90)
    assert event.after["notes_changed"] is True
    assert "secret" not in str(event.before) + str(event.after)
    assert "new" not in str(event.after.values())


def test_moving_the_latest_session_earlier_moves_the_last_session_date_back(
    coach_client: Client, logged: Logged
) -> None:
    engagement, session = logged
    coach_client.post(_edit(engagement, session), _valid(held_on="2026-05-01"))
    assert Engagement.objects.get(pk=engagement.pk).last_session_on == date(2026, 5, 10)


def test_an_earlier_session_cannot_be_corrected(coach_client: Client, logged: Logged) -> None:
    engagement, _ = logged
    first = CoachingSession.objects.get(engagement=engagement, number=1)
    response = coach_client.post(_edit(engagement, first), _valid(duration_minutes="30"))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.duration_minutes == 60
    page = coach_client.get(_page(engagement)).content.decode()
    assert "Only the most recent session can be corrected" in page
    assert not AuditEvent.objects.filter(action="session.corrected").exists()


def test_the_correction_window_closes_after_seven_days(
    coach_client: Client, logged: Logged, time_machine: TimeMachineFixture
) -> None:
    engagement, session = logged
    time_machine.move_to(NOW + timedelta(days=7, seconds=1), tick=False)
    assert "Correct</a>" not in coach_client.get(_page(engagement)).content.decode()
    response = coach_client.post(_edit(engagement, session), _valid(duration_minutes="30"))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.duration_minutes == 60


def test_bad_corrections_get_a_message_and_change_nothing(
    coach_client: Client, logged: Logged
) -> None:
    engagement, session = logged
    response = coach_client.post(_edit(engagement, session), _valid(duration_minutes="241"))
    assert response.status_code == 400
    assert "A session lasts at most 240 minutes" in response.content.decode()
    session.refresh_from_db()
    assert session.duration_minutes == 60
    assert not AuditEvent.objects.filter(action="session.corrected").exists()
