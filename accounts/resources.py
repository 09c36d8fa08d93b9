"""CSV import of participants into a program (django-import-export).

One row per participant: `email`, `full_name`. Each row becomes a user (an
existing account with the same lower-cased address is reused, never edited),
an engagement in `invited` and one invitation email after commit. A row is
refused with a reason when its email is invalid, its name is missing, the
address appears earlier in the file, or the person is already enrolled (or
the account is not an active participant). Every import runs in one
transaction that is rolled back when any row is refused, so nothing is
written unless every row is valid.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from import_export import fields, resources
from import_export.instance_loaders import BaseInstanceLoader
from tablib import Dataset

from accounts.models import Role, User, normalize_email
from accounts.services import invitation_send
from engagements.models import Engagement, Program

REQUIRED_COLUMNS = ("email", "full_name")


class ParticipantByEmailLoader(BaseInstanceLoader):
    """Existing accounts by lower-cased email, all loaded in before_import (one query
    for the file rather than one per row)."""

    def get_instance(self, row: dict[str, Any]) -> User | None:
        return self.resource.existing.get(row["email"])


class ParticipantImportResource(resources.ModelResource):
    email = fields.Field(attribute="email", column_name="email")
    full_name = fields.Field(attribute="full_name", column_name="full_name")

    class Meta:
        model = User
        fields = ("email", "full_name")
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
        self.new_accounts = 0
        self.invited = 0

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
        missing = [c for c in REQUIRED_COLUMNS if c not in (dataset.headers or [])]
        if missing:
            raise ValueError(
                f"The file needs the columns {', '.join(REQUIRED_COLUMNS)}; "
                f"missing: {', '.join(missing)}."
            )
        self.seen, self.new_accounts, self.invited = {}, 0, 0
        emails = {normalize_email(str(value or "")) for value in dataset["email"]}
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
        if instance.pk is None and not row["full_name"]:
            errors["full_name"] = "The full name is missing."
        if errors:
            raise ValidationError(errors)

    def _email_problem(self, user: User, email: str, row_number: int | None) -> str:
        if not email:
            return "The email address is missing."
        try:
            validate_email(email)
        except ValidationError:
            return "This is not a valid email address."
        if email in self.seen:
            return f"This address is already on row {self.seen[email]} of this file."
        self.seen[email] = row_number or 0
        if user.pk is None:
            return ""
        if user.role != Role.PARTICIPANT:
            return f"This address belongs to a {user.get_role_display().lower()} account."
        if not user.is_active:
            return "This address belongs to a deactivated account."
        if user.pk in self.enrolled:
            return "This person is already enrolled in this program."
        return ""

    def do_instance_save(self, instance: User, is_create: bool) -> None:
        if is_create:  # existing accounts are reused as they are
            instance.save(force_insert=True)
            self.new_accounts += 1

    def after_save_instance(self, instance: User, row: dict[str, Any], **kwargs: Any) -> None:
        """Enrol the participant (in `invited`) and queue the invitation email."""
        # before_import refused an import without a program.
        program = cast(Program, self.program)
        engagement = Engagement.objects.create(participant=instance, program=program)
        invitation_send(engagement=engagement, actor=self.actor)
        self.invited += 1


def import_problems(result: Any) -> list[str]:
    """Every refused row and file-level error, as lines a person can act on."""
    problems = [f"File: {error.error}" for error in result.base_errors]
    for number, errors in result.row_errors():
        problems.extend(f"Row {number}: {error.error}" for error in errors)
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            label = "" if field == "__all__" else f"{field}: "
            problems.extend(f"Row {invalid.number}: {label}{message}" for message in messages)
    return sorted(problems, key=_row_order)


def _row_order(line: str) -> tuple[int, str]:
    head = line.split(":", 1)[0]
    number = head.removeprefix("Row ")
    return (int(number) if number.isdigit() else 0, line)


class ImportReport:
    """What an import found and did: problems (if any), and the counts written."""

    def __init__(self, *, problems: list[str], rows: int, invited: int, new_accounts: int):
        self.problems = problems
        self.rows = rows
        self.invited = invited
        self.new_accounts = new_accounts

    @property
    def ok(self) -> bool:
        return not self.problems


def participants_import(
    *, program: Program, dataset: Dataset, actor: User | None = None, dry_run: bool = False
) -> ImportReport:
    """Validate every row first (a dry run); then, unless dry_run, import them all.

    The real run is itself all-or-nothing (rollback on any refused row), so a
    change between the two passes cannot half-import a file. Counts in a dry
    run say what would be written.
    """
    check = ParticipantImportResource(program=program, actor=actor)
    result = check.import_data(dataset, dry_run=True)
    problems = import_problems(result)
    if problems or dry_run:
        return ImportReport(
            problems=problems,
            rows=len(dataset),
            invited=0 if problems else check.invited,
            new_accounts=0 if problems else check.new_accounts,
        )
    resource = ParticipantImportResource(program=program, actor=actor)
    result = resource.import_data(dataset, dry_run=False)
    problems = import_problems(result)
    written = not problems
    return ImportReport(
        problems=problems,
        rows=len(dataset),
        invited=resource.invited if written else 0,
        new_accounts=resource.new_accounts if written else 0,
    )
