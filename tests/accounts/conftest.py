"""Sign-in helpers: request a code, read it from the email, enter it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import User
from tests.responses import ClientResponse

CODE_RE = re.compile(r"\b(\d{6})\b")


def code_in(message: EmailMessage) -> str:
    match = CODE_RE.search(str(message.body))
    assert match, "no 6-digit code in the email text"
    return match.group(1)


@pytest.fixture
def request_code(client: Client, run_worker: Callable[[], int]) -> Callable[..., ClientResponse]:
    """POST the address to /login/, then let the worker send what was queued."""

    def run(
        email: str, *, next: str | None = None, on: Client | None = None, **extra: Any
    ) -> ClientResponse:
        data = {"email": email}
        if next is not None:
            data["next"] = next
        response = (on or client).post("/login/", data, **extra)
        run_worker()
        return response

    return run


@pytest.fixture
def enter_code(
    client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> Callable[..., ClientResponse]:
    def run(code: str, *, on: Client | None = None, **extra: Any) -> ClientResponse:
        with django_capture_on_commit_callbacks(execute=True):
            return (on or client).post("/login/code/", {"code": code}, **extra)

    return run


@pytest.fixture
def sign_in(
    client: Client,
    mailoutbox: list[EmailMessage],
    request_code: Callable[..., ClientResponse],
    enter_code: Callable[..., ClientResponse],
) -> Callable[..., ClientResponse]:
    """Sign `user` in through the real flow; return the response to the code step."""

    def run(user: User, *, on: Client | None = None, next: str | None = None) -> ClientResponse:
        request_code(user.email, next=next, on=on)
        return enter_code(code_in(mailoutbox[-1]), on=on)

    return run
