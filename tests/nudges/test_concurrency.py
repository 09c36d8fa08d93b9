"""Runs at the same time: no duplicate flag, no duplicate email (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Count

from nudges import services
from nudges.models import NudgeFlag, NudgeRun
from tests.factories import ProgramFactory
from tests.nudges.helpers import NOW, TODAY, in_progress, invited, run_nudges, selected

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _stuck_program(n: int = 5) -> None:
    program = ProgramFactory()
    for _ in range(n):
        invited(program, days_ago=10)
        selected(program, days_ago=20)
        in_progress(program, last_session_days_ago=40)


def _one_run(i: int) -> str:
    out = StringIO()
    call_command("run_nudges", "--force", "--today", TODAY.isoformat(), stdout=out)
    return out.getvalue()


def test_two_runs_at_once_raise_each_flag_once_and_email_each_person_once(
    run_in_threads: Callable[..., list[Any]],
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    _stuck_program(5)

    results = run_in_threads(_one_run, 2)
    run_worker()

    assert not [r for r in results if isinstance(r, Exception)], results
    assert NudgeFlag.objects.count() == 15
    duplicates = (
        NudgeFlag.objects.values("engagement", "kind").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert len(mailoutbox) == 5 + 2 * 5 + 2 * 5
    assert len({(tuple(m.to), m.subject) for m in mailoutbox}) == len(mailoutbox)


def test_many_runs_at_once_still_email_each_person_once(
    run_in_threads: Callable[..., list[Any]],
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    _stuck_program(3)

    results = run_in_threads(_one_run, 4)
    run_worker()

    assert not [r for r in results if isinstance(r, Exception)], results
    assert NudgeFlag.objects.count() == 9
    assert len(mailoutbox) == 3 + 2 * 3 + 2 * 3


def test_the_unique_index_alone_prevents_duplicates_when_inserts_race(
    run_in_threads: Callable[..., list[Any]],
) -> None:
    """Without the run lock, simultaneous INSERTs still raise each flag exactly once."""
    program = ProgramFactory()
    for _ in range(20):
        invited(program, days_ago=10)

    def raise_without_lock(i: int) -> int:
        with transaction.atomic():
            return len(services._raise_flags(program=program, today=TODAY, now=NOW))

    results = run_in_threads(raise_without_lock, 4)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 20
    assert NudgeFlag.objects.count() == 20


def test_a_run_that_finds_another_in_progress_does_nothing_and_says_so(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    _stuck_program(1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [services.LOCK_KEY])
                locked.set()
                release.wait(timeout=30)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [services.LOCK_KEY])
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        output = run_nudges()
    finally:
        release.set()
        holder.join(timeout=30)

    assert "Another nudge run is in progress; this one did nothing." in output
    assert NudgeFlag.objects.count() == 0
    assert run_worker() == 0
    assert mailoutbox == []
    assert NudgeRun.objects.get().outcome == NudgeRun.Outcome.SKIPPED
