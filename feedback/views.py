"""The participant's feedback pages: rate a held session, answer the closing survey."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from accounts.redirects import safe_next
from config.errors import DomainError
from feedback.forms import ClosingSurveyForm, SessionRatingForm
from feedback.selectors import closing_survey_refusal, participant_engagement, participant_session
from feedback.services import closing_survey_submit, session_rate


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the form was on (a same-site path), else the home page."""
    return HttpResponseRedirect(safe_next(request, request.POST.get("next")) or "/")


@role_required(Role.PARTICIPANT)
@require_POST
def rate_session(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """One click: rate a held session of one's own engagement 1-5, or change the rating."""
    session = participant_session(participant=request.user, public_id=public_id)
    form = SessionRatingForm(request.POST)
    if not form.is_valid():
        # ErrorList indexing returns the message text (the stubs also allow a ValidationError).
        messages.error(request, str(form.errors["score"][0]))
        return _back(request)
    try:
        session_rate(participant=request.user, session=session, score=form.cleaned_data["score"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Thank you: session {session.number} rated {form.cleaned_data['score']} out of 5.",
        )
    return _back(request)


@role_required(Role.PARTICIPANT)
@require_http_methods(["GET", "POST"])
def closing_survey(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """The closing survey of a completed engagement, answered once."""
    engagement = participant_engagement(participant=request.user, public_id=public_id)
    blocked = closing_survey_refusal(engagement=engagement)
    form = ClosingSurveyForm(request.POST or None)
    if blocked is None and request.method == "POST" and form.is_valid():
        try:
            closing_survey_submit(
                participant=request.user,
                engagement=engagement,
                recommend_score=form.cleaned_data["recommend_score"],
                what_changed=form.cleaned_data["what_changed"],
            )
        except DomainError as error:
            blocked = error
        else:
            messages.success(request, "Thank you for telling us how your coaching went.")
            return redirect("/")
    status = 200
    if request.method == "POST":
        status = 409 if blocked is not None else 400
    return render(
        request,
        "feedback/closing_survey.html",
        {"engagement": engagement, "form": form, "blocked": blocked},
        status=status,
    )
