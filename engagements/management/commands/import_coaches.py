"""Import coaches from a CSV file: create or update by email, add to a program's pool.

The file is read and imported CHUNK_ROWS rows at a time, all in one
transaction, so memory stays flat whatever the file's size (50,000 rows peak
well under 150 MiB) and time grows linearly. Every chunk is checked even after
an invalid row, so every problem is reported; then nothing is written.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tablib import Dataset, InvalidDimensions

from engagements.coach_imports import CoachImportSummary, coaches_import_audit
from engagements.coach_resources import COLUMNS, CoachImportResource
from engagements.imports import ImportFileError, find_program, import_problems
from engagements.models import Program

CHUNK_ROWS = 2_000


def read_chunks(path: Path, size: int) -> Iterator[Dataset]:
    """The file's rows, `size` at a time, each chunk with the header line.

    As tablib reads a whole file: blank lines are left out and short rows are
    padded. The first chunk may be empty (a file with no rows).
    """
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        headers = next(reader, [])
        first = True
        while True:
            rows = [row for row in islice(reader, size) if row]
            if not rows and not first:
                return
            rows = [row + [""] * (len(headers) - len(row)) for row in rows]
            yield Dataset(*rows, headers=headers)
            first = False


@dataclass
class ImportTotals:
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    file_problem: bool = False
    problems: list[str] = field(default_factory=list)
    summary: CoachImportSummary = field(default_factory=CoachImportSummary)

    def add(self, result: Any, summary: CoachImportSummary | None) -> None:
        totals = result.totals
        self.rows += result.total_rows
        self.new += totals["new"]
        self.updated += totals["update"]
        self.unchanged += totals["skip"]
        self.invalid += len(result.invalid_rows) + len(result.row_errors())
        self.file_problem = self.file_problem or bool(result.base_errors)
        if summary is not None:
            self.summary.created += summary.created
            self.summary.updated += summary.updated
            self.summary.added_to_pool += summary.added_to_pool


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
            program = find_program(options["program"]) if options["program"] else None
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        started = time.monotonic()
        with transaction.atomic():
            totals = self._import(path, program=program, dry_run=options["dry_run"])
            if totals.problems:
                for line in totals.problems:
                    self.stderr.write(line)
                raise CommandError(
                    f"{totals.invalid} of {totals.rows} rows are invalid"
                    f"{' and the file has a problem' if totals.file_problem else ''}; "
                    "nothing was imported."
                )
            if not options["dry_run"]:
                self._audit(totals.summary, program=program)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{totals.rows} rows checked in {elapsed:.1f}s: {totals.new} new, "
            f"{totals.updated} updated, {totals.unchanged} unchanged"
            + (f"; {totals.summary.added_to_pool} added to {program}'s pool" if program else "")
            + "."
        )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS("Imported."))

    def _import(self, path: Path, *, program: Program | None, dry_run: bool) -> ImportTotals:
        """Every chunk through one resource (it remembers each email's first row)."""
        resource = CoachImportResource(program=program, audit=False)
        totals = ImportTotals()
        try:
            for chunk in read_chunks(path, CHUNK_ROWS):
                resource.row_offset = totals.rows
                # After a problem, the other chunks are only checked.
                result = resource.import_data(chunk, dry_run=dry_run or bool(totals.problems))
                totals.problems += import_problems(result, offset=totals.rows)
                totals.add(result, None if totals.problems else resource.summary)
                if result.base_errors:
                    break  # a file problem (its columns) is the same in every chunk
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        except (csv.Error, InvalidDimensions) as error:
            raise CommandError(f"{path} is not a CSV file an import can read: {error}") from None
        return totals

    def _audit(self, summary: CoachImportSummary, *, program: Program | None) -> None:
        """One audit event for the whole file, as coaches_import records for one call."""
        coaches_import_audit(summary, program=program, actor=None)
