"""Rate limits on asking for sign-in codes, counted in the shared cache (Redis).

Two limits, in this order (docs/architecture.md, "Sign-in"):
- a coarse flood guard per client address (SIGNIN_CLIENT_ADDRESS_RATE), whose
  default lets 1,000 people behind one office address sign in within an hour;
- per email address, counted separately for each client address
  (SIGNIN_ADDRESS_RATE), so nobody elsewhere can use up a person's allowance.

Checking codes has no client-address limit at all: each pending sign-in allows
a few wrong codes (accounts.models.GUESSES_PER_CODE), so a correct code is never
refused because other people share the address. When the cache cannot be
reached the limits fail closed (settings.py says why): SignInUnavailable.
"""

from __future__ import annotations

import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django_ratelimit.core import get_usage

from accounts.models import normalize_email
from config.errors import DomainError
from config.observability import client_ip


class SignInUnavailable(DomainError):
    code = "signin_unavailable"
    message = "Sign-in is briefly unavailable. Please try again in a minute."
    http_status = 503


class TooManyRequests(DomainError):
    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, *, wait_seconds: int) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(message)


def wait_in_words(seconds: float) -> str:
    """'Try again in 4 minutes': rounded up, so the wait it gives is never too short."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes <= 120:  # "in 2 hours" for 61 minutes would be too coarse to plan by
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def email_digest(email: str) -> str:
    """A keyed hash of a normalised address: a cache key that reveals no email."""
    return salted_hmac(
        "accounts.email_digest", normalize_email(email), algorithm="sha256"
    ).hexdigest()


def limit_client_address(request: HttpRequest) -> str:
    """The client address the limits count by (a bucket for requests without one)."""
    address = client_ip(request) or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"  # noqa: S104 - a bucket for requests without a usable address


def code_request_allow(request: HttpRequest, *, email: str) -> None:
    """Count one code request; raise TooManyRequests (with the wait) or SignInUnavailable.

    The same cache work for every address, whether or not it has an account.
    """
    ip = limit_client_address(request)
    try:
        flood = _count(request, "signin-client", ip, settings.SIGNIN_CLIENT_ADDRESS_RATE)
        if flood is not None:
            raise TooManyRequests(
                "Too many sign-in requests are coming from your network right now. "
                f"Try again in {wait_in_words(flood)}.",
                wait_seconds=flood,
            )
        digest = email_digest(email)
        generation = cache.get(_generation_key(digest), 0)
        per_address = _count(
            request, "signin-address", f"{digest}:{generation}:{ip}", settings.SIGNIN_ADDRESS_RATE
        )
    except TooManyRequests:
        raise
    except Exception as error:  # noqa: BLE001 - any cache failure: fail closed
        raise SignInUnavailable() from error
    if per_address is not None:
        raise TooManyRequests(
            "You have asked for several codes for this address in a short time. "
            "Use the code in the most recent email, or ask for a new code in "
            f"{wait_in_words(per_address)}.",
            wait_seconds=per_address,
        )


def address_limits_reset(*, email: str) -> None:
    """Start the per-address counts of `email` afresh, from every client address."""
    cache.set(_generation_key(email_digest(email)), time.time_ns(), timeout=None)


def _generation_key(digest: str) -> str:
    return f"signin-address-generation:{digest}"


def _count(request: HttpRequest, group: str, value: str, rate: str) -> int | None:
    """Count one hit; the seconds until the window ends when over the limit, else None."""
    usage = get_usage(request, group=group, key=lambda _g, _r: value, rate=rate, increment=True)
    if usage is None:  # RATELIMIT_ENABLE off
        return None
    if usage["time_left"] < 0:  # the cache answered nothing usable
        raise SignInUnavailable()
    if usage["should_limit"]:
        # django-ratelimit's window still holds at the second it names as its end
        # (time_left 0): the next window starts one second after it.
        return int(usage["time_left"]) + 1
    return None
