"""Sign out deactivated accounts at their next request; slide idle timeouts; read
the session's OTP device through the cache."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from accounts.backends import device_of_session
from accounts.sessions import session_expiry_slide


class ActiveUserMiddleware:
    """End sessions that no longer belong to an active user.

    Django's ModelBackend.get_user already answers None for an inactive user,
    so request.user is anonymous; this also deletes the stale session, so
    reactivating the account does not bring the old session back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session and not request.user.is_authenticated:
            request.session.flush()
        return self.get_response(request)


class SessionExpiryMiddleware:
    """Slide a signed-in session's idle timeout, writing it only when due.

    The rule and its interval are in accounts/sessions.py; Django's
    SessionMiddleware saves the session only when this changed it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session and request.user.is_authenticated:
            session_expiry_slide(request.session, role=request.user.role)
        return self.get_response(request)


class CachedOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, reading the session's device through the cache.

    Every staff request checks that the device its session was verified with is
    still the user's and confirmed; the row comes from accounts/backends.py, like
    the user's, and is dropped whenever a device is saved or deleted.
    """

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        load = super()._device_from_persistent_id
        return device_of_session(persistent_id, lambda: load(persistent_id))
