"""Put engagements into the states the nudge rules look at, as of a fixed day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any

from django.core.management import call_command

from engagements.models import Engagement, Program
from tests.factories import EngagementFactory, engagement_with_coach

TODAY = date(2026, 3, 16)
NOW = datetime(2026, 3, 16, 6, 15, tzinfo=UTC)


def day(days_ago: int, at: time = time(12)) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), at, tzinfo=UTC)


def run_nudges(*args: str, today: date = TODAY, force: bool = True) -> str:
    out = StringIO()
    flags = ["--force"] if force else []
    call_command("run_nudges", "--today", today.isoformat(), *flags, *args, stdout=out)
    return out.getvalue()


def invited(program: Program, *, days_ago: int, at: time = time(12)) -> Engagement:
    engagement = EngagementFactory(program=program)
    Engagement.objects.filter(pk=engagement.pk).update(invited_at=day(days_ago, at))
    return engagement


def selected(program: Program, *, days_ago: int, **kwargs: Any) -> Engagement:
    engagement = engagement_with_coach(program=program, **kwargs)
    Engagement.objects.filter(pk=engagement.pk).update(
        invited_at=day(days_ago + 3), coach_selected_at=day(days_ago)
    )
    return engagement


def in_progress(
    program: Program, *, last_session_days_ago: int, sessions: int = 1, **kwargs: Any
) -> Engagement:
    engagement = engagement_with_coach(program=program, **kwargs)
    engagement.transition_to("in_progress")
    Engagement.objects.filter(pk=engagement.pk).update(
        sessions_logged=sessions,
        last_session_on=TODAY - timedelta(days=last_session_days_ago),
        coach_selected_at=day(last_session_days_ago + 20),
    )
    return engagement
