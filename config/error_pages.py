"""Branded error pages: the 500 handler and the page for empty error answers.

Django renders templates/400.html, 403.html, 403_csrf.html (CSRF failure) and
404.html itself, with the request. Two gaps are filled here: the 500 page is
rendered without the request (no context processors, so no session or database
read on a failing request), and a view decorator such as `require_POST` answers
405 with an empty body, which browsers show as a broken page; the middleware
gives such answers the branded page and keeps their headers (Allow).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.http.response import HttpResponseBase
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

# Statuses whose empty answers get a page; others (204, 304, 503 from /healthz) keep theirs.
EMPTY_ERROR_TEMPLATES = {
    400: "400.html",
    403: "403.html",
    404: "404.html",
    405: "405.html",
    429: "429.html",
}


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the branded page with the request id, and nothing that can fail again."""
    template = loader.get_template("500.html")
    request_id = getattr(request, "request_id", "")
    return HttpResponseServerError(template.render({"request_id": request_id}))


class BrandedErrorPageMiddleware:
    """Give an error answer with an empty body (a 405 from `require_POST`) its branded page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        template = EMPTY_ERROR_TEMPLATES.get(response.status_code)
        if template is None or response.streaming or not isinstance(response, HttpResponse):
            return response
        if response.content:
            return response
        response.content = loader.render_to_string(template, request=request)
        response["Content-Type"] = "text/html; charset=utf-8"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
