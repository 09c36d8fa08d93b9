"""The ops engagement page at /ops/engagements/<id>/: one timeline, the actions allowed now."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from accounts.models import AuditEvent, User
from engagements.models import Engagement, Status
from engagements.services import engagement_put_on_hold, session_log
from nudges.models import FlagKind, NudgeFlag
from nudges.services import nudge_remind_now
from tests.factories import CoachFactory, ProgramFactory, UserFactory
from tests.nudges.helpers import NOW, TODAY, in_progress, invited, run_nudges, selected
from tests.responses import ClientResponse
from tests.signin import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ops(client: Client, staff: User) -> Client:
    return login_verified(client, staff)


def page(engagement: Engagement) -> str:
    return reverse("nudges:ops_engagement", kwargs={"public_id": engagement.public_id})


def action(engagement: Engagement, name: str) -> str:
    return reverse(
        "nudges:ops_engagement_action", kwargs={"public_id": engagement.public_id, "action": name}
    )


def reload(engagement: Engagement) -> Engagement:
    return Engagement.objects.get(pk=engagement.pk)


def text(response: ClientResponse) -> str:
    return response.content.decode()


# --- who may see it ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["participant", "coach", "sponsor"])
def test_other_roles_get_a_404_and_change_nothing(client: Client, role: str) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)
    client.force_login(UserFactory(role=role))

    assert client.get(page(engagement)).status_code == 404
    assert client.post(action(engagement, "hold")).status_code == 404
    assert reload(engagement).status == Status.COACH_SELECTED


def test_staff_without_a_verified_session_are_sent_to_sign_in(client: Client, staff: User) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)
    client.force_login(staff)

    response = client.post(action(engagement, "hold"))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert reload(engagement).status == Status.COACH_SELECTED


def test_an_unknown_engagement_or_action_is_a_404(ops: Client) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)

    assert ops.get("/ops/engagements/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert ops.post(action(engagement, "delete")).status_code == 404
    assert ops.get(action(engagement, "hold")).status_code == 405


# --- what it shows -------------------------------------------------------------------


def test_the_timeline_shows_status_changes_sessions_flags_and_reminders_newest_first(
    ops: Client, staff: User
) -> None:
    coach = CoachFactory(user__full_name="Cora Coach")
    engagement = selected(ProgramFactory(), days_ago=20, coach=coach)
    run_nudges()  # no first session after 14 days: flagged, both reminded
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        session_log(
            engagement=reload(engagement),
            coach=coach,
            held_on=TODAY,
            duration_minutes=45,
            outcome="no_show",
            notes="SECRET-NOTE",
        )
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        run_nudges(today=TODAY + timedelta(days=1))  # the flag resolves
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        engagement_put_on_hold(engagement=reload(engagement), actor=staff, reason="Parental leave")

    body = text(ops.get(page(engagement)))

    lines = [
        "In progress → On hold",
        "Parental leave",
        "Flag resolved: No first session",
        "Coach selected → In progress",
        "Session 1 logged: no-show",
        "Held on 16 Mar 2026, 45 minutes",
        "Reminder sent to the participant",
        "Reminder sent to the coach",
        "Flag raised: No first session",
        "<strong>Invited</strong>",
    ]
    positions = [body.index(line, body.index("Timeline")) for line in lines]
    assert "SECRET-NOTE" not in body
    assert positions[0] < positions[2] < positions[3] < positions[6] < positions[8] < positions[9]
    assert f"by {staff.full_name}" in body
    assert "by Cora Coach" in body
    # Each moment says its time zone: staff may sit anywhere.
    put_on_hold_at = (NOW + timedelta(days=2)).strftime("%-d %b %Y %H:%M")
    assert f"{put_on_hold_at} UTC</time>" in body


def test_open_flags_say_how_long_the_engagement_has_been_stuck(ops: Client) -> None:
    stalled = in_progress(ProgramFactory(), last_session_days_ago=40)
    run_nudges()

    body = text(ops.get(page(stalled)))

    assert "Stalled: stuck for 40 days" in body


def test_the_page_reads_a_fixed_number_of_queries(
    ops: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    coach = CoachFactory()
    small = selected(ProgramFactory(), days_ago=20, coach=coach)
    big = selected(ProgramFactory(sessions_per_engagement=30), days_ago=20, coach=coach)
    run_nudges()
    for _ in range(12):
        session_log(
            engagement=reload(big),
            coach=coach,
            held_on=TODAY,
            duration_minutes=45,
            outcome="held",
            confirm_same_date=True,  # twelve on one day, on purpose
        )
    run_nudges(today=TODAY + timedelta(days=1))

    ops.get(page(small))  # the session, the user and the OTP device come from the cache now
    # engagement, flags, sessions, audit events, booked sessions (scheduling's panel)
    for engagement in (small, big):
        with django_assert_num_queries(5):
            assert ops.get(page(engagement)).status_code == 200


# --- the actions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (Status.INVITED, {"cancel"}),
        (Status.COACH_SELECTED, {"release", "hold", "cancel", "complete"}),
        (Status.ON_HOLD, {"release", "resume", "cancel", "complete"}),
        (Status.COMPLETED, set()),
    ],
)
def test_only_the_actions_the_status_allows_are_offered(
    ops: Client, status: str, offered: set[str]
) -> None:
    program = ProgramFactory()
    engagement = (
        invited(program, days_ago=1) if status == Status.INVITED else selected(program, days_ago=1)
    )
    if status != engagement.status:
        engagement.transition_to(status)

    body = text(ops.get(page(engagement)))

    for name in ("release", "hold", "resume", "cancel", "complete"):
        assert (f'action="{action(engagement, name)}"' in body) == (name in offered), name
    if not offered:
        assert "Nothing can be done now" in body


def test_put_on_hold_then_resume(ops: Client, staff: User) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)

    held = ops.post(action(engagement, "hold"), {"reason": ""}, follow=True)
    assert reload(engagement).status == Status.ON_HOLD
    assert "Engagement put on hold." in text(held)

    ops.post(action(engagement, "resume"), {"reason": "Back from leave"})
    assert reload(engagement).status == Status.COACH_SELECTED
    assert AuditEvent.objects.filter(action="engagement.resumed", actor=staff).exists()


def test_release_coach_frees_the_seat(ops: Client) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)

    response = ops.post(action(engagement, "release"), {"reason": ""})

    assert response.status_code == 302
    assert reload(engagement).status == Status.INVITED
    assert reload(engagement).coach is None


@pytest.mark.parametrize(
    ("name", "status"), [("cancel", Status.CANCELLED), ("complete", Status.COMPLETED)]
)
def test_cancel_and_complete_early_need_a_reason(ops: Client, name: str, status: str) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)

    refused = ops.post(action(engagement, name), {"reason": "   "})

    assert refused.status_code == 400
    assert "Give a reason: it is kept on the engagement." in text(refused)
    assert reload(engagement).status == Status.COACH_SELECTED
    assert reload(engagement).status_version == engagement.status_version

    ops.post(action(engagement, name), {"reason": "Left the company"})
    assert reload(engagement).status == status
    assert reload(engagement).status_reason == "Left the company"


def test_the_cancel_button_says_what_it_does(ops: Client) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)

    body = text(ops.get(page(engagement)))

    assert ">Cancel the engagement</button>" in body
    assert ">Cancel</button>" not in body


def test_an_action_the_status_no_longer_allows_is_refused_with_a_message(ops: Client) -> None:
    engagement = selected(ProgramFactory(), days_ago=3)
    engagement.transition_to(Status.COMPLETED)  # meanwhile, in another tab

    hold = ops.post(action(engagement, "hold"), {"reason": ""})
    resume = ops.post(action(engagement, "resume"), {"reason": ""})
    complete = ops.post(action(invited(ProgramFactory(), days_ago=1), "complete"), {"reason": "x"})

    assert hold.status_code == 409
    assert "An engagement that is completed cannot become on hold." in text(hold)
    assert resume.status_code == 409
    assert "Only an engagement on hold can be resumed" in text(resume)
    assert "An engagement without a coach cannot be completed." in text(complete)
    assert reload(engagement).status == Status.COMPLETED


# --- send a reminder now -----------------------------------------------------------------


def test_send_a_reminder_now_emails_both_and_the_run_does_not_send_it_again(
    ops: Client,
    staff: User,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    engagement = selected(ProgramFactory(reminders_enabled=True), days_ago=20)
    NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.NO_FIRST_SESSION, raised_at=NOW)

    response = ops.post(action(engagement, "remind"), follow=True)
    run_worker()

    assert engagement.coach is not None
    assert "2 reminder emails queued." in text(response)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [engagement.participant.email, engagement.coach.user.email]
    )
    assert NudgeFlag.objects.get().notified_at == NOW
    assert AuditEvent.objects.filter(action="nudge.reminder_sent", actor=staff).count() == 1
    assert "Reminder sent now" in text(response)

    mailoutbox.clear()
    run_nudges()
    run_worker()
    assert mailoutbox == []


def test_a_second_reminder_within_a_day_is_refused(
    ops: Client, mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    engagement = invited(ProgramFactory(), days_ago=10)
    run_nudges()  # reminds the participant
    run_worker()
    mailoutbox.clear()

    refused = ops.post(action(engagement, "remind"))
    run_worker()

    assert refused.status_code == 409
    assert "No reminder sent. The participant was reminded less than a day ago." in text(refused)
    assert mailoutbox == []

    with time_machine.travel(NOW + timedelta(days=1, minutes=1), tick=False):
        assert ops.post(action(engagement, "remind")).status_code == 302
    run_worker()
    assert [m.to for m in mailoutbox] == [[engagement.participant.email]]


def test_no_reminder_goes_to_someone_who_turned_them_off(
    ops: Client, mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    engagement = invited(ProgramFactory(), days_ago=10)
    NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.NO_COACH_SELECTED, raised_at=NOW)
    type(engagement.participant).objects.filter(pk=engagement.participant_id).update(
        reminders_enabled=False
    )

    refused = ops.post(action(engagement, "remind"))
    run_worker()

    assert refused.status_code == 409
    assert "The participant turned reminders off." in text(refused)
    assert mailoutbox == []
    assert NudgeFlag.objects.get().participant_notified_at is None


def test_the_reminder_is_offered_only_for_flags_that_remind_someone(ops: Client) -> None:
    program = ProgramFactory(ends_on=date(2026, 3, 20))
    engagement = selected(program, days_ago=1)
    NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.BEHIND_SCHEDULE, raised_at=NOW)

    body = text(ops.get(page(engagement)))
    refused = ops.post(action(engagement, "remind"))

    assert "Send a reminder now" not in body
    assert refused.status_code == 409
    assert "No open flag on this engagement calls for a reminder." in text(refused)


def test_remind_now_refuses_while_a_run_holds_the_lock(staff: User) -> None:
    from django.db import connection

    from config.errors import DomainError
    from nudges.services import LOCK_KEY

    engagement = invited(ProgramFactory(), days_ago=10)
    NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.NO_COACH_SELECTED, raised_at=NOW)
    if connection.vendor != "postgresql":
        pytest.skip("the run lock is PostgreSQL's")
    import psycopg
    from django.conf import settings as dj

    db = dj.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(DomainError, match="nudge run is sending reminders"):
            nudge_remind_now(engagements=[engagement], actor=staff)
    assert NudgeFlag.objects.get().participant_notified_at is None
