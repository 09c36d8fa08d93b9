from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role, User
from coaches.models import CoachProfile
from engagements.models import Outcome, Program
from tests import factories
from tests.coaches.conftest import enrol, pool

pytestmark = pytest.mark.django_db


def _progress(body: str) -> dict[str, str]:
    """The participant's session figures as shown: {term: text}."""
    section = body.split('id="progress-heading"')[1].split("</dl>")[0]
    terms = [t.split("</dt>")[0] for t in section.split("<dt>")[1:]]
    values = [
        re.sub(r"<[^>]+>.*", "", d.split("</dd>")[0]).strip() for d in section.split("<dd>")[1:]
    ]
    return {t: v for t, v in zip(terms, values, strict=True) if t.startswith("Sessions")}


def test_participant_with_a_coach_sees_the_coach_booking_link_and_progress(
    client: Client, program: Program
) -> None:
    (coach,) = pool(program, 1, headline="Calm under pressure")
    engagement = factories.engagement_with_coach(coach=coach, program=program)
    for number in (1, 2):
        factories.SessionFactory(engagement=engagement, coach=coach, number=number)
    client.force_login(engagement.participant)

    body = client.get("/").content.decode()

    # The link carries the participant's name and email (coaches/models.py, booking_link_for).
    assert f'<a class="button button-large" href="{coach.booking_url}?name=' in body
    assert "Book your session" in body
    assert coach.user.full_name in body and "Calm under pressure" in body
    assert _progress(body) == {
        "Sessions held": "2",
        "Sessions used": "2 of 6",
        "Sessions remaining": "4",
    }
    assert program.ends_on.strftime("%B %Y") in body


def test_participant_without_a_coach_is_sent_to_the_directory(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    client.force_login(engagement.participant)

    body = client.get("/").content.decode()

    assert 'href="/coaches/"' in body and "Choose your coach" in body
    assert "Book your session" not in body


def test_participant_without_a_program_is_told_so(client: Client) -> None:
    client.force_login(factories.UserFactory(role=Role.PARTICIPANT))
    assert "not enrolled in a running coaching program" in client.get("/").content.decode()


def test_anonymous_visitors_get_the_landing_page(client: Client) -> None:
    body = client.get("/").content.decode()
    assert "Sign in with your email" in body and "Where to go next" not in body


def test_other_roles_get_a_pointer_to_their_own_home(
    client: Client, coach: CoachProfile, staff: User
) -> None:
    client.force_login(coach.user)
    body = client.get("/").content.decode()
    assert 'href="/coach/"' in body and 'href="/coach/profile/"' in body
    client.force_login(staff)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_a_no_show_uses_a_session_but_is_not_held(client: Client, program: Program) -> None:
    (coach,) = pool(program, 1)
    engagement = factories.engagement_with_coach(coach=coach, program=program)
    factories.SessionFactory(engagement=engagement, coach=coach, number=1, outcome=Outcome.NO_SHOW)
    client.force_login(engagement.participant)

    body = client.get("/").content.decode()

    assert _progress(body) == {
        "Sessions held": "0",
        "Sessions used": "1 of 6",
        "Sessions remaining": "5",
    }
    assert "a no-show or late cancellation uses up a session" in body


def test_held_used_and_remaining_match_the_reports_definitions(
    client: Client, program: Program
) -> None:
    from reports.selectors import participant_progress, program_report

    (coach,) = pool(program, 1)
    engagement = factories.engagement_with_coach(coach=coach, program=program)
    outcomes = [Outcome.HELD, Outcome.NO_SHOW, Outcome.LATE_CANCEL, Outcome.HELD]
    for number, outcome in enumerate(outcomes, start=1):
        factories.SessionFactory(engagement=engagement, coach=coach, number=number, outcome=outcome)
    client.force_login(engagement.participant)

    shown = _progress(client.get("/").content.decode())

    assert shown == {"Sessions held": "2", "Sessions used": "4 of 6", "Sessions remaining": "2"}
    assert program_report(program=program).sessions_held == 2
    assert participant_progress(program=program).lines[0].sessions_held == 2


def test_remaining_is_never_below_zero(client: Client, program: Program) -> None:
    program.sessions_per_engagement = 1
    program.save()
    (coach,) = pool(program, 1)
    engagement = factories.engagement_with_coach(coach=coach, program=program)
    for number in (1, 2):
        factories.SessionFactory(engagement=engagement, coach=coach, number=number)
    client.force_login(engagement.participant)
    assert _progress(client.get("/").content.decode())["Sessions remaining"] == "0"
