"""CSV imports into programs: participants (enrolment) and, in coach_imports.py and
coach_resources.py, coaches with their pool.

Both have one shape: a django-import-export resource parses and validates every
row and collects the valid ones; when every row is valid it hands them to one
writer, which writes them in a fixed number of statements; any invalid row rolls
the whole import back, so nothing is written unless every row is valid. Both
share what is here: the program lookup, the CSV reader, the check of text
cells and the problem formatter (docs/architecture.md, "Rules and where they
live").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from import_export import fields, resources
from import_export.formats.base_formats import CSV
from import_export.instance_loaders import BaseInstanceLoader
from tablib import Dataset

from accounts.models import Role, User, normalize_email
from engagements.models import Engagement, Program, program_rows_changed
from engagements.services import invitation_send

# --- Shared by both imports ---------------------------------------------------


class ImportFileError(Exception):
    """A program or file an import cannot use; the message says why, for a person."""


def find_program(value: str) -> Program:
    """A program by public id, or by its exact name when that is unambiguous."""
    try:
        program = Program.objects.filter(public_id=uuid.UUID(value)).first()
    except ValueError:
        program = None
    if program is not None:
        return program
    programs = list(Program.objects.filter(name=value).select_related("organization")[:2])
    if len(programs) == 1:
        return programs[0]
    if programs:
        raise ImportFileError(f"Several programs are named {value!r}; give the program's id.")
    raise ImportFileError(f"No program has the id or name {value!r}.")


def read_csv(path: Path) -> Dataset:
    """A UTF-8 CSV file (a byte-order mark is allowed) as a dataset with its header line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFileError(f"Cannot read {path}: {error}") from None
    try:
        return CSV(encoding="utf-8").create_dataset(text)
    except Exception as error:  # tablib raises several types for malformed files
        raise ImportFileError(f"{path} is not a CSV file an import can read: {error}") from None


def text_problem(value: str, *, max_length: int | None = None) -> str | None:
    """What is wrong with a text cell the database would refuse, or None."""
    if "\x00" in value:
        return "This cell contains a NUL character; remove it."
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length} characters (this has {len(value)})."
    return None


def email_problem(email: str) -> str | None:
    """What is wrong with a (normalized) email address as a cell, or None."""
    if not email:
        return "The email address is missing."
    problem = text_problem(email, max_length=User._meta.get_field("email").max_length)
    if problem:
        return problem
    try:
        validate_email(email)
    except ValidationError:
        return "This is not a valid email address."
    return None


def emails_to_look_up(values: Iterable[Any]) -> set[str]:
    """The column's addresses, normalized, for finding existing accounts; an address
    with a NUL character cannot be queried (PostgreSQL) and is refused by its row."""
    emails = {normalize_email(str(value or "").strip()) for value in values}
    return {email for email in emails if email and "\x00" not in email}


def import_problems(result: Any, *, offset: int = 0) -> list[str]:
    """Every refused row and file-level error, one line each, in row order:
    'File: ...', 'Row 3, capacity: Capacity cannot be negative.' `offset`: the
    rows of the file before this result's dataset (a file imported in chunks)."""
    problems = [f"File: {error.error}" for error in result.base_errors]
    for number, errors in result.row_errors():
        problems.extend(
            f"Row {number + offset}: unexpected error ({error.error})" for error in errors
        )
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            where = "" if column == "__all__" else f", {column}"
            problems.extend(
                f"Row {invalid.number + offset}{where}: {message}" for message in messages
            )
    return sorted(problems, key=_row_order)


def _row_order(line: str) -> int:
    head = line.split(":", 1)[0].split(",", 1)[0]
    number = head.removeprefix("Row ")
    return int(number) if number.isdigit() else 0


# --- Participants ---------------------------------------------------------------

PARTICIPANT_COLUMNS = ("email", "full_name")


@dataclass
class EnrolmentSummary:
    invited: int = 0
    new_accounts: int = 0


def participants_enrol(
    *, users: list[User], program: Program, actor: User | None = None
) -> EnrolmentSummary:
    """Create the new accounts, an engagement in `invited` for each person and the
    invitations, in bulk; the invitation emails go with the commit."""
    with transaction.atomic():
        new = [user for user in users if user.pk is None]
        User.objects.bulk_create(new)
        engagements = Engagement.objects.bulk_create(
            [Engagement(participant=user, program=program) for user in users]
        )
        for engagement in engagements:
            invitation_send(engagement=engagement, actor=actor)
        program_rows_changed(program.pk)
    return EnrolmentSummary(invited=len(engagements), new_accounts=len(new))


class ParticipantByEmailLoader(BaseInstanceLoader):
    """Existing accounts by lower-cased email, all loaded in before_import (one query
    for the file rather than one per row)."""

    def get_instance(self, row: dict[str, Any]) -> User | None:
        return self.resource.existing.get(row["email"])


class ParticipantImportResource(resources.ModelResource):
    """One row per participant: `email`, `full_name`.

    Each row becomes a user (an existing account with the same lower-cased
    address is reused, never edited), an engagement in `invited` and one
    invitation email after commit. A row is refused with a reason when its email
    is invalid, its name is missing or too long, the address appears earlier in
    the file, or the person is already enrolled (or the account is not an
    active participant).
    """

    email = fields.Field(attribute="email", column_name="email")
    full_name = fields.Field(attribute="full_name", column_name="full_name")

    class Meta:
        model = User
        fields = PARTICIPANT_COLUMNS
        import_id_fields = ("email",)
        instance_loader_class = ParticipantByEmailLoader
        # django-import-export skips model validation unless asked (full_clean
        # catches, e.g., a name longer than the column) ...
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = False

    def __init__(self, *, program: Program | None = None, actor: User | None = None, **kw: Any):
        super().__init__(**kw)
        self.program = program
        self.actor = actor
        self.seen: dict[str, int] = {}
        self.existing: dict[str, User] = {}
        self.enrolled: set[int] = set()
        self.pending: list[User] = []
        self.summary = EnrolmentSummary()

    def import_data(
        self, dataset: Dataset, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any
    ) -> Any:
        """... and keeps the valid rows when others fail unless told to roll back: always do."""
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        if self.program is None:
            raise ValueError("Choose the program the participants join.")
        missing = [c for c in PARTICIPANT_COLUMNS if c not in (dataset.headers or [])]
        if missing:
            raise ValueError(
                f"The file needs the columns {', '.join(PARTICIPANT_COLUMNS)}; "
                f"missing: {', '.join(missing)}."
            )
        self.seen, self.pending, self.summary = {}, [], EnrolmentSummary()
        emails = emails_to_look_up(dataset["email"])
        self.existing = {user.email: user for user in User.objects.filter(email__in=emails)}
        self.enrolled = set(
            Engagement.objects.filter(
                program=self.program, participant__in=[u.pk for u in self.existing.values()]
            ).values_list("participant_id", flat=True)
        )

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        row["email"] = normalize_email(str(row.get("email") or ""))
        row["full_name"] = " ".join(str(row.get("full_name") or "").split())

    def init_instance(self, row: dict[str, Any] | None = None) -> User:
        user = User(role=Role.PARTICIPANT)
        user.set_unusable_password()
        return user

    def import_instance(self, instance: User, row: dict[str, Any], **kwargs: Any) -> None:
        """Fill a new account from the row (an existing one is left as it is) and
        refuse the row, with reasons, when it cannot be enrolled."""
        if instance.pk is None:
            super().import_instance(instance, row, **kwargs)
        errors: dict[str, str] = {}
        email_error = self._email_problem(instance, row["email"], kwargs.get("row_number"))
        if email_error:
            errors["email"] = email_error
        if instance.pk is None:
            name_error = (
                text_problem(row["full_name"]) if row["full_name"] else "The full name is missing."
            )
            if name_error:
                errors["full_name"] = name_error
        if errors:
            raise ValidationError(errors)

    def _email_problem(self, user: User, email: str, row_number: int | None) -> str | None:
        problem = email_problem(email)
        if problem:
            return problem
        if email in self.seen:
            return f"This address is already on row {self.seen[email]} of this file."
        self.seen[email] = row_number or 0
        if user.pk is None:
            return None
        if user.role != Role.PARTICIPANT:
            return f"This address belongs to a {user.get_role_display().lower()} account."
        if not user.is_active:
            return "This address belongs to a deactivated account."
        if user.pk in self.enrolled:
            return "This person is already enrolled in this program."
        return None

    def validate_instance(
        self, instance: User, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        """The row's errors plus the model's field checks, without a query per row:
        addresses are matched to accounts above (one query for the file) and
        repeated ones refused, and the role is set here, so the uniqueness and
        constraint checks (six queries a row) would find nothing. The bulk
        write's database constraints still guard both."""
        errors: dict[str, Any] = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=list(errors), validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(
        self, instance: User, is_create: bool, row: dict[str, Any], **kw: Any
    ) -> None:
        """Collect the row; after_import writes them all at once."""
        self.pending.append(instance)

    def after_import(self, dataset: Dataset, result: Any, **kwargs: Any) -> None:
        """Enrol everyone at once, and only when every row is valid."""
        if result.has_errors() or result.has_validation_errors():
            return
        # before_import refused an import without a program.
        program = cast(Program, self.program)
        self.summary = participants_enrol(users=self.pending, program=program, actor=self.actor)


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did: problems (if any), and the counts written."""

    problems: list[str]
    rows: int
    invited: int
    new_accounts: int

    @property
    def ok(self) -> bool:
        return not self.problems


def participants_import(
    *, program: Program, dataset: Dataset, actor: User | None = None, dry_run: bool = False
) -> ImportReport:
    """Check every row and, unless dry_run, enrol them all; all rows or none.

    A dry run writes in a transaction it rolls back, so its counts say exactly
    what a real run would write.
    """
    resource = ParticipantImportResource(program=program, actor=actor)
    result = resource.import_data(dataset, dry_run=dry_run)
    problems = import_problems(result)
    summary = EnrolmentSummary() if problems else resource.summary
    return ImportReport(
        problems=problems,
        rows=len(dataset),
        invited=summary.invited,
        new_accounts=summary.new_accounts,
    )
