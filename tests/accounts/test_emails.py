"""Email goes through the task worker: queued in the caller's transaction, sent by the
worker, retried with backoff when a send fails, visible to staff in the admin."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.tasks.base import TaskResultStatus
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings
from time_machine import TimeMachineFixture

from accounts.emails import email_retry_delay, send_email
from accounts.models import User
from tests.factories import UserFactory
from tests.mail import html_part

pytestmark = pytest.mark.django_db(transaction=True)


def _write_templates(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "hello_subject.txt").write_text("Hello {{ name }}\n")
    (folder / "hello.txt").write_text("Hi {{ name }}, see {{ site_url }}")
    (folder / "hello.html").write_text("<p>Hi {{ name }}</p>")
    # Assign (not mutate) so Django's setting_changed signal resets the cached engines.
    templates = copy.deepcopy(settings.TEMPLATES)
    for engine in templates:  # pages and HTML parts, and the text engine
        engine["DIRS"] = [tmp_path, *engine["DIRS"]]
    settings.TEMPLATES = templates


def _ada() -> User:
    return UserFactory(email="a@example.com", full_name="Ada")


def test_email_is_queued_in_the_transaction_and_sent_by_the_worker(
    tmp_path: Path,
    settings: Settings,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    _write_templates(tmp_path, settings)
    with transaction.atomic():
        send_email(template="hello", recipient=_ada(), context={"name": "Ada"})
        assert DBTaskResult.objects.count() == 1  # written with the change it reports
    assert mailoutbox == []  # nothing is sent by the request itself
    assert run_worker() == 1
    (message,) = mailoutbox
    assert message.subject == "Hello Ada"
    assert "Hi Ada, see http" in message.body
    assert html_part(message) == "<p>Hi Ada</p>"
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_a_rolled_back_change_queues_and_sends_nothing(
    tmp_path: Path,
    settings: Settings,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    _write_templates(tmp_path, settings)
    with pytest.raises(RuntimeError), transaction.atomic():
        send_email(template="hello", recipient=_ada(), context={"name": "Ada"})
        raise RuntimeError("boom")
    assert DBTaskResult.objects.count() == 0
    assert run_worker() == 0
    assert mailoutbox == []


def test_a_failed_send_is_retried_with_backoff_and_then_delivered(
    tmp_path: Path,
    settings: Settings,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    time_machine: TimeMachineFixture,
) -> None:
    _write_templates(tmp_path, settings)
    time_machine.move_to(timezone.now(), tick=False)
    real_send = EmailBackend.send_messages
    outage = {"left": 2}

    def flaky_send(self: EmailBackend, messages: Sequence[EmailMessage]) -> int:
        if outage["left"]:
            outage["left"] -= 1
            raise ConnectionRefusedError("smtp down")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky_send)
    send_email(template="hello", recipient=_ada(), context={"name": "Ada"})

    assert run_worker() == 1
    row = DBTaskResult.objects.get()
    assert row.status == TaskResultStatus.READY  # pending again, with the error kept
    assert row.exception_class_path == "accounts.emails.EmailNotSent"
    assert "a@example.com" not in row.traceback
    assert row.run_after == timezone.now() + email_retry_delay(1)
    assert run_worker() == 0  # not before its backoff

    time_machine.shift(email_retry_delay(1))
    assert run_worker() == 1
    row.refresh_from_db()
    assert row.run_after == timezone.now() + email_retry_delay(2)
    assert email_retry_delay(2) == 2 * email_retry_delay(1)
    assert mailoutbox == []

    time_machine.shift(email_retry_delay(2))
    assert run_worker() == 1
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert len(row.worker_ids) == 3  # three attempts, one row
    assert [m.to for m in mailoutbox] == [["a@example.com"]]


def test_a_send_that_keeps_failing_ends_failed_after_the_last_attempt(
    tmp_path: Path,
    settings: Settings,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    time_machine: TimeMachineFixture,
) -> None:
    _write_templates(tmp_path, settings)
    settings.EMAIL_MAX_ATTEMPTS = 3
    time_machine.move_to(timezone.now(), tick=False)

    def down(self: EmailBackend, messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", down)
    send_email(template="hello", recipient=_ada(), context={"name": "Ada"})
    for _ in range(3):
        assert run_worker() == 1
        time_machine.shift(timedelta(hours=1))
    assert run_worker() == 0
    row = DBTaskResult.objects.get()
    assert row.status == TaskResultStatus.FAILED
    assert len(row.worker_ids) == 3
    assert mailoutbox == []


def test_staff_see_pending_and_failed_messages_read_only_in_the_admin(
    tmp_path: Path, settings: Settings, admin_client_verified: Client
) -> None:
    _write_templates(tmp_path, settings)
    send_email(template="hello", recipient=_ada(), context={"name": "Ada"})
    row = DBTaskResult.objects.get()
    listing = admin_client_verified.get(
        "/admin/django_tasks_database/dbtaskresult/?status__exact=READY"
    )
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "hello" in body and "Pending" in body
    detail = admin_client_verified.get(
        f"/admin/django_tasks_database/dbtaskresult/{row.pk}/change/"
    )
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # read-only: nothing to save
    assert (
        admin_client_verified.post(
            f"/admin/django_tasks_database/dbtaskresult/{row.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert DBTaskResult.objects.count() == 1
