"""Shared fixtures and the PostgreSQL-only test policy.

Tests marked `postgres` need real row locks and constraints: on SQLite they are
skipped with a visible reason; under CI=true any skipped test fails the run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from accounts.models import User
from coaches.models import CoachProfile
from engagements.models import Program
from tests import factories
from tests.signin import login_verified

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/coachdesk"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.section("CI forbids skipped tests", sep="=", red=True)
        for report in skipped:
            terminalreporter.write_line(f"skipped in CI: {report.nodeid}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def run_in_threads() -> Callable[..., list[Any]]:
    """Run fn(i) for i in range(n) in n threads started together; return results.

    Each thread has its own database connection, closed when it ends. An
    exception in a thread is returned in its slot rather than raised.
    """

    def run(fn: Callable[[int], Any], n: int) -> list[Any]:
        barrier = threading.Barrier(n)
        results: list[Any] = [None] * n

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=30)
                results[i] = fn(i)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                results[i] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results

    return run


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Every test starts and ends with an empty cache.

    The cache holds rate-limit counters, the dashboard's aggregates and the
    signed-in user's row (accounts/backends.py) under its primary key, which
    SQLite hands out again once a test's transaction is rolled back.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(tmp_path: Path) -> Iterator[None]:
    """Uploaded files (coach photos) go to a folder of the test's own, never to media/.

    override_settings rather than pytest-django's `settings`: requesting that here
    would set it up before every other fixture and restore it after them, so a
    test's own setting changes (a dead Redis) would outlive their fixtures' teardown.
    """
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield


@pytest.fixture
def run_worker(db: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Run the task worker (django-tasks-db's db_worker) here until no task is ready.

    This is what delivers email: tests that read `mailoutbox` call it first.
    Returns how many tasks ran. Tasks scheduled for later (a retry's backoff)
    are not ready yet; move the clock past their `run_after` and call it again.
    """
    from django_tasks_db.management.commands import db_worker
    from zeal import zeal_ignore

    # The worker drops stale connections between tasks; inside a test's
    # transaction that would close the test's own connection.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> int:
        worker = db_worker.Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        )
        # The worker's loop reads one task row per iteration, by design.
        with zeal_ignore():
            worker.run()
        return worker._run_tasks

    return run


@pytest.fixture
def participant(db: None) -> User:
    return factories.UserFactory(role="participant")


@pytest.fixture
def coach(db: None) -> CoachProfile:
    return factories.CoachFactory()


@pytest.fixture
def staff(db: None) -> User:
    return factories.UserFactory(role="staff")


@pytest.fixture
def program(db: None) -> Program:
    return factories.ProgramFactory()


@pytest.fixture
def admin_client_verified(client: Client, staff: User) -> Client:
    """A client signed in as staff with a code-verified session, as the admin requires."""
    return login_verified(client, staff)


@pytest.fixture(autouse=True)
def _raise_on_n_plus_one() -> Iterator[None]:
    """Every test runs inside django-zeal: an N+1 query pattern raises NPlusOneError.

    Requests get their own scope from zeal's middleware (settings, ZEAL=true), so
    two requests in one test that each load a relation once are not mistaken for
    an N+1; this context covers what tests call directly (services, commands).
    Threads start without it (contextvars are per thread) except inside requests.
    """
    from zeal import zeal_context, zeal_ignore

    # Tests read these rows again and again from their own helpers (each
    # client.session is a Session.get(); sign-in tests re-read the code device);
    # a request reads each of them once.
    test_reads = [
        {"model": "sessions.Session", "field": "get()"},
        {"model": "accounts.EmailCodeDevice", "field": "get()"},
    ]
    with zeal_ignore(test_reads), zeal_context():
        yield


@pytest.fixture(autouse=True)
def _command_is_a_unit_of_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each management command run gets its own django-zeal scope, as each request does.

    A test that runs a command twice (idempotency) repeats whole runs, which is
    not an N+1; an N+1 inside one run still raises.
    """
    from django.core.management.base import BaseCommand
    from zeal import zeal_context

    execute = BaseCommand.execute

    def execute_in_own_scope(self: BaseCommand, *args: Any, **options: Any) -> Any:
        with zeal_context():
            return execute(self, *args, **options)

    monkeypatch.setattr(BaseCommand, "execute", execute_in_own_scope)
