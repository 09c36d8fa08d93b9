"""The ops dashboard's reads: open flags by kind and program, the flagged
engagements, coach capacity and the last run. Each is a fixed number of queries
whatever the number of flags, engagements or coaches (bench/, README
"Performance").

Open flags change only during a nudge run, so their aggregates (the summary and
the number of flagged engagements) are cached under a key naming the last run
and its state: the next run, or the end of this one, makes a new key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, cast

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, Prefetch, QuerySet

from engagements.models import Engagement
from engagements.selectors import coaches_with_load_full_first
from nudges.models import FlagKind, NudgeFlag, NudgeRun

FLAGGED_PER_PAGE = 50
COACHES_PER_PAGE = 50
AGGREGATES_CACHE_SECONDS = 24 * 60 * 60


def _open_flags() -> QuerySet[NudgeFlag]:
    return NudgeFlag.objects.filter(resolved_at__isnull=True)


def _until_next_run[T](name: str, run: NudgeRun | None, compute: Callable[[], T]) -> T:
    """compute(), cached until the next nudge run (or the end of `run`, the last one)."""
    state = "none" if run is None else f"{run.pk}.{run.started_at.timestamp()}.{run.outcome}"
    return cast(T, cache.get_or_set(f"nudges:{name}:{state}", compute, AGGREGATES_CACHE_SECONDS))


def open_flag_summary(*, run: NudgeRun | None) -> list[dict[str, Any]]:
    """Open flags counted per program and kind, with the oldest one's raise time.

    One GROUP BY over the open flags' partial index (program, kind, raised_at);
    `run` is the last run (last_nudge_run), which keys the cache.
    """

    def compute() -> list[dict[str, Any]]:
        return [
            {**row, "kind_label": FlagKind(row["kind"]).label}
            for row in _open_flags()
            .values("kind", "program__name")
            .annotate(count=Count("pk"), oldest=Min("raised_at"))
            .order_by("program__name", "kind")
        ]

    return _until_next_run("summary", run, compute)


class _CountedPaginator(Paginator):
    """A paginator told its count, for a list whose own COUNT would be costly."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def flagged_engagements_page(*, number: str | None, run: NudgeRun | None) -> Page[Any]:
    """One page of engagements with open flags, oldest flag first, each with its open flags.

    Engagements are ordered by their oldest open flag, aggregated on the flags
    alone (the open ones, via the partial unique index); the page's 50
    engagements are then loaded by id. Grouping the joined engagement rows
    instead took ~1 s at 100,000 engagements and 40,000 flags (bench/, README
    "Performance"). They are counted with COUNT(DISTINCT engagement_id), cached
    like the summary. `number` is the raw page parameter; a bad one gives page 1.
    """
    open_flags = _open_flags()
    flagged = _until_next_run(
        "flagged",
        run,
        lambda: open_flags.aggregate(n=Count("engagement_id", distinct=True))["n"],
    )
    oldest_first = (
        open_flags.order_by()
        .values("engagement_id")
        .annotate(oldest=Min("raised_at"))
        .order_by("oldest", "engagement_id")
    )
    # Page[Any]: its rows are replaced by the engagements they name, below.
    paginator = _CountedPaginator(oldest_first, FLAGGED_PER_PAGE, count=flagged)
    page: Page[Any] = paginator.get_page(number)
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

    The full coaches come from one GROUP BY over the active engagements (a
    subquery PostgreSQL runs once); each row's own load is counted for the
    page's rows only, after the sort and the limit. A page at a time, since a
    large pool is thousands of rows. `number` is the raw page parameter; a bad
    one gives page 1.
    """
    coaches = (
        coaches_with_load_full_first()
        .select_related("user")
        .order_by("-is_full", "user__full_name", "pk")
    )
    return Paginator(coaches, COACHES_PER_PAGE).get_page(number)


def last_nudge_run() -> NudgeRun | None:
    """The latest run that did something; skipped runs are not what ops look for."""
    runs = NudgeRun.objects.exclude(outcome=NudgeRun.Outcome.SKIPPED)
    return runs.order_by("-started_at", "-pk").first()
