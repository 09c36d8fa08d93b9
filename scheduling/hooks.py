"""The webhook receivers: /hooks/calendly/<token>/ and /hooks/calcom/<token>/
(docs/architecture.md, "Bookings").

The token names the coach; the signature proves the provider. Answers, in the
order they are checked: 405 for anything but POST, 404 for an unknown token, 429
over the coach's rate (the providers retry any non-2xx), 413 over 256 KB, 401 for
a missing, wrong or stale signature, 400 for a body we cannot read; then 200. Every
refusal writes nothing and logs one line without the payload or the token (the
URL holds it, so Django's own "Not Found: <path>" line is suppressed).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage

from scheduling.models import BookingEndpoint, Provider
from scheduling.services import booking_receive
from scheduling.webhooks import (
    BookingEvent,
    HookRefused,
    calcom_event,
    calcom_verify,
    calendly_event,
    calendly_verify,
)

logger = logging.getLogger(__name__)


def _answer(status: int, message: str, **extra: str) -> HttpResponse:
    response = JsonResponse({"status": "refused" if status >= 300 else "ok", "detail": message})
    response.status_code = status
    for header, value in extra.items():
        response[header] = value
    # django.request logs 4xx answers with the path, and the path holds the token.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _refuse(
    provider: str, endpoint: BookingEndpoint | None, status: int, reason: str
) -> HttpResponse:
    logger.warning(
        "booking delivery refused: provider=%s coach=%s status=%d reason=%s",
        provider,
        endpoint.coach.public_id if endpoint else "unknown",
        status,
        reason,
    )
    return _answer(status, reason)


def _rate_limited(request: HttpRequest, endpoint: BookingEndpoint) -> int | None:
    """Seconds to wait when the coach's deliveries are over BOOKING_HOOK_RATE, else None."""
    key = hashlib.sha256(endpoint.token.encode()).hexdigest()
    usage = get_usage(
        request,
        group="scheduling.hook",
        key=lambda _g, _r: key,
        rate=settings.BOOKING_HOOK_RATE,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(int(usage["time_left"]), 0) + 1


def _verify_calendly(request: HttpRequest, body: bytes, secret: str) -> None:
    calendly_verify(
        header=request.headers.get("Calendly-Webhook-Signature", ""),
        body=body,
        secret=secret,
        now=timezone.now(),
    )


def _verify_calcom(request: HttpRequest, body: bytes, secret: str) -> None:
    calcom_verify(header=request.headers.get("X-Cal-Signature-256", ""), body=body, secret=secret)


Verifier = Callable[[HttpRequest, bytes, str], None]
Reader = Callable[[bytes], BookingEvent | None]
PROVIDERS: dict[str, tuple[Verifier, Reader]] = {
    Provider.CALENDLY: (_verify_calendly, calendly_event),
    Provider.CALCOM: (_verify_calcom, calcom_event),
}


def _receive(request: HttpRequest, token: str, provider: str) -> HttpResponse:
    if request.method != "POST":
        return _answer(405, "POST only.", Allow="POST")
    endpoint = BookingEndpoint.objects.select_related("coach").filter(token=token).first()
    if endpoint is None:
        return _refuse(provider, None, 404, "unknown endpoint")
    wait = _rate_limited(request, endpoint)
    if wait is not None:
        logger.warning(
            "booking delivery rate-limited: provider=%s coach=%s",
            provider,
            endpoint.coach.public_id,
        )
        return _answer(429, "Too many deliveries; retry later.", **{"Retry-After": str(wait)})
    body = request.body
    if len(body) > settings.BOOKING_HOOK_MAX_BODY:
        return _refuse(provider, endpoint, 413, "body too large")
    verify, read = PROVIDERS[provider]
    try:
        verify(request, body, endpoint.signing_secret)
        event = read(body)
    except HookRefused as refused:
        return _refuse(provider, endpoint, refused.status, refused.reason)
    if event is None:
        return _answer(200, "Event ignored.")
    received = booking_receive(endpoint=endpoint, event=event)
    logger.info(
        "booking delivery: provider=%s coach=%s event=%s booking=%s duplicate=%s",
        provider,
        endpoint.coach.public_id,
        event.name,
        received.session.public_id,
        received.duplicate,
    )
    return _answer(200, "Already recorded." if received.duplicate else "Recorded.")


@csrf_exempt
def calendly_hook(request: HttpRequest, token: str) -> HttpResponse:
    return _receive(request, token, Provider.CALENDLY)


@csrf_exempt
def calcom_hook(request: HttpRequest, token: str) -> HttpResponse:
    return _receive(request, token, Provider.CALCOM)
