"""Who may keep a copy of a response (docs/architecture.md, "Rules and where they live").

Pages shown to a signed-in person hold their data (session notes, reports, the
ops dashboard): neither the browser's cache on a shared computer nor a proxy
may store them. One middleware says so on every such response.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control


class PrivatePagesNotStoredMiddleware:
    """Add `Cache-Control: private, no-store` to every response to a signed-in user.

    "Signed in" is looked at before and after the view, so the responses that
    sign someone in and out are covered too. Sits just below SessionMiddleware:
    everything under it (views, CSRF refusals, rate-limit answers) is covered.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        signed_in = SESSION_KEY in request.session
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if signed_in or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response
