from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from accounts.audit import audit_record
from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from coaches.forms import CoachProfileForm
from coaches.models import CoachProfile
from config.caching import immutable_file


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
