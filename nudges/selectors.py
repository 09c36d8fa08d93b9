"""The ops dashboard's reads: open flags by kind and program, the flagged
engagements, coach capacity and the last run. Each is a fixed number of queries
whatever the number of flags, engagements or coaches (bench/, README
"Performance")."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, Prefetch, QuerySet

from engagements.models import Engagement
from engagements.selectors import coaches_with_load
from nudges.models import FlagKind, NudgeFlag, NudgeRun

FLAGGED_PER_PAGE = 50
COACHES_PER_PAGE = 50


def _open_flags() -> QuerySet[NudgeFlag]:
    return NudgeFlag.objects.filter(resolved_at__isnull=True)


def open_flag_summary() -> list[dict[str, Any]]:
    """Open flags counted per program and kind, with the oldest one's raise time."""
    return [
        {**row, "kind_label": FlagKind(row["kind"]).label}
        for row in _open_flags()
        .values("kind", "engagement__program__name")
        .annotate(count=Count("pk"), oldest=Min("raised_at"))
        .order_by("engagement__program__name", "kind")
    ]


def flagged_engagements_page(*, number: str | None) -> Page[Any]:
    """One page of engagements with open flags, oldest flag first, each with its open flags.

    Engagements are ordered by their oldest open flag, aggregated on the flags
    alone (the open ones, via the partial unique index); the page's 50
    engagements are then loaded by id. Grouping the joined engagement rows
    instead took ~1 s at 100,000 engagements and 40,000 flags (bench/, README
    "Performance"). `number` is the raw page parameter; a bad one gives page 1.
    """
    open_flags = _open_flags()
    oldest_first = (
        open_flags.order_by()
        .values("engagement_id")
        .annotate(oldest=Min("raised_at"))
        .order_by("oldest", "engagement_id")
    )
    # Page[Any]: its rows are replaced by the engagements they name, below.
    page: Page[Any] = Paginator(oldest_first, FLAGGED_PER_PAGE).get_page(number)
    ids = [row["engagement_id"] for row in page.object_list]
    engagements = (
        Engagement.objects.select_related("participant", "program", "coach__user")
        .prefetch_related(
            Prefetch("flags", queryset=open_flags.order_by("raised_at"), to_attr="open_flags")
        )
        .in_bulk(ids)
    )
    page.object_list = [engagements[pk] for pk in ids if pk in engagements]
    return page


def coach_capacity_page(*, number: str | None) -> Page[Any]:
    """One page of coaches with their load (`active_count`, `is_full`), full ones first.

    A page at a time, since a large pool is thousands of rows. `number` is the
    raw page parameter; a bad one gives page 1.
    """
    coaches = (
        coaches_with_load().select_related("user").order_by("-is_full", "user__full_name", "pk")
    )
    return Paginator(coaches, COACHES_PER_PAGE).get_page(number)


def last_nudge_run() -> NudgeRun | None:
    """The latest run that did something; skipped runs are not what ops look for."""
    return NudgeRun.objects.exclude(outcome=NudgeRun.Outcome.SKIPPED).first()
