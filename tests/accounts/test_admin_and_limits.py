"""The OTP-verified admin, its sign-in actions, rate limits (429) and security headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import Client, RequestFactory
from pytest_django import Settings
from time_machine import TimeMachineFixture

from accounts.limits import email_digest, wait_in_words
from accounts.models import AuditEvent, User
from tests import factories
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_admin_refuses_a_staff_session_not_verified_by_code(client: Client, staff: User) -> None:
    client.force_login(staff)
    assert _lands_on(client, "/admin/") == "/login/?next=/admin/"


def test_admin_login_page_sends_people_to_the_code_sign_in(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response["Location"] == "/login/?next=/admin/accounts/user/"


def test_admin_admits_staff_verified_by_code(
    client: Client, sign_in: Callable[..., Any], staff: User
) -> None:
    client.get("/login/?next=/admin/")
    assert sign_in(staff, next="/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_refuses_a_verified_non_staff_user(
    client: Client, sign_in: Callable[..., Any]
) -> None:
    sign_in(factories.UserFactory(role="coach"))
    assert _lands_on(client, "/admin/") == "/login/?next=/admin/"


def test_admin_sign_out_ends_the_session(
    client: Client, sign_in: Callable[..., Any], staff: User
) -> None:
    sign_in(staff)
    client.post("/admin/logout/")
    assert _lands_on(client, "/admin/") == "/login/?next=/admin/"
    assert AuditEvent.objects.filter(action="signin.signout").count() == 1


def test_staff_unlock_action_lets_a_person_over_the_address_limit_ask_again(
    client: Client,
    sign_in: Callable[..., Any],
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    staff: User,
    participant: User,
) -> None:
    browser = Client()
    for _ in range(5):
        assert request_code(participant.email, on=browser).status_code == 302
    assert request_code(participant.email, on=browser).status_code == 429
    sign_in(staff)
    gone = factories.UserFactory(is_active=False)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock_sign_in", "_selected_action": [participant.pk, gone.pk]},
        follow=True,
    )
    assert "1 account(s) unlocked. 1 refused (deactivated)." in response.content.decode()
    assert request_code(participant.email, on=browser).status_code == 302
    assert enter_code(code_in(mailoutbox[-1]), on=browser).status_code == 302
    event = AuditEvent.objects.get(action="signin.unlock")
    assert (event.actor, event.object_id) == (staff, str(participant.public_id))


def test_staff_deactivate_action_signs_the_user_out_and_is_audited(
    client: Client, sign_in: Callable[..., Any], staff: User
) -> None:
    coach = factories.UserFactory(role="coach")
    coach_browser = Client()
    sign_in(coach, on=coach_browser)
    sign_in(staff)
    client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [coach.pk, staff.pk]},
    )
    coach.refresh_from_db()
    assert not coach.is_active
    assert not coach_browser.get("/").wsgi_request.user.is_authenticated
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1
    assert client.get("/admin/").status_code == 200  # staff did not deactivate themselves


def test_unticking_active_in_the_user_form_is_audited(
    client: Client, sign_in: Callable[..., Any], staff: User
) -> None:
    sponsor = factories.UserFactory(role="sponsor")
    sign_in(staff)
    client.post(
        f"/admin/accounts/user/{sponsor.pk}/change/",
        {"email": sponsor.email, "full_name": sponsor.full_name, "role": "sponsor"},
    )
    sponsor.refresh_from_db()
    assert not sponsor.is_active
    assert AuditEvent.objects.get(action="user.deactivated").actor == staff


def _lands_on(client: Client, path: str) -> str:
    """Where a browser ends up after following redirects (the admin's login hop included)."""
    response = client.get(path, follow=True)
    return response.redirect_chain[-1][0] if response.redirect_chain else path


# Rate limits (accounts/limits.py, counted in the shared cache)


def test_sixth_code_request_for_one_address_in_fifteen_minutes_is_429_with_the_wait(
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    time_machine.move_to(START, tick=False)
    variants = [participant.email, participant.email.upper(), f" {participant.email} "]
    for variant in variants + variants[:2]:
        assert request_code(variant).status_code == 302
    response = request_code(participant.email)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Please slow down" in body
    assert "Use the code in the most recent email, or ask for a new code in" in body
    assert re.search(r"in \d+ (minutes?|seconds?)\.", body)
    assert "UTC" not in body
    assert len(mailoutbox) == 5


def test_the_wait_on_the_address_limit_is_never_wrong(
    time_machine: TimeMachineFixture, request_code: Callable[..., Any], participant: User
) -> None:
    time_machine.move_to(START, tick=False)
    for _ in range(5):
        request_code(participant.email)
    body = request_code(participant.email).content.decode()
    wait = re.search(r"in (\d+) minutes?\.", body)
    assert wait, body
    minutes = int(wait.group(1))
    time_machine.shift(timedelta(minutes=minutes))
    assert request_code(participant.email).status_code == 302


@pytest.mark.parametrize("value", [f"value-{n}" for n in range(40)])
def test_the_counted_wait_ends_exactly_when_the_window_does(
    time_machine: TimeMachineFixture, rf: RequestFactory, value: str
) -> None:
    """The wait is exact to the second whatever the window's jitter: still refused
    one second before it ends, allowed when it ends. (The library's window holds at
    the second it names as its end, which once made the wait a second short.)"""
    from accounts.limits import _count

    time_machine.move_to(START, tick=False)
    request = rf.post("/login/")
    for _ in range(2):
        assert _count(request, "wait-test", value, "2/h") is None
    wait = _count(request, "wait-test", value, "2/h")
    assert wait is not None
    time_machine.shift(timedelta(seconds=wait - 1))
    assert _count(request, "wait-test", value, "2/h") is not None
    time_machine.shift(timedelta(seconds=1))
    assert _count(request, "wait-test", value, "2/h") is None


def test_other_client_addresses_cannot_use_up_a_persons_allowance(
    request_code: Callable[..., Any], participant: User
) -> None:
    for _ in range(6):
        request_code(participant.email, REMOTE_ADDR="198.51.100.9")
    assert request_code(participant.email, REMOTE_ADDR="203.0.113.7").status_code == 302


def test_client_address_flood_guard_comes_from_the_setting_and_says_how_long(
    settings: Settings, request_code: Callable[..., Any]
) -> None:
    settings.SIGNIN_CLIENT_ADDRESS_RATE = "20/h"
    for n in range(20):
        assert request_code(f"someone{n}@example.com").status_code == 302
    response = request_code("someone-else@example.com")
    assert response.status_code == 429
    assert "Too many sign-in requests are coming from your network right now." in (
        response.content.decode()
    )


def test_client_address_comes_from_the_configured_proxy_header(
    settings: Settings, request_code: Callable[..., Any]
) -> None:
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.SIGNIN_CLIENT_ADDRESS_RATE = "20/h"
    for n in range(20):
        request_code(f"someone{n}@example.com", HTTP_X_REAL_IP="203.0.113.7")
    assert request_code("x@example.com", HTTP_X_REAL_IP="203.0.113.7").status_code == 429
    assert request_code("y@example.com", HTTP_X_REAL_IP="203.0.113.8").status_code == 302


def test_the_default_flood_guard_fits_a_thousand_people_behind_one_address(
    settings: Settings,
) -> None:
    count, period = settings.SIGNIN_CLIENT_ADDRESS_RATE.split("/")
    assert (int(count), period) == (3000, "h")


def test_email_digest_is_a_hash_of_the_normalised_address() -> None:
    lower = email_digest("ada@example.com")
    assert lower == email_digest(" ADA@Example.com")
    assert "ada@example.com" not in lower and len(lower) == 64


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "1 second"),
        (1, "1 second"),
        (2.1, "3 seconds"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (14 * 60 + 1, "15 minutes"),
        (3600, "60 minutes"),
        (3601, "61 minutes"),
        (7201, "3 hours"),
    ],
)
def test_waits_are_said_in_words_and_rounded_up(seconds: float, words: str) -> None:
    assert wait_in_words(seconds) == words


# Security headers with production settings


def test_responses_carry_the_security_headers(client: Client) -> None:
    response = client.get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp


def test_session_and_csrf_cookies_are_secure_httponly_and_lax(
    client: Client, sign_in: Callable[..., Any], participant: User
) -> None:
    client.get("/login/", secure=True)
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    sign_in(participant)
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_pages_are_not_cached(client: Client) -> None:
    assert "no-store" in client.get("/login/")["Cache-Control"]


def test_throttled_page_never_shows_the_submitted_code(
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
) -> None:
    time_machine.move_to(START, tick=False)
    request_code("nobody@example.com")
    enter_code("123456")
    body = enter_code("654321").content.decode()  # within the 1-second backoff
    assert "try again in 1 second." in body
    assert "654321" not in body
    time_machine.shift(timedelta(seconds=1))
    assert "not right" in enter_code("654321").content.decode()
