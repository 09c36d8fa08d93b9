"""The bench's nudges part: time run_nudges on the bench data set, cold and the next day.

Every flag and run is deleted first, so the first run raises every flag even on a
database measured before (--reuse); that is why this lives in bench/, which only
works on its own coachdesk_bench_* databases, and not among the app's commands.
Reminders are rendered and queued as email tasks (nobody runs a worker here, so
none is sent); the queued rows are deleted with the flags before each measure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bench.env import PREFIX
from engagements.models import Program
from nudges.models import NudgeFlag, NudgeRun


@dataclass(frozen=True)
class NudgeTiming:
    label: str
    seconds: float
    statements: int
    emails: int
    run: NudgeRun


def measure(*, reminders: bool) -> list[NudgeTiming]:
    """Delete every flag and run, then time a cold run (raises every flag) and the next day's.

    `reminders` switches every program's reminders on or off first.
    """
    name = str(connection.settings_dict["NAME"])
    if not name.startswith(PREFIX):
        raise RuntimeError(f"{name} is not a benchmark database ({PREFIX}*); nothing deleted.")
    Program.objects.update(reminders_enabled=reminders)
    NudgeFlag.objects.all().delete()
    NudgeRun.objects.all().delete()
    DBTaskResult.objects.all().delete()
    today = timezone.localdate()
    return [
        timed_nudge_run(label="cold: raises every flag", day=today),
        timed_nudge_run(label="next day", day=today + timedelta(days=1)),
    ]


def timed_nudge_run(*, label: str, day: date) -> NudgeTiming:
    """One forced run_nudges as of `day`: wall time, SQL statements, emails queued."""
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        call_command("run_nudges", "--force", "--today", day.isoformat(), stdout=out)
        elapsed = time.perf_counter() - started
    run = NudgeRun.objects.order_by("-pk").first()
    assert run is not None  # noqa: S101 - call_command above always records a run
    return NudgeTiming(
        label=label, seconds=elapsed, statements=len(queries), emails=run.emails_sent, run=run
    )
