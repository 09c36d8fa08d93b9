"""Launch day: an office behind one address signs in, nobody can keep another person
out, the request reveals nothing, and a Redis outage is a clear 503."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings
from time_machine import TimeMachineFixture

from accounts.models import AuditEvent, Role, SignInRequest, User
from tests import factories
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICE = "203.0.113.50"


def _shape(sql: str) -> str:
    """A statement with its values taken out: what the database is asked to do."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)
    return re.sub(r"\b\d+(\.\d+)?\b", "?", sql)


def test_the_request_does_the_same_database_work_for_known_unknown_and_deactivated_addresses(
    client: Client,
) -> None:
    factories.UserFactory(email="known@example.com")
    factories.UserFactory(email="gone@example.com", is_active=False)
    captured = {}
    for email in ("known@example.com", "nobody@example.com", "gone@example.com"):
        browser = Client()
        browser.get("/login/")
        with CaptureQueriesContext(connection) as queries:
            response = browser.post("/login/", {"email": email})
        assert response.status_code == 302
        captured[email] = [_shape(q["sql"]) for q in queries.captured_queries]
    known, unknown, gone = captured.values()
    assert known == unknown == gone
    # The request never even looks the address up: the worker does.
    assert not any("accounts_user" in sql for sql in known)
    assert sum(sql.startswith("INSERT INTO") and "dbtaskresult" in sql for sql in known) == 1
    assert DBTaskResult.objects.count() == 3


def test_a_thousand_people_behind_one_office_address_all_sign_in(
    run_worker: Callable[[], int], mailoutbox: list[EmailMultiAlternatives]
) -> None:
    people = User.objects.bulk_create(
        User(email=f"employee{n}@northwind.example", full_name=f"Employee {n}", password="!")
        for n in range(1000)
    )
    browsers: dict[str, Client] = {}
    for person in people:
        browser = Client(REMOTE_ADDR=OFFICE)
        assert browser.post("/login/", {"email": person.email}).status_code == 302
        browsers[person.email] = browser
    assert run_worker() == 1000
    codes = {message.to[0]: code_in(message) for message in mailoutbox}
    refused = [
        email
        for email, browser in browsers.items()
        if browser.post("/login/code/", {"code": codes[email]}).status_code != 302
    ]
    assert refused == []
    assert AuditEvent.objects.filter(action="signin.success").count() == 1000


def test_a_flood_from_one_address_for_random_emails_is_bounded(
    settings: Settings, run_worker: Callable[[], int]
) -> None:
    settings.SIGNIN_CLIENT_ADDRESS_RATE = "50/h"
    browser = Client(REMOTE_ADDR=OFFICE)
    answers = [
        browser.post("/login/", {"email": f"random{n}@spam.example"}).status_code for n in range(80)
    ]
    assert answers.count(302) == 50 and answers.count(429) == 30
    assert DBTaskResult.objects.count() == 50  # refused requests queue nothing
    assert run_worker() == 50


@pytest.mark.parametrize("attacker_address", [OFFICE, "198.51.100.66"])
def test_nobody_can_keep_another_person_out(
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    attacker_address: str,
) -> None:
    time_machine.move_to(START, tick=False)
    victim = factories.UserFactory(role=Role.PARTICIPANT)
    attacker = Client(REMOTE_ADDR=attacker_address)
    for _ in range(3):
        assert request_code(victim.email, on=attacker).status_code == 302
    for guess in ("000001", "000002", "000003", "000004", "000005"):
        enter_code(guess, on=attacker)
        time_machine.shift(timedelta(seconds=10))
    victims_browser = Client(REMOTE_ADDR=OFFICE)
    assert request_code(victim.email, on=victims_browser).status_code == 302
    response = enter_code(code_in(mailoutbox[-1]), on=victims_browser)
    assert response.status_code == 302 and response["Location"] == "/"
    assert datetime.now(tz=UTC) - START < timedelta(minutes=15)


class _RedisDown:
    """CACHES pointing at a Redis that refuses connections (nothing listens on port 1)."""

    CACHES: Any = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


def test_with_redis_down_asking_for_a_code_is_a_clear_503_page_and_nothing_is_queued(
    client: Client, settings: Settings, participant: User
) -> None:
    assert client.get("/login/").status_code == 200  # the form itself needs no cache
    settings.CACHES = _RedisDown.CACHES
    response = client.post("/login/", {"email": participant.email})
    assert response.status_code == 503
    body = response.content.decode()
    assert "Sign-in is briefly unavailable" in body
    assert "Please try again in a minute." in body
    assert DBTaskResult.objects.count() == 0
    assert SignInRequest.objects.count() == 0


def test_with_redis_down_a_code_already_sent_still_signs_in(
    client: Client,
    settings: Settings,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    request_code(participant.email)
    settings.CACHES = _RedisDown.CACHES
    assert enter_code(code_in(mailoutbox[0])).status_code == 302
