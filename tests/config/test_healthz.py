from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from accounts.emails import email_deliver
from tests.accounts.test_launch_day import _RedisDown

pytestmark = pytest.mark.django_db


def _queue_message(enqueued_ago: timedelta, **fields: object) -> None:
    email_deliver.enqueue(
        message={"subject": "s", "body": "b", "from_email": None, "to": [], "alternatives": []},
        template="hello",
    )
    DBTaskResult.objects.update(enqueued_at=timezone.now() - enqueued_ago, **fields)


def test_healthz_is_ok_when_database_cache_and_queue_are(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "task_queue": "ok",
        "oldest_pending_seconds": 0,
    }


def test_healthz_is_503_when_the_database_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config import views

    def broken_cursor() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "down" and "database" in body["failing"]


def test_healthz_is_503_naming_the_cache_when_redis_is_down(
    client: Client, settings: Settings
) -> None:
    settings.CACHES = _RedisDown.CACHES
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert (body["database"], body["cache"], body["task_queue"]) == ("ok", "down", "ok")


def test_healthz_is_503_naming_the_queue_when_a_message_waits_too_long(
    client: Client, settings: Settings
) -> None:
    settings.HEALTHZ_QUEUE_MAX_AGE_SECONDS = 300
    _queue_message(timedelta(minutes=4))
    ok = client.get("/healthz")
    assert ok.status_code == 200 and 239 <= ok.json()["oldest_pending_seconds"] <= 241
    _queue_message(timedelta(minutes=6))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["task_queue"]
    assert response.json()["task_queue"] == "stale"


def test_healthz_ignores_sent_messages_and_retries_not_yet_due(client: Client) -> None:
    _queue_message(timedelta(hours=2), status="SUCCESSFUL")
    assert client.get("/healthz").status_code == 200
    DBTaskResult.objects.update(status="READY", run_after=timezone.now() + timedelta(minutes=5))
    assert client.get("/healthz").status_code == 200
