"""Sign-in helpers: request a code, read it from the email, enter it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache

CODE_RE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Any:
    """Rate-limit counters and shadow throttles live in the cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


def code_in(message: Any) -> str:
    match = CODE_RE.search(message.body)
    assert match, "no 6-digit code in the email text"
    return match.group(1)


@pytest.fixture
def request_code(client: Any, run_worker: Callable[[], int]) -> Callable[..., Any]:
    """POST the address to /login/, then let the worker send what was queued."""

    def run(email: str, *, next: str | None = None, on: Any = None, **extra: Any) -> Any:
        data = {"email": email}
        if next is not None:
            data["next"] = next
        response = (on or client).post("/login/", data, **extra)
        run_worker()
        return response

    return run


@pytest.fixture
def enter_code(client: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    def run(code: str, *, on: Any = None, **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (on or client).post("/login/code/", {"code": code}, **extra)

    return run


@pytest.fixture
def sign_in(
    client: Any, mailoutbox: list[Any], request_code: Any, enter_code: Any
) -> Callable[..., Any]:
    """Sign `user` in through the real flow; return the response to the code step."""

    def run(user: Any, *, on: Any = None, next: str | None = None) -> Any:
        request_code(user.email, next=next, on=on)
        return enter_code(code_in(mailoutbox[-1]), on=on)

    return run
