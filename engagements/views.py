from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from coaches.directory import participant_current_engagement


def home(request: HttpRequest) -> HttpResponse:
    """The landing page for visitors; a participant's own page; a pointer for other roles."""
    user = request.user
    if user.is_authenticated and user.role == Role.PARTICIPANT:
        return _participant_home(request)
    return render(request, "engagements/home.html")


def _participant_home(request: HttpRequest) -> HttpResponse:
    engagement = participant_current_engagement(participant=request.user)
    context: dict[str, object] = {"engagement": engagement}
    if engagement is not None and engagement.coach is not None:
        prefetch_related_objects([engagement.coach], "specialties", "languages")
        allotment = engagement.program.sessions_per_engagement
        context.update(
            coach=engagement.coach,
            sessions_held=engagement.sessions_logged,
            sessions_allotted=allotment,
            sessions_remaining=max(allotment - engagement.sessions_logged, 0),
        )
    return render(request, "engagements/participant_home.html", context)
