"""Parallel code checks on PostgreSQL: the locked device row judges guesses one at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, EmailCodeDevice
from accounts.services import CodeRejected, SignInLocked, login_code_verify
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _device(**fields: object) -> tuple[EmailCodeDevice, str]:
    user = factories.UserFactory(role="participant")
    device = EmailCodeDevice.objects.create(user=user, name="Email", **fields)
    return device, device.generate_token()


def _verify(email: str, code: str) -> object:
    try:
        return login_code_verify(email=email, code=code)
    except (CodeRejected, SignInLocked) as error:
        return error


def test_the_right_code_sent_twice_at_once_signs_in_only_once(run_in_threads) -> None:  # noqa: ANN001
    device, code = _device()
    results = run_in_threads(lambda i: _verify(device.user.email, code), THREADS)
    successes = [r for r in results if isinstance(r, EmailCodeDevice)]
    assert len(successes) == 1, results
    assert all(isinstance(r, CodeRejected | SignInLocked) for r in results if r not in successes)
    assert AuditEvent.objects.filter(action="signin.success").count() == 1


def test_parallel_wrong_guesses_cannot_all_count_as_the_first(run_in_threads) -> None:  # noqa: ANN001
    device, code = _device()
    guesses = [f"{(int(code) + i + 1) % 1_000_000:06d}" for i in range(THREADS)]
    results = run_in_threads(lambda i: _verify(device.user.email, guesses[i]), THREADS)
    device.refresh_from_db()
    # One guess is judged; the others meet its backoff instead of a fresh try each.
    assert device.throttling_failure_count == 1
    assert sum(isinstance(r, CodeRejected) for r in results) == 1
    assert sum(isinstance(r, SignInLocked) for r in results) == THREADS - 1
    assert AuditEvent.objects.filter(action="signin.failure").count() == 1


def test_racing_to_the_fifth_failure_locks_out_exactly_once(run_in_threads) -> None:  # noqa: ANN001
    device, code = _device(
        throttling_failure_count=4,
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=1),
    )
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    results = run_in_threads(lambda i: _verify(device.user.email, wrong), THREADS)
    device.refresh_from_db()
    assert device.throttling_failure_count == 5
    assert all(isinstance(r, SignInLocked) for r in results), results
    assert AuditEvent.objects.filter(action="signin.lockout").count() == 1
    assert _verify(device.user.email, code).__class__ is SignInLocked
