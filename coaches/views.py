from __future__ import annotations

import uuid
from collections.abc import Sequence
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.audit import audit_record
from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from coaches.directory import available_coaches, directory_page, participant_current_engagement
from coaches.forms import BadExclude, CoachProfileForm, DirectoryFilterForm, parse_excludes
from coaches.models import CoachProfile
from coaches.services import engagement_select_coach
from config.caching import immutable_file
from config.errors import DomainError


@role_required(Role.PARTICIPANT)
@require_GET
def directory(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Three coaches from the participant's pool, in the participant's own order."""
    try:
        exclude = parse_excludes(request.GET.getlist("exclude"))
    except BadExclude as error:
        return render(request, "coaches/bad_request.html", {"message": str(error)}, status=400)
    return _render_directory(request, exclude=exclude)


@role_required(Role.PARTICIPANT)
@require_POST
def select(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Choose a coach; a refusal shows the directory again with the reason (409)."""
    engagement = participant_current_engagement(participant=request.user)
    pool = (
        CoachProfile.objects.filter(programs=engagement.program)
        if engagement is not None
        else CoachProfile.objects.none()
    )
    coach = get_object_or_404(pool.select_related("user"), public_id=public_id)
    try:
        engagement_select_coach(participant=request.user, coach=coach)
    except DomainError as error:
        return _render_directory(request, error=error, status=error.http_status)
    messages.success(request, f"{coach.user.full_name} is your coach. Book your first session.")
    return redirect("home")


def _render_directory(
    request: AuthenticatedHttpRequest,
    *,
    exclude: Sequence[uuid.UUID] = (),
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    engagement = participant_current_engagement(participant=request.user)
    context: dict[str, object] = {"engagement": engagement, "error": error}
    if engagement is not None and engagement.coach_id is None:
        pool = available_coaches(program=engagement.program)
        form = DirectoryFilterForm(request.GET or None, pool=pool)
        page = directory_page(
            participant=request.user, pool=form.filter(pool).distinct(), exclude=exclude
        )
        params = form.active_params()
        context.update(
            form=form,
            coaches=page.coaches,
            pool_size=page.pool_size,
            filtered=bool(params),
            others_url="?"
            + urlencode(params + [("exclude", str(c.public_id)) for c in page.coaches]),
        )
    return render(request, "coaches/directory.html", context, status=status)


@role_required(Role.COACH)
@require_http_methods(["GET", "POST"])
def profile_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A coach edits their own profile (never their capacity)."""
    profile = get_object_or_404(CoachProfile, user=request.user)
    form = CoachProfileForm(request.POST or None, request.FILES or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit_record(
            action="coach.profile_updated",
            obj=profile,
            actor=request.user,
            after={"changed": sorted(form.changed_data)},
        )
        messages.success(request, "Your profile is saved.")
        return redirect("coaches:profile")
    return render(request, "coaches/profile_form.html", {"form": form, "profile": profile})


@require_safe
@immutable_file
def photo(request: HttpRequest, name: str) -> FileResponse:
    """A coach's current photo, as coaches/photos.py wrote it; anything else is a 404.

    The URL pattern admits only the names photo_reencode gives (no path, no
    listing), and only a name a profile holds now is served: not a replaced or
    orphaned file. No sign-in: the random name is known only to those shown it.
    """
    path = f"coaches/{name}"
    if not CoachProfile.objects.filter(photo=path).exists():
        raise Http404
    try:
        file = default_storage.open(path)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(file, content_type="image/jpeg")
    # An uploaded file is never read as anything but an image, whatever the settings.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
