"""The OTP-verified admin, its sign-in actions, rate limits (429) and security headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from accounts.models import AuditEvent, EmailCodeDevice
from accounts.services import login_code_verify
from accounts.views import ratelimit_email_key
from tests import factories

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_admin_refuses_a_staff_session_not_verified_by_code(client: Client, staff) -> None:  # noqa: ANN001
    client.force_login(staff)
    assert _lands_on(client, "/admin/") == "/login/?next=/admin/"


def test_admin_login_page_sends_people_to_the_code_sign_in(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response["Location"] == "/login/?next=/admin/accounts/user/"


def test_admin_admits_staff_verified_by_code(client: Client, sign_in, staff) -> None:  # noqa: ANN001
    client.get("/login/?next=/admin/")
    assert sign_in(staff, next="/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_refuses_a_verified_non_staff_user(client: Client, sign_in) -> None:  # noqa: ANN001
    sign_in(factories.UserFactory(role="coach"))
    assert _lands_on(client, "/admin/") == "/login/?next=/admin/"


def test_admin_sign_out_ends_the_session(client: Client, sign_in, staff) -> None:  # noqa: ANN001
    sign_in(staff)
    client.post("/admin/logout/")
    assert _lands_on(client, "/admin/") == "/login/?next=/admin/"
    assert AuditEvent.objects.filter(action="signin.signout").count() == 1


def test_staff_unlock_action_lets_a_locked_user_sign_in_again(
    client: Client, time_machine, sign_in, staff, participant
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    sign_in(staff)
    device, _ = EmailCodeDevice.objects.get_or_create(user=participant, defaults={"name": "E"})
    device.throttling_failure_count = 5
    device.throttling_failure_timestamp = START
    device.save()
    assert not device.verify_is_allowed()[0]
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock_sign_in", "_selected_action": [participant.pk, staff.pk]},
        follow=True,
    )
    assert "1 account(s) unlocked. 1 refused (not locked)." in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    code = device.generate_token()
    assert login_code_verify(email=participant.email, code=code).user == participant
    event = AuditEvent.objects.get(action="signin.unlock")
    assert (event.actor, event.before, event.after) == (
        staff,
        {"failure_count": 5},
        {"failure_count": 0},
    )


def test_staff_deactivate_action_signs_the_user_out_and_is_audited(
    client: Client, sign_in, staff
) -> None:  # noqa: ANN001
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


def test_unticking_active_in_the_user_form_is_audited(client: Client, sign_in, staff) -> None:  # noqa: ANN001
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


# Rate limits (django-ratelimit on the shared cache)


def test_fourth_code_email_for_one_address_in_fifteen_minutes_is_429(
    request_code, mailoutbox, participant
) -> None:  # noqa: ANN001
    for variant in (participant.email, participant.email.upper(), f" {participant.email} "):
        assert request_code(variant, REMOTE_ADDR="10.0.0.1").status_code == 302
    response = request_code(participant.email, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    assert "Please slow down" in response.content.decode()
    assert len(mailoutbox) == 3


def test_twenty_first_code_request_from_one_address_in_an_hour_is_429(request_code) -> None:  # noqa: ANN001
    for n in range(20):
        assert request_code(f"someone{n}@example.com").status_code == 302
    assert request_code("someone-else@example.com").status_code == 429


def test_eleventh_code_check_from_one_address_in_fifteen_minutes_is_429(
    time_machine, request_code, enter_code
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    request_code("nobody@example.com")
    for _ in range(10):
        assert enter_code("123456").status_code == 200
    assert enter_code("123456").status_code == 429


def test_client_address_comes_from_the_configured_proxy_header(settings, request_code) -> None:  # noqa: ANN001
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    for n in range(20):
        request_code(f"someone{n}@example.com", HTTP_X_REAL_IP="203.0.113.7")
    assert request_code("x@example.com", HTTP_X_REAL_IP="203.0.113.7").status_code == 429
    assert request_code("y@example.com", HTTP_X_REAL_IP="203.0.113.8").status_code == 302


def test_email_rate_limit_key_is_a_hash_of_the_normalised_address(rf) -> None:  # noqa: ANN001
    lower = ratelimit_email_key("g", rf.post("/login/", {"email": "ada@example.com"}))
    upper = ratelimit_email_key("g", rf.post("/login/", {"email": " ADA@Example.com"}))
    assert lower == upper
    assert "ada@example.com" not in lower and len(lower) == 64


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
    client: Client, sign_in, participant
) -> None:  # noqa: ANN001
    client.get("/login/", secure=True)
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    sign_in(participant)
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_pages_are_not_cached(client: Client) -> None:
    assert "no-store" in client.get("/login/")["Cache-Control"]


def test_throttled_page_never_shows_the_submitted_code(
    time_machine, request_code, enter_code
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    request_code("nobody@example.com")
    enter_code("123456")
    body = enter_code("654321").content.decode()  # within the 1-second backoff
    assert "Too many attempts. Try again after 09:01 (UTC)" in body
    assert "654321" not in body
    time_machine.shift(timedelta(seconds=1))
    assert "not right" in enter_code("654321").content.decode()
