"""Issue 13: a session form submitted twice logs one session; a second session on one
date needs the coach's confirmation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from engagements.forms import session_submission_key
from engagements.models import CoachingSession, Engagement, Status
from tests.engagements.helpers import engagement_in
from tests.factories import SessionFactory

CONFIRM = "Yes, log a second session on this date"


def coach_of(engagement: Engagement) -> CoachProfile:
    """The engagement's coach (these tests only build engagements that have one)."""
    assert engagement.coach is not None
    return engagement.coach


def _page(engagement: Engagement) -> str:
    return reverse("coach_engagement", kwargs={"public_id": engagement.public_id})


def _form(engagement: Engagement, *, days_ago: int = 1, **overrides: object) -> dict[str, object]:
    return {
        "held_on": (timezone.localdate() - timedelta(days=days_ago)).isoformat(),
        "duration_minutes": "60",
        "outcome": "held",
        "notes": "Worked on delegation.",
        "submission_key": session_submission_key(engagement),
        **overrides,
    }


def _key_on_page(html: str) -> str:
    match = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert match, "the form carries no submission key"
    return match.group(1)


def _counts(engagement: Engagement) -> tuple[int, int, int]:
    stored = Engagement.objects.get(pk=engagement.pk)
    sessions = CoachingSession.objects.filter(engagement=engagement).count()
    return sessions, stored.sessions_logged, AuditEvent.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_submissions_of_one_form_log_one_session(run_in_threads: Any) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    SessionFactory(
        engagement=engagement,
        coach=coach_of(engagement),
        number=1,
        held_on=timezone.localdate() - timedelta(days=10),
    )
    Engagement.objects.filter(pk=engagement.pk).update(sessions_logged=1)
    data = _form(engagement)
    coach_user = coach_of(engagement).user

    def submit(_i: int) -> tuple[int, str]:
        client = Client()
        client.force_login(coach_user)
        response = client.post(_page(engagement), data)
        return response.status_code, response.headers.get("Location", "")

    results = run_in_threads(submit, 10)

    assert results == [(302, _page(engagement))] * 10
    sessions = CoachingSession.objects.filter(engagement=engagement).order_by("number")
    assert [s.number for s in sessions] == [1, 2]
    assert Engagement.objects.get(pk=engagement.pk).sessions_logged == 2
    assert AuditEvent.objects.filter(action="session.logged").count() == 1


@pytest.mark.django_db
def test_a_second_submission_of_the_same_form_gives_the_first_result_and_writes_nothing(
    client: Any,
) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    client.force_login(coach_of(engagement).user)
    data = _form(engagement)

    first = client.post(_page(engagement), data, follow=True)
    after_first = _counts(engagement)
    again = client.post(_page(engagement), data, follow=True)

    assert first.redirect_chain == again.redirect_chain == [(_page(engagement), 302)]
    for response in (first, again):
        assert [str(m) for m in response.context["messages"]] == ["Session 1 logged."]
    assert _counts(engagement) == after_first
    assert after_first[:2] == (1, 1)
    # The replay finds the session even though the first one moved the engagement on.
    assert Engagement.objects.get(pk=engagement.pk).status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_each_rendering_of_the_form_carries_a_new_key(client: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    client.force_login(coach_of(engagement).user)
    first = _key_on_page(client.get(_page(engagement)).content.decode())
    second = _key_on_page(client.get(_page(engagement)).content.decode())
    assert first != second

    # The key from the page logs, and two different renderings log two sessions.
    for key, days_ago in ((first, 3), (second, 2)):
        response = client.post(
            _page(engagement), _form(engagement, days_ago=days_ago, submission_key=key)
        )
        assert response.status_code == 302
    assert _counts(engagement)[:2] == (2, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    [
        None,  # missing
        "",
        "0f2b7c2e5a8d4d6c9b1a3e5f7d9c1b2a",  # a bare uuid, unsigned
        "0f2b7c2e5a8d4d6c9b1a3e5f7d9c1b2a:forged-signature",
        "not-a-key\x00",
    ],
)
def test_a_missing_or_forged_key_is_refused_with_a_message_and_saves_nothing(
    client: Any, key: str | None
) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    client.force_login(coach_of(engagement).user)
    data = _form(engagement)
    if key is None:
        del data["submission_key"]
    else:
        data["submission_key"] = key
    before = _counts(engagement)

    response = client.post(_page(engagement), data)

    assert response.status_code == 400
    assert "This form could not be checked" in response.content.decode()
    assert _counts(engagement) == before
    # The form comes back with a fresh, valid key: submitting it again works.
    fresh = _key_on_page(response.content.decode())
    assert fresh != key
    again = client.post(_page(engagement), {**data, "submission_key": fresh})
    assert again.status_code == 302 and _counts(engagement)[:2] == (1, 1)


@pytest.mark.django_db
def test_a_key_from_another_engagements_form_is_refused(client: Any, coach: Any) -> None:
    mine = engagement_in(Status.COACH_SELECTED, coach=coach)
    other = engagement_in(Status.COACH_SELECTED, coach=coach)
    client.force_login(coach.user)
    before = _counts(mine)

    response = client.post(_page(mine), _form(mine, submission_key=session_submission_key(other)))

    assert response.status_code == 400
    assert _counts(mine) == before


@pytest.mark.django_db
def test_a_second_session_on_one_date_is_logged_only_after_confirmation(client: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    client.force_login(coach_of(engagement).user)
    assert client.post(_page(engagement), _form(engagement, days_ago=2)).status_code == 302
    assert CONFIRM not in client.get(_page(engagement)).content.decode()
    before = _counts(engagement)

    data = _form(engagement, days_ago=2, duration_minutes="45")
    warned = client.post(_page(engagement), data)

    html = warned.content.decode()
    assert warned.status_code == 409
    assert "A session on this date is already logged" in html
    assert CONFIRM in html
    assert _counts(engagement) == before
    # The warning keeps the form's key and what the coach typed.
    assert _key_on_page(html) == data["submission_key"]
    assert 'value="45"' in html

    confirmed = client.post(_page(engagement), {**data, "confirm_same_date": "on"})

    assert confirmed.status_code == 302
    sessions = CoachingSession.objects.filter(engagement=engagement).order_by("number")
    assert [(s.number, s.held_on, s.duration_minutes) for s in sessions] == [
        (1, timezone.localdate() - timedelta(days=2), 60),
        (2, timezone.localdate() - timedelta(days=2), 45),
    ]
    assert Engagement.objects.get(pk=engagement.pk).sessions_logged == 2


@pytest.mark.django_db
def test_another_date_needs_no_confirmation(client: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    client.force_login(coach_of(engagement).user)
    client.post(_page(engagement), _form(engagement, days_ago=2))
    response = client.post(_page(engagement), _form(engagement, days_ago=1))
    assert response.status_code == 302
    assert _counts(engagement)[:2] == (2, 2)
