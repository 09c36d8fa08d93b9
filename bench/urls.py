"""The app's URLs plus `/bench/bare/`: the floor of a signed-in page.

Login required, the base template, no query of its own: what every signed-in
page costs before it does anything (issue 16's "bare signed-in view").
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns

BARE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Signed in{% endblock %}'
    "{% block content %}<h1>Signed in</h1>{% endblock %}"
)


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BARE.render({}, request))


urlpatterns = [path("bench/bare/", bare), *app_urlpatterns]
