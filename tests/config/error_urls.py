"""The project's URLs plus views that fail on purpose, for tests/config/test_error_pages.py."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def empty_429(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=429)


def json_404(request: HttpRequest) -> HttpResponse:
    return HttpResponse('{"error": "gone"}', status=404, content_type="application/json")


urlpatterns = [
    path("__test__/boom/", boom),
    path("__test__/forbidden/", forbidden),
    path("__test__/empty-429/", empty_429),
    path("__test__/json-404/", json_404),
    *project_urlpatterns,
]
