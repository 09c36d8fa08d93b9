"""No browser or proxy keeps a page shown to a signed-in person (config/caching.py).

The access matrix checks the header on every URL for every signed-in role; these
tests cover the edges: signing in and out, and a view that asks for caching.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import Client, RequestFactory

from accounts.models import User
from config.caching import PrivatePagesNotStoredMiddleware
from tests import factories

pytestmark = pytest.mark.django_db


def directives(response: HttpResponseBase) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def test_a_signed_in_page_is_private_and_not_stored(client: Client, participant: User) -> None:
    client.force_login(participant)

    response = client.get("/")

    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)


def test_a_page_for_visitors_keeps_its_own_caching(client: Client) -> None:
    response = client.get("/")

    assert "no-store" not in directives(response)


def test_the_answers_that_sign_in_and_out_are_not_stored(
    client: Client,
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
    run_worker: Callable[[], int],
) -> None:
    cache.clear()  # rate-limit counters
    client.post("/login/", {"email": participant.email})
    run_worker()  # sends the queued code email
    code = re.search(r"\b(\d{6})\b", str(mailoutbox[-1].body))
    assert code
    signed_in = client.post("/login/code/", {"code": code.group(1)})
    signed_out = client.post("/logout/")

    assert signed_in.status_code == signed_out.status_code == 302
    assert {"private", "no-store"} <= directives(signed_in)
    assert {"private", "no-store"} <= directives(signed_out)


def test_a_view_asking_for_public_caching_is_overruled_for_a_signed_in_user() -> None:
    user = factories.UserFactory()

    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("hello")
        response["Cache-Control"] = "public, max-age=600"
        return response

    def signed_in(request: HttpRequest) -> HttpResponse:
        request.user = user
        return view(request)

    request = RequestFactory().get("/")
    middleware = SessionMiddleware(PrivatePagesNotStoredMiddleware(signed_in))
    response = middleware(request)
    assert isinstance(response, HttpResponse)  # a synchronous stack

    assert "public" not in directives(response)
    assert {"private", "no-store"} <= directives(response)


def test_an_anonymous_answer_is_left_alone() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        request.user = AnonymousUser()
        response = HttpResponse("hello")
        response["Cache-Control"] = "public, max-age=600"
        return response

    response = SessionMiddleware(PrivatePagesNotStoredMiddleware(view))(RequestFactory().get("/"))
    assert isinstance(response, HttpResponse)

    assert directives(response) == {"public", "max-age=600"}


def test_an_immutable_file_keeps_its_year_long_cache_and_its_404_does_not() -> None:
    from config.caching import immutable_file

    user = factories.UserFactory()

    @immutable_file
    def view(request: HttpRequest, status: int) -> HttpResponse:
        request.user = user
        return HttpResponse(b"bytes", status=status)

    def run(status: int) -> HttpResponse:
        middleware = SessionMiddleware(PrivatePagesNotStoredMiddleware(lambda r: view(r, status)))
        response = middleware(RequestFactory().get("/"))
        assert isinstance(response, HttpResponse)
        return response

    assert directives(run(200)) == {"private", "max-age=31536000", "immutable"}
    assert {"private", "no-store"} <= directives(run(404))
