from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from coaches.models import CoachProfile
from scheduling.services import booking_endpoint_rotate


@role_required(Role.COACH)
@require_POST
def endpoint_rotate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New webhook token and signing secret for the signed-in coach."""
    coach = get_object_or_404(CoachProfile, user=request.user)
    booking_endpoint_rotate(coach=coach, actor=request.user)
    messages.success(
        request, "New webhook addresses and signing secret: paste them into your scheduling tool."
    )
    return redirect("coaches:profile")
