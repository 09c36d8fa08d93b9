from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from accounts.redirects import safe_next
from config.errors import DomainError
from engagements.forms import ReasonForm
from engagements.models import Engagement
from engagements.services import STAFF_TRANSITIONS
from nudges import selectors
from nudges.forms import FlagFilterForm, RemindSelectedForm
from nudges.services import RemindResult, nudge_remind_now

# The action that emails the engagement's reminders now, beside the status changes.
REMIND = "remind"


@role_required(Role.STAFF)
@require_GET
def ops_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open flags by kind and program, flagged engagements (filtered), coach capacity,
    the last run. Bad filters are shown with their message and the list unfiltered."""
    form = FlagFilterForm(request.GET)
    valid = form.is_valid()
    filters = selectors.FlagFilter(**form.cleaned_data) if valid else selectors.FlagFilter()
    last_run = selectors.last_nudge_run()
    context = {
        "form": form,
        "filtered": valid and any(form.cleaned_data.values()),
        "summary": selectors.open_flag_summary(run=last_run),
        "page": selectors.flagged_engagements_page(
            number=request.GET.get("page"), run=last_run, filters=filters
        ),
        "coaches": selectors.coach_capacity_page(number=request.GET.get("coaches_page")),
        "last_run": last_run,
        "now": timezone.now(),
    }
    return render(request, "nudges/dashboard.html", context, status=200 if valid else 400)


@role_required(Role.STAFF)
@require_POST
def ops_remind(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send a reminder now for the ticked engagements, through the engagement page's service."""
    form = RemindSelectedForm(request.POST)
    back = safe_next(request, request.POST.get("next")) or reverse("nudges:ops_dashboard")
    if not form.is_valid():
        for field in form:
            for error in field.errors:
                messages.error(request, str(error))
        return redirect(back)
    engagements = list(Engagement.objects.filter(public_id__in=form.cleaned_data["engagement"]))
    try:
        result = nudge_remind_now(engagements=engagements, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if result.reminded:
        messages.success(request, _reminded(result))
    else:
        messages.error(request, f"No reminder sent. {' '.join(result.refused)}")
    return redirect(back)


@role_required(Role.STAFF)
@require_GET
def ops_engagement(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """One engagement for ops: where it stands, its timeline, and the actions allowed now."""
    engagement = selectors.ops_engagement_or_404(public_id)
    return _engagement_page(request, engagement)


@role_required(Role.STAFF)
@require_POST
def ops_engagement_action(
    request: AuthenticatedHttpRequest, public_id: UUID, action: str
) -> HttpResponse:
    """Apply one action through its service; a refusal shows the page again, unchanged."""
    if action != REMIND and action not in STAFF_TRANSITIONS:
        raise Http404
    engagement = selectors.ops_engagement_or_404(public_id)
    if action == REMIND:
        return _remind(request, engagement)
    transition = STAFF_TRANSITIONS[action]
    form = ReasonForm(request.POST, required=transition.reason_required, auto_id=f"id_{action}_%s")
    if not form.is_valid():
        return _engagement_page(request, engagement, failed=action, form=form, status=400)
    try:
        transition.service(
            engagement=engagement, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _engagement_page(request, engagement, status=exc.http_status)
    messages.success(request, f"Engagement {transition.done}.")
    return redirect("nudges:ops_engagement", public_id=engagement.public_id)


def _remind(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    try:
        result = nudge_remind_now(engagements=[engagement], actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _engagement_page(request, engagement, status=exc.http_status)
    if not result.reminded:
        messages.error(request, f"No reminder sent. {' '.join(result.refused)}")
        return _engagement_page(request, engagement, status=409)
    messages.success(request, _reminded(result))
    return redirect("nudges:ops_engagement", public_id=engagement.public_id)


def _reminded(result: RemindResult) -> str:
    text = f"{result.emails} reminder email{'s' if result.emails != 1 else ''} queued"
    if result.refused:
        why = " ".join(f"{reason} (×{n})" for reason, n in result.refused.items())
        text += f"; {result.refused.total()} engagement(s) not reminded: {why}"
    return text + "."


def _engagement_page(
    request: AuthenticatedHttpRequest,
    engagement: Engagement,
    *,
    failed: str = "",
    form: ReasonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    flags = selectors.engagement_flags(engagement)
    open_flags = selectors.open_flags_stuck(flags, today=timezone.localdate())
    actions: list[dict[str, Any]] = [
        {
            "name": t.name,
            "label": t.label,
            "reason_required": t.reason_required,
            "form": form
            if t.name == failed and form is not None
            else ReasonForm(required=t.reason_required, auto_id=f"id_{t.name}_%s"),
        }
        for t in STAFF_TRANSITIONS.values()
        if t.offered(engagement)
    ]
    context = {
        "engagement": engagement,
        "open_flags": open_flags,
        "can_remind": any(open_flag.reminds for open_flag in open_flags),
        "actions": actions,
        "timeline": selectors.engagement_timeline(engagement, flags),
    }
    return render(request, "nudges/engagement.html", context, status=status)
