"""After sign-in: where each role lands, `next`, session lifetimes, sign-out, deactivation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from accounts.models import AuditEvent, User
from accounts.services import user_deactivate
from accounts.sessions import SESSION_SECONDS
from tests import factories
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "home"),
    [("participant", "/"), ("coach", "/coach/"), ("sponsor", "/sponsor/"), ("staff", "/ops/")],
)
def test_each_role_lands_on_its_home(sign_in: Callable[..., Any], role: str, home: str) -> None:
    user = factories.UserFactory(role=role)
    assert sign_in(user)["Location"] == home


def test_same_site_next_is_honoured(client: Client, sign_in: Callable[..., Any]) -> None:
    user = factories.UserFactory(role="coach")
    client.get("/login/?next=/coach/engagements/")
    assert sign_in(user, next="/coach/engagements/?tab=open")["Location"] == (
        "/coach/engagements/?tab=open"
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://testserver/coach/",
        "evil.example",
        " //evil.example",
    ],
)
def test_next_pointing_off_site_is_refused(sign_in: Callable[..., Any], target: str) -> None:
    user = factories.UserFactory(role="coach")
    assert sign_in(user, next=target)["Location"] == "/coach/"


def test_participant_stays_signed_in_for_thirty_days(
    client: Client, time_machine: TimeMachineFixture, sign_in: Callable[..., Any], participant: User
) -> None:
    time_machine.move_to(START, tick=False)
    sign_in(participant)
    assert client.session.get_expiry_age() == 30 * 24 * 60 * 60
    time_machine.shift(timedelta(days=29, hours=23))
    assert _signed_in(client)
    time_machine.shift(timedelta(days=30, minutes=1))
    assert not _signed_in(client)


@pytest.mark.parametrize("role", ["coach", "sponsor", "staff"])
def test_other_roles_are_signed_out_after_thirty_idle_minutes(
    client: Client, time_machine: TimeMachineFixture, sign_in: Callable[..., Any], role: str
) -> None:
    time_machine.move_to(START, tick=False)
    sign_in(factories.UserFactory(role=role))
    time_machine.shift(timedelta(minutes=29))
    assert _signed_in(client)
    time_machine.shift(timedelta(minutes=29))  # 58 minutes in, but never idle for 30
    assert _signed_in(client)
    time_machine.shift(timedelta(minutes=30, seconds=1))
    assert not _signed_in(client)


def test_never_more_than_thirty_idle_minutes_between_two_expiry_writes(
    client: Client, time_machine: TimeMachineFixture, sign_in: Callable[..., Any]
) -> None:
    time_machine.move_to(START, tick=False)
    sign_in(factories.UserFactory(role="coach"))
    time_machine.shift(timedelta(seconds=50))  # within the interval: nothing written
    assert _signed_in(client)
    time_machine.shift(timedelta(minutes=29, seconds=11))  # 30 min 1 s after sign-in
    assert not _signed_in(client)


@pytest.mark.parametrize(
    ("role", "later"),
    [
        ("participant", timedelta(days=20)),
        ("coach", timedelta(seconds=59)),
        ("sponsor", timedelta(seconds=59)),
        ("staff", timedelta(seconds=59)),
    ],
)
def test_a_request_within_the_refresh_interval_writes_nothing_to_the_session_table(
    client: Client,
    time_machine: TimeMachineFixture,
    sign_in: Callable[..., Any],
    role: str,
    later: timedelta,
) -> None:
    time_machine.move_to(START, tick=False)
    sign_in(factories.UserFactory(role=role))
    time_machine.shift(later)
    with CaptureQueriesContext(connection) as queries:
        assert _signed_in(client)
    assert _session_writes(queries) == []
    assert _stored_expiry(client) == START + timedelta(seconds=SESSION_SECONDS[role])


@pytest.mark.parametrize("role", ["coach", "sponsor", "staff"])
def test_the_idle_expiry_is_written_again_once_a_minute_has_passed(
    client: Client, time_machine: TimeMachineFixture, sign_in: Callable[..., Any], role: str
) -> None:
    time_machine.move_to(START, tick=False)
    sign_in(factories.UserFactory(role=role))
    time_machine.shift(timedelta(minutes=1, seconds=1))
    with CaptureQueriesContext(connection) as queries:
        assert _signed_in(client)
    assert len(_session_writes(queries)) == 1
    assert _stored_expiry(client) == START + timedelta(minutes=31, seconds=1)
    with CaptureQueriesContext(connection) as queries:
        assert _signed_in(client)
    assert _session_writes(queries) == []


def test_a_session_stored_with_an_expiry_in_seconds_gets_a_date_once(
    client: Client, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(START, tick=False)
    client.force_login(factories.UserFactory(role="coach"))
    session = client.session
    session.set_expiry(30 * 60)  # as sessions were stored before fixed dates
    session.save()
    time_machine.shift(timedelta(seconds=10))
    assert _signed_in(client)
    assert _stored_expiry(client) == START + timedelta(minutes=30, seconds=10)
    with CaptureQueriesContext(connection) as queries:
        assert _signed_in(client)
    assert _session_writes(queries) == []


def test_participant_sessions_do_not_slide(
    client: Client,
    time_machine: TimeMachineFixture,
    sign_in: Callable[..., Any],
    participant: User,
) -> None:
    time_machine.move_to(START, tick=False)
    sign_in(participant)
    time_machine.shift(timedelta(days=29, hours=23))
    assert _signed_in(client)
    time_machine.shift(timedelta(hours=1, seconds=1))  # 30 days after sign-in, used all along
    assert not _signed_in(client)


def test_logout_is_post_only(
    client: Client, sign_in: Callable[..., Any], participant: User
) -> None:
    sign_in(participant)
    assert client.get("/logout/").status_code == 405
    assert _signed_in(client)


def test_logout_ends_the_session_and_is_audited(
    client: Client, sign_in: Callable[..., Any], participant: User
) -> None:
    sign_in(participant)
    session_key = client.session.session_key
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not _signed_in(client)
    event = AuditEvent.objects.get(action="signin.signout")
    assert event.actor == participant


def test_model_backend_refuses_an_inactive_user(participant: User) -> None:
    participant.is_active = False
    participant.save()
    assert ModelBackend().get_user(participant.pk) is None


def test_deactivated_user_is_signed_out_at_the_next_request_everywhere(
    sign_in: Callable[..., Any], staff: User
) -> None:
    user = factories.UserFactory(role="coach")
    laptop, phone = Client(), Client()
    sign_in(user, on=laptop)
    sign_in(user, on=phone)
    keys = [laptop.session.session_key, phone.session.session_key]
    assert user_deactivate(user=user, actor=staff)
    for browser in (laptop, phone):
        assert not _signed_in(browser)
    assert not Session.objects.filter(session_key__in=keys).exists()
    event = AuditEvent.objects.get(action="user.deactivated")
    assert (event.actor, event.object_id) == (staff, str(user.public_id))


def test_deactivated_user_cannot_request_codes(
    request_code: Callable[..., Any], mailoutbox: list[EmailMultiAlternatives], participant: User
) -> None:
    user_deactivate(user=participant, actor=None)
    assert request_code(participant.email)["Location"] == "/login/code/"
    assert mailoutbox == []


def test_deactivating_twice_is_refused_without_a_second_event(participant: User) -> None:
    assert user_deactivate(user=participant, actor=None)
    assert not user_deactivate(user=participant, actor=None)
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1


def test_no_email_or_code_reaches_logs_or_audit_events(
    client: Client,
    caplog: pytest.LogCaptureFixture,
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    time_machine.move_to(START, tick=False)
    caplog.set_level(logging.DEBUG)
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    enter_code("000000" if code != "000000" else "111111")
    time_machine.shift(timedelta(seconds=2))
    enter_code(code)
    client.post("/logout/")
    request_code("nobody@example.com")
    enter_code("123456")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    events = list(AuditEvent.objects.values_list("action", "object_id", "before", "after"))
    actions = [event[0] for event in events]
    assert sorted(set(actions)) == ["signin.failure", "signin.signout", "signin.success"]
    for secret in (participant.email, "nobody@example.com", code):
        assert secret not in logged
        assert secret not in str(events)


def _signed_in(client: Client) -> bool:
    response = client.get("/")
    return SESSION_KEY in client.session and response.wsgi_request.user.is_authenticated


def _session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]


def _stored_expiry(client: Client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date
