"""Request ids and JSON logs.

Every request carries an id: our proxy's X-Request-ID when TRUST_REQUEST_ID_HEADER
says the proxy sets it and it is sane, else a fresh one. It is echoed in the
response, stamped on every log line and read by the audit trail, together with
the client address.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_ip", default=None
)

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_EMAIL = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+\.[A-Za-z]{2,}")


def client_ip(request: HttpRequest) -> str | None:
    """The client address: REMOTE_ADDR, or the configured trusted proxy header."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header and (forwarded := request.META.get(header)):
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A client's own X-Request-ID would let it write anything into our logs
        # and audit trail; only a proxy that overwrites the header is trusted.
        incoming = (
            request.headers.get("X-Request-ID", "") if settings.TRUST_REQUEST_ID_HEADER else ""
        )
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)
        response["X-Request-ID"] = request_id
        return response


def scrub(text: str) -> str:
    """Mask anything shaped like an email address."""
    return _EMAIL.sub("[email]", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; email addresses masked as a last line of defence."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "message": scrub(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class RejectNulBytesMiddleware:
    """Answer 400 to any request whose query string holds a NUL.

    PostgreSQL refuses NUL in text, so a crafted %00 reaching any filter
    (the admin's list filters included) would otherwise surface as a 500.
    Form fields are covered by Django's own NUL validator on CharField.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("The request contains a NUL character.")
        return self.get_response(request)
