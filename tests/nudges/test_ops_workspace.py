"""/ops/ as a workspace: links to the programs, an honest first state, days stuck,
filters, and a bulk "send a reminder now"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from accounts.models import AuditEvent, User
from engagements.models import Engagement
from nudges.models import FlagKind, NudgeFlag
from tests.factories import CoachFactory, ProgramFactory
from tests.nudges.helpers import NOW, in_progress, invited, run_nudges, selected
from tests.responses import ClientResponse
from tests.signin import login_verified

pytestmark = pytest.mark.django_db
URL = "/ops/"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ops(client: Client, staff: User) -> Client:
    return login_verified(client, staff)


def named(engagement: Engagement, full_name: str) -> Engagement:
    type(engagement.participant).objects.filter(pk=engagement.participant_id).update(
        full_name=full_name
    )
    return engagement


def listed(response: ClientResponse) -> list[str]:
    return [row.engagement.participant.full_name for row in response.context["page"].object_list]


def test_program_reports_are_linked_from_the_nav_the_dashboard_and_the_admin(ops: Client) -> None:
    dashboard = ops.get(URL).content.decode()
    admin = ops.get("/admin/").content.decode()

    assert dashboard.count('href="/ops/programs/"') == 2  # the staff nav and the dashboard
    assert 'href="/ops/programs/"' in admin
    assert 'href="/ops/"' in admin


def test_before_the_first_run_the_page_says_nothing_was_checked(ops: Client) -> None:
    invited(ProgramFactory(), days_ago=30)

    body = ops.get(URL).content.decode()

    assert "No nudge run yet, so nothing has been checked" in body
    assert "manage.py run_nudges --dry-run" in body
    assert "Every engagement is moving" not in body


def test_after_a_run_without_flags_it_says_so(ops: Client) -> None:
    invited(ProgramFactory(), days_ago=1)
    run_nudges()

    body = ops.get(URL).content.decode()

    assert "No open flags after the last run." in body


def test_rows_say_how_long_the_engagement_has_been_stuck_not_the_flag_age(ops: Client) -> None:
    invited(ProgramFactory(), days_ago=12)
    in_progress(ProgramFactory(), last_session_days_ago=45)
    run_nudges()  # both flags raised just now

    body = ops.get(URL).content.decode()

    assert "No coach selected: stuck for 12 days" in body
    assert "Stalled: stuck for 45 days" in body
    assert "0 minutes" not in body


def test_filters_by_program_kind_coach_and_days_stuck(ops: Client) -> None:
    north, south = ProgramFactory(name="North"), ProgramFactory(name="South")
    cora = CoachFactory(user__full_name="Cora")
    named(invited(north, days_ago=10), "Ann Invited")
    named(selected(north, days_ago=20, coach=cora), "Ben Selected")
    named(selected(south, days_ago=40), "Cid Selected")
    run_nudges()

    assert sorted(listed(ops.get(URL))) == ["Ann Invited", "Ben Selected", "Cid Selected"]
    assert sorted(listed(ops.get(URL, {"program": str(north.public_id)}))) == [
        "Ann Invited",
        "Ben Selected",
    ]
    assert listed(ops.get(URL, {"kind": "no_coach_selected"})) == ["Ann Invited"]
    assert listed(ops.get(URL, {"coach": str(cora.public_id)})) == ["Ben Selected"]
    assert listed(ops.get(URL, {"coach": cora.user.full_name[:4].upper()})) == ["Ben Selected"]
    assert listed(ops.get(URL, {"coach": cora.user.email})) == ["Ben Selected"]
    assert listed(ops.get(URL, {"coach": "nobody-by-that-name"})) == []
    assert sorted(listed(ops.get(URL, {"days": "20"}))) == ["Ben Selected", "Cid Selected"]
    assert listed(ops.get(URL, {"days": "21"})) == ["Cid Selected"]
    empty = ops.get(URL, {"days": "41"})
    assert listed(empty) == []
    assert "No flagged engagement matches these filters." in empty.content.decode()


def test_days_stuck_filter_reads_behind_schedule_from_the_program_end(ops: Client) -> None:
    # Ends in 11 days with a 21-day threshold: behind schedule since 10 days ago.
    program = ProgramFactory(ends_on=NOW.date() + timedelta(days=11), starts_on=date(2026, 1, 1))
    late = named(selected(program, days_ago=2), "Lou Late")
    NudgeFlag.objects.create(engagement=late, kind=FlagKind.BEHIND_SCHEDULE, raised_at=NOW)

    assert listed(ops.get(URL, {"days": "10"})) == ["Lou Late"]
    assert listed(ops.get(URL, {"days": "11"})) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"days": "-1"}, "Days stuck cannot be negative."),
        ({"days": "soon"}, "Enter the days stuck as a whole number."),
        ({"days": "99999"}, "Enter at most 3650 days."),
        ({"kind": "bogus"}, "Choose a flag from the list."),
        ({"program": "not-a-uuid"}, "Choose a program from the list."),
        ({"coach": "x" * 101}, "Enter at most 100 characters of a coach."),
    ],
)
def test_bad_filters_get_a_clear_message_not_an_error(
    ops: Client, params: dict[str, str], message: str
) -> None:
    named(invited(ProgramFactory(), days_ago=10), "Ann Invited")
    run_nudges()

    response = ops.get(URL, params)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert listed(response) == ["Ann Invited"]  # the list, unfiltered


def test_pages_keep_the_filters(ops: Client) -> None:
    program = ProgramFactory()
    for _ in range(51):
        invited(program, days_ago=10)
    run_nudges()

    body = ops.get(URL, {"kind": "no_coach_selected"}).content.decode()

    assert 'href="?kind=no_coach_selected&amp;page=2"' in body


def test_bulk_reminder_emails_each_person_once_and_is_recorded(
    ops: Client,
    staff: User,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    coach = CoachFactory()
    program = ProgramFactory()
    first = selected(program, days_ago=20, coach=coach)
    second = selected(program, days_ago=20, coach=coach)
    for engagement in (first, second):
        NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.NO_FIRST_SESSION)

    response = ops.post(
        "/ops/remind/",
        {"engagement": [first.public_id, second.public_id], "next": "/ops/?kind=no_first_session"},
    )
    run_worker()

    assert response.status_code == 302
    assert response["Location"] == "/ops/?kind=no_first_session"
    # The coach gets one digest listing both; each participant one.
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [coach.user.email, first.participant.email, second.participant.email]
    )
    assert NudgeFlag.objects.filter(notified_at=NOW).count() == 2
    assert AuditEvent.objects.filter(action="nudge.reminder_sent", actor=staff).count() == 2
    followed = ops.get(response["Location"]).content.decode()
    assert "3 reminder emails queued." in followed


def test_bulk_reminder_reports_what_it_refused(
    ops: Client, mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    program = ProgramFactory()
    fresh = invited(program, days_ago=10)
    already = invited(program, days_ago=10)
    NudgeFlag.objects.create(engagement=fresh, kind=FlagKind.NO_COACH_SELECTED)
    NudgeFlag.objects.create(
        engagement=already, kind=FlagKind.NO_COACH_SELECTED, participant_notified_at=NOW
    )

    response = ops.post("/ops/remind/", {"engagement": [fresh.public_id, already.public_id]})
    run_worker()

    assert [m.to for m in mailoutbox] == [[fresh.participant.email]]
    body = ops.get(response["Location"]).content.decode()
    assert "1 reminder email queued; 1 engagement(s) not reminded:" in body
    assert "The participant was reminded less than a day ago. (×1)" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Tick at least one engagement to remind."),
        ({"engagement": ["nonsense"]}, "That selection is not one of the listed engagements."),
        ({"engagement": [f"{n:032x}" for n in range(51)]}, "Tick at most 50 engagements"),
    ],
)
def test_bulk_reminder_refuses_a_bad_selection(
    ops: Client,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
    data: dict[str, Any],
    message: str,
) -> None:
    response = ops.post("/ops/remind/", data)
    run_worker()

    assert response.status_code == 302
    assert message in ops.get(response["Location"]).content.decode()
    assert mailoutbox == []


def test_bulk_reminder_never_redirects_off_site(ops: Client) -> None:
    response = ops.post("/ops/remind/", {"next": "https://evil.example/"})

    assert response["Location"] == "/ops/"


def test_bulk_reminder_needs_the_csrf_token(staff: User) -> None:
    client = login_verified(Client(enforce_csrf_checks=True), staff)
    engagement = invited(ProgramFactory(), days_ago=10)
    NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.NO_COACH_SELECTED)

    response = client.post("/ops/remind/", {"engagement": [engagement.public_id]})

    assert response.status_code == 403
    assert NudgeFlag.objects.get().participant_notified_at is None


def test_an_unconfirmed_booking_counts_from_the_day_its_flag_was_raised(ops: Client) -> None:
    engagement = named(selected(ProgramFactory(), days_ago=30), "Una Unconfirmed")
    NudgeFlag.objects.create(
        engagement=engagement,
        kind=FlagKind.UNCONFIRMED_SESSION,
        raised_at=NOW - timedelta(days=5),
    )

    body = ops.get(URL).content.decode()

    assert "Booked session not confirmed: stuck for 5 days" in body
    assert listed(ops.get(URL, {"days": "5"})) == ["Una Unconfirmed"]
    assert listed(ops.get(URL, {"days": "6"})) == []
