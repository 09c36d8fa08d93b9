from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the cache and the email queue are healthy; else 503
    naming the failing part (for load balancers and monitoring).

    The queue is unhealthy when a message has waited longer than
    HEALTHZ_QUEUE_MAX_AGE_SECONDS to be picked up: no worker is running, or the
    workers cannot keep up.
    """
    report: dict[str, Any] = {"database": "ok", "cache": "ok", "task_queue": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unavailable")
        report["database"] = "down"
    try:
        nonce = secrets.token_hex(8)
        cache.set("healthz", nonce, timeout=10)
        if cache.get("healthz") != nonce:
            raise ConnectionError("the cache did not keep a value")
    except Exception as error:  # noqa: BLE001 - any cache failure is "down"
        logger.warning("health check: cache unavailable: %s", type(error).__name__)
        report["cache"] = "down"
    if report["database"] == "ok":
        report.update(_queue_health())
    else:
        report["task_queue"] = "unknown"
    failing = [part for part in ("database", "cache", "task_queue") if report[part] != "ok"]
    if failing:
        report = {"status": "unavailable", "failing": failing, **report}
        return JsonResponse(report, status=503)
    return JsonResponse({"status": "ok", **report})


def _queue_health() -> dict[str, Any]:
    from django_tasks_db.models import DBTaskResult

    try:
        oldest = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    except DatabaseError:
        logger.exception("health check: task queue unreadable")
        return {"task_queue": "down"}
    age = 0 if oldest is None else int((timezone.now() - oldest).total_seconds())
    state = "ok" if age <= settings.HEALTHZ_QUEUE_MAX_AGE_SECONDS else "stale"
    return {"task_queue": state, "oldest_pending_seconds": age}
