"""manage.py import_participants PROGRAM FILE [--dry-run]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engagements.imports import ImportFileError, find_program, participants_import, read_csv


class Command(BaseCommand):
    help = (
        "Invite participants from a CSV file (columns: email, full_name) into a program, "
        "given by its public id or exact name. Every row is checked first; nothing is "
        "written unless all rows are valid. Rows are numbered from the first line after "
        "the header."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="The program's public id or exact name.")
        parser.add_argument("file", type=Path, help="A UTF-8 CSV file with a header line.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Check the whole file, then import it (unless --dry-run); print a summary."""
        try:
            program = find_program(options["program"])
            dataset = read_csv(options["file"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        report = participants_import(program=program, dataset=dataset, dry_run=options["dry_run"])
        if not report.ok:
            for line in report.problems:
                self.stderr.write(line)
            raise CommandError(
                f"{len(report.problems)} problem(s) in {report.rows} row(s); nothing was written."
            )
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: all {report.rows} row(s) are valid; {report.new_accounts} new "
                f"account(s) would be created. Nothing was written."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Invited {report.invited} participant(s) to {program.name} "
                f"({report.new_accounts} new account(s)); invitation emails sent."
            )
        )
