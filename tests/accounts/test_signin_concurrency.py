"""Parallel code checks on PostgreSQL: the locked sign-in row judges guesses one at a time."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, EmailCodeDevice, SignInRequest, hash_code
from accounts.services import CodeRejected, CodeUsedUp, SignInWait, login_code_verify
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _pending(**fields: object) -> tuple[SignInRequest, str]:
    user = factories.UserFactory(role="participant")
    token, code = secrets.token_urlsafe(32), "246810"
    request = SignInRequest.objects.create(
        token=token,
        user=user,
        code_hash=hash_code(token=token, code=code),
        valid_until=timezone.now() + timedelta(minutes=10),
        **fields,
    )
    return request, code


def _verify(token: str, code: str) -> object:
    try:
        return login_code_verify(token=token, code=code)
    except (CodeRejected, CodeUsedUp, SignInWait) as error:
        return error


def test_the_right_code_sent_twice_at_once_signs_in_only_once(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    request, code = _pending()
    results = run_in_threads(lambda i: _verify(request.token, code), THREADS)
    successes = [r for r in results if isinstance(r, EmailCodeDevice)]
    assert len(successes) == 1, results
    assert AuditEvent.objects.filter(action="signin.success").count() == 1


def test_parallel_wrong_guesses_cannot_all_count_as_the_first(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    request, _code = _pending()
    guesses = [f"{100000 + i:06d}" for i in range(THREADS)]
    results = run_in_threads(lambda i: _verify(request.token, guesses[i]), THREADS)
    request.refresh_from_db()
    # One guess is judged; the others meet its backoff instead of a fresh try each.
    assert request.failures == 1
    assert sum(isinstance(r, CodeRejected) for r in results) == 1
    assert sum(isinstance(r, SignInWait) for r in results) == THREADS - 1
    assert AuditEvent.objects.filter(action="signin.failure").count() == 1


def test_racing_to_the_fifth_failure_uses_the_code_up_exactly_once(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    request, code = _pending(failures=4, last_failure_at=timezone.now() - timedelta(minutes=1))
    results = run_in_threads(lambda i: _verify(request.token, "135790"), THREADS)
    request.refresh_from_db()
    assert request.failures == 5
    assert all(isinstance(r, CodeUsedUp) for r in results), results
    assert AuditEvent.objects.filter(action="signin.code_used_up").count() == 1
    assert isinstance(_verify(request.token, code), CodeUsedUp)


def test_someone_elses_wrong_guesses_never_touch_my_sign_in(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    mine, my_code = _pending()
    theirs = SignInRequest.objects.create(
        token=secrets.token_urlsafe(32),
        user=mine.user,
        code_hash="0" * 64,
        valid_until=timezone.now() + timedelta(minutes=10),
    )
    run_in_threads(lambda i: _verify(theirs.token, f"{i:06d}"), THREADS)
    mine.refresh_from_db()
    assert mine.failures == 0
    assert isinstance(_verify(mine.token, my_code), EmailCodeDevice)
