"""Who may keep a copy of a response (docs/architecture.md, "Rules and where they live").

Pages shown to a signed-in person hold their data (session notes, reports, the
ops dashboard): neither the browser's cache on a shared computer nor a proxy
may store them. One middleware says so on every such response. The only
responses that keep their own caching are files marked `immutable_file`: the
same bytes for everyone who may fetch them, under a name that changes when
the content does (coach photos).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control

# A year: the longest max-age caches are asked to honour (RFC 9111 advises no more).
IMMUTABLE_MAX_AGE = 365 * 24 * 60 * 60


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
        if getattr(response, "immutable_file", False):
            return response
        user = getattr(request, "user", None)
        if signed_in or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response


def immutable_file[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Let the browser keep a successful answer of `view` for a year without asking again.

    Only for files whose URL changes whenever their bytes do and that are the
    same for everyone who may fetch them. `private`: a signed-in visitor's
    answer also refreshes the session cookie, which no shared cache may keep.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            response["Cache-Control"] = f"private, max-age={IMMUTABLE_MAX_AGE}, immutable"
            response.immutable_file = True  # type: ignore[attr-defined]
        return response

    return wrapped  # type: ignore[return-value]
