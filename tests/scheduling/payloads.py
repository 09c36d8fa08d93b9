"""Deliver the sample bodies (scheduling/samples.py) to a receiver as the provider would."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from scheduling.samples import body_of, calcom, calendly, invitee_uri, signed_headers

__all__ = ["body_of", "calcom", "calendly", "deliver", "invitee_uri"]


def deliver(
    client: Any,
    provider: str,
    endpoint: Any,
    data: dict[str, Any] | bytes,
    *,
    secret: str | None = None,
    at: int | None = None,
    token: str | None = None,
) -> Any:
    """POST `data` signed as `provider` signs it (with `secret`, at `at`) to the endpoint."""
    body = data if isinstance(data, bytes) else body_of(data)
    secret = endpoint.signing_secret if secret is None else secret
    headers = signed_headers(provider, body, secret=secret, at=at)
    url = reverse(f"scheduling:{provider}_hook", kwargs={"token": token or endpoint.token})
    return client.post(url, body, content_type="application/json", headers=headers)
