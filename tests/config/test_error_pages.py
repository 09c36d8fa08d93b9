"""Branded error pages: each status has its page, a clear sentence and a way back."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from config.error_pages import server_error
from tests import factories
from tests.signin import login_verified

HOME_LINK = '<a class="button" href="/">Go to the home page</a>'


def assert_branded(response: Any, *, status: int, heading: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert re.search(rf'<h1 id="error-title">{re.escape(heading)}</h1>', body)
    assert f"Error {status}" in body
    assert '<a class="brand" href="/">Coachdesk</a>' in body  # base.html's header
    assert "<main" in body and "<footer" in body
    return body


@pytest.mark.django_db
def test_an_unknown_address_gets_the_branded_404(client: Client) -> None:
    body = assert_branded(
        client.get("/no-such-page/"), status=404, heading="We cannot find that page"
    )
    assert HOME_LINK in body
    assert "Not Found" not in body  # Django's unbranded page


@pytest.mark.django_db
def test_a_404_keeps_the_signed_in_header(client: Client) -> None:
    coach = factories.CoachFactory(user__full_name="Casey Coach")
    client.force_login(coach.user)
    response = client.get(f"/coach/engagements/{uuid.uuid4()}/")
    body = assert_branded(response, status=404, heading="We cannot find that page")
    assert "Casey Coach" in body and 'href="/coach/"' in body


@pytest.mark.django_db
def test_a_bad_host_gets_the_branded_400(client: Client) -> None:
    body = assert_branded(
        client.get("/", HTTP_HOST="evil.example"),
        status=400,
        heading="We could not understand that request",
    )
    assert "nothing was changed" in body
    assert HOME_LINK in body


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
def test_permission_denied_gets_the_branded_403(client: Client) -> None:
    body = assert_branded(
        client.get("/__test__/forbidden/"), status=403, heading="You cannot open this page"
    )
    assert "contact the team that runs your coaching program" in body
    assert HOME_LINK in body


@pytest.mark.django_db
def test_a_form_posted_without_its_csrf_token_gets_the_branded_403() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"email": "someone@example.com"})
    body = assert_branded(response, status=403, heading="This form has expired")
    assert "Nothing was sent." in body
    assert "CSRF verification failed" not in body  # Django's technical page
    assert 'href="/login/">Sign in</a>' in body


@pytest.mark.django_db
def test_the_csrf_page_offers_sign_in_only_to_anonymous_visitors() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.UserFactory(role="participant"))
    body = client.post("/logout/").content.decode()
    assert "This form has expired" in body
    assert 'href="/login/">Sign in</a>' not in body


@pytest.mark.django_db
def test_get_on_logout_gets_the_branded_405_and_keeps_the_allow_header(client: Client) -> None:
    response = client.get("/logout/")
    body = assert_branded(response, status=405, heading="This page cannot be used that way")
    assert response["Allow"] == "POST"
    assert "Sign out" in body and HOME_LINK in body
    assert int(response["Content-Length"]) == len(response.content)


@pytest.mark.django_db
def test_get_on_a_session_rating_gets_the_branded_405(client: Client) -> None:
    engagement = factories.engagement_with_coach()
    session = factories.SessionFactory(engagement=engagement)
    client.force_login(engagement.participant)
    response = client.get(f"/sessions/{session.public_id}/rating/")
    body = assert_branded(response, status=405, heading="This page cannot be used that way")
    assert response["Allow"] == "POST"
    assert "runs only from its button" in body


@pytest.mark.django_db
def test_a_post_to_a_page_that_only_reads_gets_the_other_405_sentence(client: Client) -> None:
    login_verified(client, factories.UserFactory(role="staff"))
    response = client.post("/ops/programs/")
    body = assert_branded(response, status=405, heading="This page cannot be used that way")
    assert response["Allow"] == "GET"
    assert "it does not take a form" in body


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
def test_an_empty_429_gets_the_branded_page(client: Client) -> None:
    body = assert_branded(
        client.get("/__test__/empty-429/"), status=429, heading="Please slow down"
    )
    assert "Wait a few minutes, then try again." in body


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
def test_an_error_answer_with_a_body_is_left_alone(client: Client) -> None:
    response = client.get("/__test__/json-404/")
    assert response.status_code == 404
    assert response.content == b'{"error": "gone"}'
    assert response["Content-Type"] == "application/json"


@pytest.mark.urls("tests.config.error_urls")
@override_settings(TRUST_REQUEST_ID_HEADER=True)  # so the page shows the id sent below
def test_a_crash_gets_the_branded_500_without_touching_the_database() -> None:
    # No django_db mark: pytest-django makes any database access raise, and that
    # would surface here as a failed handler, not as this page.
    client = Client(raise_request_exception=False)
    # A session cookie: reading the user behind it would need the database.
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
    response = client.get("/__test__/boom/", HTTP_X_REQUEST_ID="req-12345678")
    body = assert_branded(response, status=500, heading="Something went wrong on our side")
    assert "<code>req-12345678</code>" in body
    assert "a bug" not in body and "RuntimeError" not in body
    assert HOME_LINK in body
    assert 'href="/login/">Sign in</a>' in body  # no user is looked up


def test_the_500_handler_renders_without_a_database() -> None:
    request = RequestFactory().get("/anything/")
    response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
