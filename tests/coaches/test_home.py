from __future__ import annotations

import pytest

from accounts.models import Role
from engagements.models import Engagement
from tests import factories
from tests.coaches.conftest import enrol, pool

pytestmark = pytest.mark.django_db


def test_participant_with_a_coach_sees_the_coach_booking_link_and_progress(client, program) -> None:  # noqa: ANN001
    (coach,) = pool(program, 1, headline="Calm under pressure")
    engagement = factories.engagement_with_coach(coach=coach, program=program)
    Engagement.objects.filter(pk=engagement.pk).update(sessions_logged=2)
    client.force_login(engagement.participant)

    body = client.get("/").content.decode()

    assert f'<a class="button button-large" href="{coach.booking_url}"' in body
    assert "Book your session" in body
    assert coach.user.full_name in body and "Calm under pressure" in body
    assert "<dd>2 of 6</dd>" in body
    assert "<dt>Sessions remaining</dt>\n        <dd>4</dd>" in body
    assert program.ends_on.strftime("%B %Y") in body


def test_participant_without_a_coach_is_sent_to_the_directory(client, program) -> None:  # noqa: ANN001
    engagement = enrol(program)
    client.force_login(engagement.participant)

    body = client.get("/").content.decode()

    assert 'href="/coaches/"' in body and "Choose your coach" in body
    assert "Book your session" not in body


def test_participant_without_a_program_is_told_so(client) -> None:  # noqa: ANN001
    client.force_login(factories.UserFactory(role=Role.PARTICIPANT))
    assert "not enrolled in a running coaching program" in client.get("/").content.decode()


def test_anonymous_visitors_get_the_landing_page(client) -> None:  # noqa: ANN001
    body = client.get("/").content.decode()
    assert "Sign in with your email" in body and "Where to go next" not in body


def test_other_roles_get_a_pointer_to_their_own_home(client, coach, staff) -> None:  # noqa: ANN001
    client.force_login(coach.user)
    body = client.get("/").content.decode()
    assert 'href="/coach/"' in body and 'href="/coach/profile/"' in body
    client.force_login(staff)
    assert 'href="/admin/"' in client.get("/").content.decode()
