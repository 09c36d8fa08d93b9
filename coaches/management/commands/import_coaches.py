"""Import coaches from a CSV file: create or update by email, add to a program's pool."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from import_export.formats.base_formats import CSV

from coaches.imports import CoachImportSummary
from coaches.resources import COLUMNS, CoachImportResource
from engagements.models import Program


def find_program(value: str) -> Program:
    """A program by public id, or by its exact name when that is unambiguous."""
    try:
        return Program.objects.get(public_id=uuid.UUID(value))
    except (ValueError, Program.DoesNotExist):
        pass
    programs = list(Program.objects.filter(name=value).select_related("organization")[:2])
    if len(programs) == 1:
        return programs[0]
    if programs:
        raise CommandError(f"Several programs are named {value!r}; give the program's id.")
    raise CommandError(f"No program has the id or name {value!r}.")


def row_messages(result: Any) -> list[str]:
    """One line per problem: 'Row 3, capacity: Capacity cannot be negative.'"""
    lines = [f"File: {error.error}" for error in result.base_errors]
    for invalid in result.invalid_rows:
        for column, errors in invalid.error_dict.items():
            where = "" if column == "__all__" else f", {column}"
            lines.extend(f"Row {invalid.number}{where}: {message}" for message in errors)
    for number, errors in result.row_errors():
        lines.extend(f"Row {number}: unexpected error ({error.error})" for error in errors)
    return lines


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
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        program = find_program(options["program"]) if options["program"] else None
        dataset = CSV().create_dataset(text)
        resource = CoachImportResource(program=program)
        started = time.monotonic()
        result = resource.import_data(dataset, dry_run=options["dry_run"])
        elapsed = time.monotonic() - started

        problems = row_messages(result)
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
