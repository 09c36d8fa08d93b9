from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from nudges import selectors


@role_required(Role.STAFF)
@require_GET
def ops_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open flags by kind and program, flagged engagements, coach capacity, the last run."""
    last_run = selectors.last_nudge_run()
    context = {
        "summary": selectors.open_flag_summary(run=last_run),
        "page": selectors.flagged_engagements_page(number=request.GET.get("page"), run=last_run),
        "coaches": selectors.coach_capacity_page(number=request.GET.get("coaches_page")),
        "last_run": last_run,
        "now": timezone.now(),
    }
    return render(request, "nudges/dashboard.html", context)
