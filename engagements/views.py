from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The landing page; each role's own home is built on top of it."""
    return render(request, "engagements/home.html")
