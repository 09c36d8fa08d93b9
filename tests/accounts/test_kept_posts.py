"""A coach's form posted after the idle timeout comes back after sign-in, notes and all."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.kept_posts import (
    KEPT_NOTICE,
    KEPT_POSTS,
    RESTORED_NOTICE,
    KeptPostLost,
    _cache_key,
)
from engagements.forms import session_submission_key
from engagements.models import CoachingSession, Engagement, Status
from tests import factories
from tests.engagements.helpers import engagement_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 5, 14, 9, 0, tzinfo=UTC)
NOTES = "Talked through the promotion; she fears the board meeting. Confidential: burnout."


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(START, tick=False)


@pytest.fixture
def coach(db: None) -> Any:
    return factories.CoachFactory(user__email="coach@example.com")


@pytest.fixture
def engagement(coach: Any) -> Engagement:
    return engagement_in(Status.COACH_SELECTED, coach=coach)


def _page(engagement: Engagement) -> str:
    return reverse("coach_engagement", kwargs={"public_id": engagement.public_id})


def _typed(engagement: Engagement) -> dict[str, str]:
    """What the coach typed, with the one-time key the form carried."""
    return {
        "submission_key": session_submission_key(engagement),
        "held_on": "2026-05-13",
        "duration_minutes": "75",
        "outcome": "late_cancel",
        "notes": NOTES,
    }


def _expire_while_typing(client: Client, engagement: Engagement, time_machine: Any) -> Any:
    """The coach opens the form, types for 31 idle minutes and submits."""
    assert client.get(_page(engagement)).status_code == 200
    time_machine.move_to(START + timedelta(minutes=31), tick=False)
    return client.post(_page(engagement), _typed(engagement))


def _field_values(body: str) -> dict[str, str]:
    form = body.split('id="log-title"')[1]
    values = {}
    for name in ("held_on", "duration_minutes"):
        values[name] = form.split(f'name="{name}"')[1].split('value="')[1].split('"')[0]
    values["outcome"] = (
        form.split('name="outcome"')[1].split('" selected>')[0].rsplit('value="', 1)[1]
    )
    values["notes"] = form.split('name="notes"')[1].split(">", 1)[1].split("</textarea>")[0].strip()
    return values


def test_notes_posted_after_the_session_expired_come_back_after_sign_in(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)

    response = _expire_while_typing(client, engagement, time_machine)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={_page(engagement)}"
    assert not CoachingSession.objects.exists()
    login_page = client.get(response["Location"]).content.decode()
    assert KEPT_NOTICE in login_page

    assert sign_in(coach.user, next=_page(engagement))["Location"] == _page(engagement)
    page = client.get(_page(engagement))
    body = page.content.decode()

    assert page.status_code == 200
    assert RESTORED_NOTICE in body
    assert _field_values(body) == {
        "held_on": "2026-05-13",
        "duration_minutes": "75",
        "outcome": "late_cancel",
        "notes": NOTES,
    }
    assert not CoachingSession.objects.exists(), "nothing is saved before the coach submits"

    again = client.post(_page(engagement), _typed(engagement))
    assert again.status_code == 302
    session = CoachingSession.objects.get()
    assert (session.notes, session.duration_minutes, session.outcome) == (
        NOTES,
        75,
        "late_cancel",
    )


def test_a_kept_form_comes_back_once(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)
    _expire_while_typing(client, engagement, time_machine)
    token = client.session[KEPT_POSTS][_page(engagement)]
    sign_in(coach.user, next=_page(engagement))
    assert NOTES in client.get(_page(engagement)).content.decode()

    body = client.get(_page(engagement)).content.decode()

    assert NOTES not in body and RESTORED_NOTICE not in body
    assert _field_values(body)["notes"] == ""
    assert cache.get(_cache_key(token)) is None, "taken means deleted from the cache"


def test_the_notes_are_stored_only_encrypted_and_never_logged(
    client: Client,
    sign_in: Any,
    coach: Any,
    engagement: Engagement,
    time_machine: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(coach.user)
    _expire_while_typing(client, engagement, time_machine)

    token = client.session[KEPT_POSTS][_page(engagement)]
    stored = cache.get(_cache_key(token))
    assert stored and NOTES.encode() not in stored and b"burnout" not in stored
    if hasattr(cache, "ttl"):  # Redis (CI and production): the store itself forgets it
        assert 0 < cache.ttl(_cache_key(token)) <= 20 * 60
    for row in Session.objects.all():
        assert "burnout" not in str(row.get_decoded())
    sign_in(coach.user, next=_page(engagement))
    client.get(_page(engagement))

    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "burnout" not in logged
    assert token not in logged
    assert "coach@example.com" not in logged


def test_a_kept_form_expires_after_twenty_minutes(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)
    _expire_while_typing(client, engagement, time_machine)
    time_machine.move_to(START + timedelta(minutes=31 + 21), tick=False)

    sign_in(coach.user, next=_page(engagement))
    body = client.get(_page(engagement)).content.decode()

    assert NOTES not in body
    assert KeptPostLost.message in body
    assert _field_values(body)["duration_minutes"] == "60"


def test_another_browser_does_not_get_the_kept_form(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)
    _expire_while_typing(client, engagement, time_machine)

    other_browser = Client()
    sign_in(coach.user, on=other_browser, next=_page(engagement))
    body = other_browser.get(_page(engagement)).content.decode()

    assert NOTES not in body and RESTORED_NOTICE not in body


def test_another_coach_signing_in_on_the_same_browser_never_sees_it(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)
    _expire_while_typing(client, engagement, time_machine)

    other = factories.CoachFactory()
    sign_in(other.user, next=_page(engagement))
    response = client.get(_page(engagement))
    assert response.status_code == 404
    own = engagement_in(Status.COACH_SELECTED, coach=other)
    assert NOTES not in client.get(_page(own)).content.decode()


def test_a_kept_form_comes_back_only_on_its_own_page(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)
    _expire_while_typing(client, engagement, time_machine)
    elsewhere = engagement_in(Status.COACH_SELECTED, coach=coach)

    sign_in(coach.user, next=_page(elsewhere))

    assert NOTES not in client.get(_page(elsewhere)).content.decode()
    assert NOTES in client.get(_page(engagement)).content.decode()


def test_a_correction_posted_after_the_session_expired_comes_back_too(
    client: Client, sign_in: Any, coach: Any, engagement: Engagement, time_machine: Any
) -> None:
    sign_in(coach.user)
    client.post(_page(engagement), {**_typed(engagement), "notes": "first"})
    session = CoachingSession.objects.get()
    edit = reverse(
        "coach_session_edit",
        kwargs={"public_id": engagement.public_id, "session_id": session.public_id},
    )
    time_machine.move_to(START + timedelta(minutes=31), tick=False)

    assert (
        client.post(edit, {**_typed(engagement), "notes": NOTES})["Location"]
        == f"/login/?next={edit}"
    )
    sign_in(coach.user, next=edit)
    body = client.get(edit).content.decode()

    assert NOTES in body and RESTORED_NOTICE in body
    session.refresh_from_db()
    assert session.notes == "first"


def test_a_signed_out_post_elsewhere_is_not_kept(client: Client, engagement: Engagement) -> None:
    survey = reverse("feedback:closing_survey", kwargs={"public_id": engagement.public_id})
    response = client.post(survey, {"recommend_score": "9", "what_changed": NOTES})
    assert response.status_code == 302
    assert KEPT_POSTS not in client.session
    assert KEPT_NOTICE not in client.get(response["Location"]).content.decode()
