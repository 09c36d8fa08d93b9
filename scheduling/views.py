"""Pages and actions about bookings: the coach's rotation and one-click confirmation,
the participant's calendar file, staff's assign and dismiss."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements.models import Engagement, Outcome
from scheduling.calendar import booking_ics
from scheduling.models import ScheduledSession
from scheduling.selectors import coach_booking_or_404, participant_booking_or_404
from scheduling.services import (
    booking_assign,
    booking_confirm,
    booking_dismiss,
    booking_endpoint_rotate,
)


def _coach(request: AuthenticatedHttpRequest) -> CoachProfile:
    return get_object_or_404(CoachProfile.objects.select_related("user"), user=request.user)


def _bad_request(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    return render(request, "scheduling/bad_request.html", {"message": message}, status=400)


@role_required(Role.COACH)
@require_POST
def endpoint_rotate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New webhook token and signing secret for the signed-in coach."""
    coach = _coach(request)
    booking_endpoint_rotate(coach=coach, actor=request.user)
    messages.success(
        request, "New webhook addresses and signing secret: paste them into your scheduling tool."
    )
    return redirect("coaches:profile")


@role_required(Role.COACH)
@require_POST
def confirm(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One click: log the booked session as held, no-show or late cancel."""
    coach = _coach(request)
    booking = coach_booking_or_404(coach=coach, public_id=public_id)
    outcome = request.POST.get("outcome", "")
    if outcome not in Outcome.values:
        return _bad_request(request, "Choose held, no-show or late cancel.")
    try:
        session = booking_confirm(scheduled=booking, coach=coach, outcome=outcome)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("coach_workspace")
    messages.success(
        request, f"Session {session.number} logged as {session.get_outcome_display().lower()}."
    )
    return redirect("coach_workspace")


@role_required(Role.PARTICIPANT)
@require_GET
def session_ics(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The participant's booked session as an .ics file to add to any calendar."""
    booking = participant_booking_or_404(participant=request.user, public_id=public_id)
    response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="coaching-session.ics"'
    return response


def _unmatched(public_id: uuid.UUID) -> ScheduledSession:
    return get_object_or_404(ScheduledSession, public_id=public_id)


@role_required(Role.STAFF)
@require_POST
def assign(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Staff: give an unmatched booking to one of its coach's active engagements."""
    booking = _unmatched(public_id)
    try:
        engagement_id = uuid.UUID(request.POST.get("engagement", ""))
    except ValueError:
        return _bad_request(request, "Choose the engagement to assign this booking to.")
    engagement = Engagement.objects.filter(public_id=engagement_id).first()
    if engagement is None:
        return _bad_request(request, "That engagement does not exist.")
    try:
        booking_assign(scheduled=booking, engagement=engagement, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Booking assigned to {engagement.participant.full_name}.")
    return redirect("nudges:ops_dashboard")


@role_required(Role.STAFF)
@require_POST
def dismiss(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Staff: set an unmatched booking aside (it stays recorded)."""
    try:
        booking_dismiss(scheduled=_unmatched(public_id), actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Booking dismissed.")
    return redirect("nudges:ops_dashboard")
