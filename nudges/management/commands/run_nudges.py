"""run_nudges: the daily job that raises and resolves nudge flags and sends reminders."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from nudges.services import nudge_run


def parse_day(value: str) -> date:
    """A YYYY-MM-DD date, or a CommandError saying what was expected."""
    problem = f"--today must be a date written YYYY-MM-DD, such as 2026-03-01; got {value!r}."
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise CommandError(problem)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{problem} ({exc})") from exc


class Command(BaseCommand):
    help = (
        "Raise and resolve nudge flags for every program and email the reminders. "
        "Run daily by cron; a run within an hour of the last successful one does "
        "nothing unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would happen; change nothing."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even if the last run was under an hour ago."
        )
        parser.add_argument(
            "--today", metavar="YYYY-MM-DD", help="Evaluate the rules as of this day."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = parse_day(options["today"]) if options["today"] else timezone.localdate()
        report = nudge_run(today=today, force=options["force"], dry_run=options["dry_run"])
        *lines, last = report.lines()
        for line in lines:
            self.stdout.write(line)
        if report.failed:
            raise CommandError(last)
        self.stdout.write(last)
