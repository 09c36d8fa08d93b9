"""Import coaches from a CSV file: create or update by email, add to a program's pool."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engagements.coach_imports import CoachImportSummary
from engagements.coach_resources import COLUMNS, CoachImportResource
from engagements.imports import ImportFileError, find_program, import_problems, read_csv


class Command(BaseCommand):
    help = (
        "Import coaches from a CSV file with the columns "
        f"{', '.join(COLUMNS)}. Rows are numbered from 1 after the header line. "
        "Nothing is written unless every row is valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8)")
        parser.add_argument("--program", help="add every coach to this program's pool (id or name)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row and write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            program = find_program(options["program"]) if options["program"] else None
            dataset = read_csv(options["file"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        resource = CoachImportResource(program=program)
        started = time.monotonic()
        result = resource.import_data(dataset, dry_run=options["dry_run"])
        elapsed = time.monotonic() - started

        problems = import_problems(result)
        if problems:
            for line in problems:
                self.stderr.write(line)
            invalid = len(result.invalid_rows) + len(result.row_errors())
            raise CommandError(
                f"{invalid} of {result.total_rows} rows are invalid"
                f"{' and the file has a problem' if result.base_errors else ''}; "
                "nothing was imported."
            )
        totals = result.totals
        # after_import sets the summary when every row is valid, as they are here.
        summary = cast(CoachImportSummary, resource.summary)
        self.stdout.write(
            f"{result.total_rows} rows checked in {elapsed:.1f}s: {totals['new']} new, "
            f"{totals['update']} updated, {totals['skip']} unchanged"
            + (f"; {summary.added_to_pool} added to {program}'s pool" if program else "")
            + "."
        )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS("Imported."))
