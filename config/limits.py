"""Request bodies larger than anything Coachdesk accepts are refused before they are read.

Django bounds the form fields of a body (DATA_UPLOAD_MAX_MEMORY_SIZE) but not
its file parts: a 200 MB multipart body to any POST URL (the sign-in page
included) is streamed to a temporary file before a view can look at it. The
declared Content-Length is checked here first, so such a body is answered 413
and never read. A body without a Content-Length (chunked) is not read by
Django at all.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

KB = 1024
MB = 1024 * KB


def body_limit(request: HttpRequest) -> int:
    """The most this request's body may hold: a path's own limit (REQUEST_BODY_LIMITS_BY_PATH,
    by prefix), else uploads come only as multipart forms."""
    for prefix, path_limit in settings.REQUEST_BODY_LIMITS_BY_PATH.items():
        if request.path.startswith(prefix):
            return int(path_limit)
    if request.content_type == "multipart/form-data":
        limit: int = settings.REQUEST_BODY_MAX_SIZE
    else:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit


class RequestBodyLimitMiddleware:
    """Answer 413, with a page a person understands, to a body over `body_limit`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body at all without a usable length
        limit = body_limit(request)
        if length > limit:
            return render(request, "413.html", {"limit": size_in_words(limit)}, status=413)
        return self.get_response(request)


def size_in_words(size: int) -> str:
    """5242880 -> "5 MB", 262144 -> "256 KB": the limit this request was held to."""
    if size >= MB and size % MB == 0:
        return f"{size // MB} MB"
    return f"{-(-size // KB)} KB"
