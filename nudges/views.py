from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Case, Count, F, Min, Prefetch, Value, When
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from coaches.directory import active_engagement_count
from coaches.models import CoachProfile
from engagements.models import Engagement
from nudges.models import FlagKind, NudgeFlag, NudgeRun

FLAGGED_PER_PAGE = 50
COACHES_PER_PAGE = 50


@role_required(Role.STAFF)
def ops_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open flags by kind and program, flagged engagements, coach capacity, the last run."""
    open_flags = NudgeFlag.objects.filter(resolved_at__isnull=True)
    summary = [
        {**row, "kind_label": FlagKind(row["kind"]).label}
        for row in open_flags.values("kind", "engagement__program__name")
        .annotate(count=Count("pk"), oldest=Min("raised_at"))
        .order_by("engagement__program__name", "kind")
    ]
    # Engagements by their oldest open flag, aggregated on the flags alone (the
    # open ones, via the partial unique index); the page's 50 engagements are then
    # loaded by id. Grouping the joined engagement rows instead took ~1 s at
    # 100,000 engagements and 40,000 flags (bench/, README "Performance").
    oldest_first = (
        open_flags.order_by()
        .values("engagement_id")
        .annotate(oldest=Min("raised_at"))
        .order_by("oldest", "engagement_id")
    )
    # Page[Any]: its rows are replaced by the engagements they name, below.
    page: Page[Any] = Paginator(oldest_first, FLAGGED_PER_PAGE).get_page(request.GET.get("page"))
    ids = [row["engagement_id"] for row in page.object_list]
    engagements = (
        Engagement.objects.select_related("participant", "program", "coach__user")
        .prefetch_related(
            Prefetch("flags", queryset=open_flags.order_by("raised_at"), to_attr="open_flags")
        )
        .in_bulk(ids)
    )
    page.object_list = [engagements[pk] for pk in ids if pk in engagements]
    # Full coaches first; a page at a time, since a large pool is thousands of rows.
    coaches = (
        CoachProfile.objects.select_related("user")
        .annotate(active=active_engagement_count())
        .annotate(
            is_full=Case(
                When(active__gte=F("capacity"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-is_full", "user__full_name", "pk")
    )
    coach_page = Paginator(coaches, COACHES_PER_PAGE).get_page(request.GET.get("coaches_page"))
    last_run = NudgeRun.objects.exclude(outcome=NudgeRun.Outcome.SKIPPED).first()
    context = {
        "summary": summary,
        "page": page,
        "coaches": coach_page,
        "last_run": last_run,
        "now": timezone.now(),
    }
    return render(request, "nudges/dashboard.html", context)
