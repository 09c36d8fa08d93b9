from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, F, Min, Prefetch, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import Role
from coaches.models import CoachProfile
from engagements.models import ACTIVE_STATUSES, Engagement
from nudges.models import FlagKind, NudgeFlag, NudgeRun

FLAGGED_PER_PAGE = 50


@role_required(Role.STAFF)
def ops_dashboard(request: HttpRequest) -> HttpResponse:
    """Open flags by kind and program, flagged engagements, coach capacity, the last run."""
    open_flags = NudgeFlag.objects.filter(resolved_at__isnull=True)
    summary = [
        {**row, "kind_label": FlagKind(row["kind"]).label}
        for row in open_flags.values("kind", "engagement__program__name")
        .annotate(count=Count("pk"), oldest=Min("raised_at"))
        .order_by("engagement__program__name", "kind")
    ]
    flagged = (
        Engagement.objects.annotate(
            oldest_flag=Min("flags__raised_at", filter=Q(flags__resolved_at__isnull=True))
        )
        .filter(oldest_flag__isnull=False)
        .select_related("participant", "program", "coach__user")
        .prefetch_related(
            Prefetch("flags", queryset=open_flags.order_by("raised_at"), to_attr="open_flags")
        )
        .order_by("oldest_flag", "pk")
    )
    coaches = (
        CoachProfile.objects.select_related("user")
        .annotate(active=Count("engagements", filter=Q(engagements__status__in=ACTIVE_STATUSES)))
        .annotate(
            is_full=Case(
                When(active__gte=F("capacity"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-is_full", "user__full_name", "pk")
    )
    last_run = NudgeRun.objects.exclude(outcome=NudgeRun.Outcome.SKIPPED).first()
    context = {
        "summary": summary,
        "page": Paginator(flagged, FLAGGED_PER_PAGE).get_page(request.GET.get("page")),
        "coaches": coaches,
        "last_run": last_run,
        "now": timezone.now(),
    }
    return render(request, "nudges/dashboard.html", context)
