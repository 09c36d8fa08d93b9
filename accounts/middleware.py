"""Sign out deactivated accounts at their next request; slide idle timeouts."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse

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
