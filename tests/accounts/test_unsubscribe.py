"""Turning reminders off from an email: the headers of a reminder (RFC 2369, RFC 8058
one-click, RFC 3834), the page behind the link, and tokens that are not ours."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client

from accounts.models import AuditEvent, User
from accounts.unsubscribe import unsubscribe_token, unsubscribe_url
from engagements.services import invitation_send
from tests import factories
from tests.mail import html_part
from tests.nudges.helpers import NOW, invited, run_nudges

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminder(settings: Any, mailoutbox: list[Any], run_worker: Any) -> Any:
    """A reminder email as delivered, to a participant who has not chosen a coach."""
    settings.SITE_URL = "https://coachdesk.example.com"
    with time_machine.travel(NOW, tick=False):
        invited(factories.ProgramFactory(), days_ago=10)
        run_nudges()
    run_worker()
    [message] = mailoutbox
    mailoutbox.clear()
    return message


def _path(url: str) -> str:
    return urlsplit(url).path


def test_a_reminder_offers_one_click_unsubscribe_and_says_it_is_automatic(reminder: Any) -> None:
    person = User.objects.get(email=reminder.to[0])
    headers = reminder.message()  # as the mail server receives it

    url = unsubscribe_url(person)
    assert url.startswith("https://coachdesk.example.com/reminders/off/")
    assert headers["List-Unsubscribe"] == f"<{url}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Auto-Submitted"] == "auto-generated"
    assert url in reminder.body.split()  # and in the footer, for people
    assert f'href="{url}"' in html_part(reminder)


def test_other_emails_have_no_unsubscribe_link(mailoutbox: list[Any], run_worker: Any) -> None:
    invitation_send(engagement=factories.EngagementFactory(), actor=None)
    run_worker()

    [message] = mailoutbox
    headers = message.message()
    assert headers["List-Unsubscribe"] is None and headers["Auto-Submitted"] is None
    assert "/reminders/off/" not in message.body


def test_the_one_click_post_turns_reminders_off_for_that_person_only(reminder: Any) -> None:
    person = User.objects.get(email=reminder.to[0])
    bystander = factories.UserFactory()
    url = reminder.message()["List-Unsubscribe"].strip("<>")
    # What a mail client sends (RFC 8058): no cookies, no CSRF token.
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(_path(url), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "Reminders are off" in response.content.decode()
    person.refresh_from_db()
    bystander.refresh_from_db()
    assert person.reminders_enabled is False
    assert bystander.reminders_enabled is True
    event = AuditEvent.objects.get(action="reminders.turned_off")
    assert event.object_id == str(person.public_id) and event.actor is None
    assert event.after == {"reminders_enabled": False}
    # Again changes nothing more and records nothing more.
    assert mail_client.post(_path(url), {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert AuditEvent.objects.filter(action__startswith="reminders.").count() == 1


def test_the_link_opened_in_a_browser_explains_and_changes_nothing(reminder: Any) -> None:
    person = User.objects.get(email=reminder.to[0])
    path = _path(unsubscribe_url(person))

    response = Client().get(path)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Turn off reminder emails?" in body
    assert f'<form method="post" action="{path}">' in body
    assert "Sign-in codes and messages about your program still do." in body
    person.refresh_from_db()
    assert person.reminders_enabled is True
    assert not AuditEvent.objects.filter(action__startswith="reminders.").exists()


def test_the_page_turns_them_back_on(client: Client) -> None:
    person = factories.UserFactory(reminders_enabled=False)
    path = _path(unsubscribe_url(person))

    page = client.get(path).content.decode()
    assert "Reminders are off" in page and "Turn reminders back on" in page
    response = client.post(path, {"reminders": "on"})

    assert "Reminders are on again" in response.content.decode()
    person.refresh_from_db()
    assert person.reminders_enabled is True
    assert AuditEvent.objects.get().action == "reminders.turned_on"


def _forged(person: User, other: User) -> dict[str, str]:
    token = unsubscribe_token(person)
    public_id, signature = token.split(":")
    return {
        "another person's id with this signature": f"{other.public_id.hex}:{signature}",
        "an altered signature": f"{public_id}:{signature[:-2]}xx",
        "no signature": public_id,
        "signed with another salt": signing.Signer(algorithm="sha256").sign(public_id),
        "signed with another key": signing.Signer(
            key="not-our-secret", salt="accounts.unsubscribe.reminders", algorithm="sha256"
        ).sign(public_id),
        "nonsense": "x" * 40,
    }


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_tampered_token_is_refused_and_changes_nothing(method: str) -> None:
    person, other = factories.UserFactory(), factories.UserFactory()
    for label, token in _forged(person, other).items():
        response = getattr(Client(), method)(f"/reminders/off/{token}/")

        assert response.status_code == 400, label
        assert "This link does not work" in response.content.decode(), label
    assert set(User.objects.values_list("reminders_enabled", flat=True)) == {True}
    assert not AuditEvent.objects.exists()


def test_a_token_of_a_deleted_account_is_refused() -> None:
    person = factories.UserFactory()
    path = _path(unsubscribe_url(person))
    person.delete()

    assert Client().post(path).status_code == 400


def test_staff_see_who_turned_reminders_off_but_cannot_turn_them_back_on(
    admin_client_verified: Client,
) -> None:
    person = factories.UserFactory(reminders_enabled=False, full_name="Quiet Person")

    listing = admin_client_verified.get("/admin/accounts/user/?reminders_enabled__exact=0")
    page = admin_client_verified.get(f"/admin/accounts/user/{person.pk}/change/")

    assert "Quiet Person" in listing.content.decode()
    body = page.content.decode()
    assert "Reminder emails" in body
    assert 'name="reminders_enabled"' not in body  # read-only: the person's own choice
