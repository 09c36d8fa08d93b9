"""django-import-export resource for the coach CSV (admin and `import_coaches`).

Each row is parsed by the widgets below (messages a person understands), then
checked by the model's own validation (`clean_model_instances`). The user's
columns (email, full_name) are checked by the widgets against the User model's
columns, and no cell may hold a NUL character, so a bad row is reported as
"Row N, column: reason", never as a database error. Valid rows are
collected, not saved one by one: when every row is valid, `after_import` hands
them to `coaches_import`, which writes them in bulk. Any invalid row rolls the
whole import back (`rollback_on_validation_errors`, forced on in import_data).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.core.exceptions import ValidationError
from import_export import resources, widgets
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader
from tablib import Dataset

from accounts.models import Role, User, normalize_email
from coaches.models import CoachProfile, Specialty
from engagements.coach_imports import (
    ISO_LANGUAGES,
    PROFILE_FIELDS,
    CoachImportRow,
    CoachImportSummary,
    coaches_import,
    new_coach_user,
)
from engagements.imports import email_problem, emails_to_look_up, text_problem
from engagements.models import Program

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

COLUMNS = (
    "email",
    "full_name",
    "headline",
    "bio",
    "capacity",
    "booking_url",
    "time_zone",
    "languages",
    "specialties",
    "accepting_new",
)
# Error keys are resource attributes; people know the columns.
COLUMN_FOR_ATTRIBUTE = {"language_codes": "languages", "specialty_names": "specialties"}
# A CharField always has a max_length.
SPECIALTY_MAX = cast(int, Specialty._meta.get_field("name").max_length)
NAME_MAX = cast(int, User._meta.get_field("full_name").max_length)


class ImportedColumns(TypedDict):
    """The row's values that the resource's fields set on the profile beside its own."""

    email: str
    full_name: str
    language_codes: frozenset[str]
    specialty_names: frozenset[str]


# A profile as the import sees it: the model plus the columns above.
type ImportedCoach = WithAnnotations[CoachProfile, ImportedColumns]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TextWidget(widgets.Widget):
    """Text without NUL characters; `max_length` for columns the model does not check
    (the user's), the profile's own are checked by full_clean."""

    def __init__(self, *, missing: str | None = None, max_length: int | None = None) -> None:
        super().__init__()
        self.missing = missing
        self.max_length = max_length

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text and self.missing:
            raise ValueError(self.missing)
        problem = text_problem(text, max_length=self.max_length)
        if problem:
            raise ValueError(problem)
        return text


class EmailWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        email = normalize_email(_text(value))
        problem = email_problem(email)
        if problem:
            raise ValueError(problem)
        return email


class CapacityWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:
        text = _text(value)
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if not text:
            raise ValueError("The capacity is missing: give a whole number, 0 or more.")
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"Capacity must be a whole number, not “{_shorten(text)}”.")
        number = int(text)
        if number < 0:
            raise ValueError("Capacity cannot be negative.")
        return number


class FlagWidget(widgets.Widget):
    TRUE = {"1", "true", "yes", "y"}
    FALSE = {"0", "false", "no", "n"}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if not text or text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"Write yes or no, not “{_shorten(text)}”.")


def _split(value: Any) -> list[str]:
    return [part.strip() for part in _text(value).split(";") if part.strip()]


class LanguageCodesWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> frozenset[str]:
        codes = [code.lower() for code in _split(value)]
        unknown = [code for code in codes if code not in ISO_LANGUAGES]
        if unknown:
            listed = ", ".join(f"“{_shorten(code, 12)}”" for code in unknown[:5])
            raise ValueError(
                f"Unknown language code {listed}: use two-letter ISO 639-1 codes "
                "such as en or fr, separated by “;”."
            )
        return frozenset(codes)


class SpecialtyNamesWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> frozenset[str]:
        names: dict[str, str] = {}
        for name in _split(value):
            if len(name) > SPECIALTY_MAX:
                raise ValueError(f"A specialty name has at most {SPECIALTY_MAX} characters.")
            problem = text_problem(name)
            if problem:
                raise ValueError(problem)
            names.setdefault(name.lower(), name)
        return frozenset(names.values())


class CoachByEmailLoader(BaseInstanceLoader):
    """Existing profiles by lower-cased email, all loaded in before_import."""

    def get_instance(self, row: dict[str, Any]) -> CoachProfile | None:
        return self.resource.profiles.get(normalize_email(_text(row.get("email"))))


class CoachImportResource(resources.ModelResource):
    email = Field(attribute="email", column_name="email", widget=EmailWidget())
    full_name = Field(
        attribute="full_name",
        column_name="full_name",
        widget=TextWidget(missing="The name is missing.", max_length=NAME_MAX),
    )
    headline = Field(attribute="headline", column_name="headline", widget=TextWidget())
    bio = Field(attribute="bio", column_name="bio", widget=TextWidget())
    capacity = Field(attribute="capacity", column_name="capacity", widget=CapacityWidget())
    booking_url = Field(attribute="booking_url", column_name="booking_url", widget=TextWidget())
    time_zone = Field(
        attribute="time_zone",
        column_name="time_zone",
        widget=TextWidget(missing="The time zone is missing, e.g. Europe/Paris."),
    )
    languages = Field(
        attribute="language_codes", column_name="languages", widget=LanguageCodesWidget()
    )
    specialties = Field(
        attribute="specialty_names", column_name="specialties", widget=SpecialtyNamesWidget()
    )
    accepting_new = Field(
        attribute="accepting_new", column_name="accepting_new", widget=FlagWidget()
    )

    class Meta:
        model = CoachProfile
        name = "Coaches"
        fields = COLUMNS
        import_order = COLUMNS
        import_id_fields = ["email"]
        instance_loader_class = CoachByEmailLoader
        use_transactions = True
        # Run the model's full_clean() on every row (off by default).
        clean_model_instances = True
        # No per-row save or savepoint: rows are collected and written in bulk.
        use_bulk = True
        skip_diff = True
        skip_unchanged = True
        report_skipped = True

    def __init__(
        self,
        *,
        program: Program | None = None,
        actor: User | None = None,
        audit: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.program = program
        self.actor = actor
        self.audit = audit
        # A file imported in chunks: the rows before this one, for row numbers.
        self.row_offset = 0
        self.profiles: dict[str, CoachProfile] = {}
        self.users: dict[str, User] = {}
        self.snapshots: dict[int, dict[str, Any]] = {}
        self.pool_ids: set[int] = set()
        self.first_row_of: dict[str, int] = {}
        self.pending: list[CoachImportRow] = []
        self.summary: CoachImportSummary | None = None

    def import_data(self, dataset: Dataset, *args: Any, **kwargs: Any) -> Any:
        """Always in one transaction that any invalid row rolls back entirely."""
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, *args, **kwargs)

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        if self.actor is None and isinstance(kwargs.get("user"), User):
            self.actor = kwargs["user"]
        dataset.headers = [_text(header).lower() for header in dataset.headers or []]
        missing = [column for column in COLUMNS if column not in dataset.headers]
        if missing:
            # Rows cannot be read without their columns: report the file, not each row.
            headers = dataset.headers
            dataset.wipe()
            dataset.headers = headers
            raise ValueError(
                f"The file has no {', '.join(missing)} column. "
                f"The first line must name the columns: {', '.join(COLUMNS)}."
            )
        self._load_existing(emails_to_look_up(dataset["email"]))

    def _load_existing(self, emails: set[str]) -> None:
        """This dataset's existing users and profiles (one chunk's, when chunked)."""
        self.profiles, self.snapshots, self.pending = {}, {}, []
        self.summary = None
        self.users = {user.email: user for user in User.objects.filter(email__in=emails)}
        profiles = (
            CoachProfile.objects.filter(user__in=[user.pk for user in self.users.values()])
            .select_related("user")
            .prefetch_related("languages", "specialties")
        )
        for profile in profiles:
            self.profiles[profile.user.email] = profile
            self.snapshots[profile.pk] = {
                **{name: getattr(profile, name) for name in PROFILE_FIELDS},
                "full_name": profile.user.full_name,
                "language_codes": frozenset(lang.code for lang in profile.languages.all()),
                "specialty_names": frozenset(s.name.lower() for s in profile.specialties.all()),
            }
        if self.program is not None:
            # The pool's link rows, not program.coaches: a file read in chunks
            # asks once per chunk, which is not an N+1 on the program.
            pool = Program.coaches.through.objects.filter(
                program=self.program, coachprofile__in=self.snapshots
            )
            self.pool_ids = set(pool.values_list("coachprofile_id", flat=True))

    def import_instance(self, instance: ImportedCoach, row: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "email" not in errors:
            row_number = self.row_offset + kwargs.get("row_number", 0)
            problem = self._email_problem(instance.email, row_number)
            if problem:
                errors["email"] = [ValidationError(problem)]
        if instance.pk is None and "email" not in errors:
            instance.user = self.users.get(instance.email) or new_coach_user(
                email=instance.email, full_name=getattr(instance, "full_name", "")
            )
        if errors:
            raise ValidationError(errors)

    def _email_problem(self, email: str, row_number: int) -> str | None:
        first = self.first_row_of.setdefault(email, row_number)
        if first != row_number:
            return f"This email is already on row {first}; each coach appears only once."
        user = self.users.get(email)
        if user is not None and user.role != Role.COACH:
            return "This email belongs to an account that is not a coach's."
        return None

    def skip_row(
        self,
        instance: ImportedCoach,
        original: Any,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        """An existing coach whose row changes nothing (and who is in the pool)."""
        if import_validation_errors or instance.pk is None:
            return False
        in_pool = self.program is None or instance.pk in self.pool_ids
        return in_pool and not self._changes(instance)

    def _changes(self, instance: ImportedCoach) -> set[str]:
        """What the row changes on an existing coach, compared with the database."""
        state = {
            **{name: getattr(instance, name) for name in PROFILE_FIELDS},
            "full_name": instance.full_name,
            "language_codes": instance.language_codes,
            "specialty_names": frozenset(name.lower() for name in instance.specialty_names),
        }
        before = self.snapshots[instance.pk]
        return {name for name, value in state.items() if before[name] != value}

    def validate_instance(
        self,
        instance: CoachProfile,
        import_validation_errors: Any = None,
        validate_unique: bool = True,
    ) -> None:
        """Parsing errors plus the model's full_clean(), reported by column name.

        `user` is excluded (an unsaved user is attached; the import service saves
        it) and so is the uniqueness check: coaches are matched by email above.
        Database constraints are not re-run per row (each costs a query and a
        savepoint): the only one, capacity >= 0, is the field's own validator here
        and still guards the bulk write.
        """
        errors: dict[str, Any] = dict(import_validation_errors or {})
        if self._meta.clean_model_instances:
            try:
                instance.full_clean(
                    exclude=[*errors, "user"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(
                {COLUMN_FOR_ATTRIBUTE.get(key, key): value for key, value in errors.items()}
            )

    def save_instance(
        self, instance: ImportedCoach, is_create: bool, row: dict[str, Any], **kwargs: Any
    ) -> None:
        self.pending.append(
            CoachImportRow(
                profile=instance,
                full_name=instance.full_name,
                language_codes=instance.language_codes,
                specialty_names=instance.specialty_names,
                is_new=is_create,
                changed_fields=(
                    frozenset(PROFILE_FIELDS)
                    if is_create
                    else frozenset(self._changes(instance) & set(PROFILE_FIELDS))
                ),
            )
        )

    def after_import(self, dataset: Dataset, result: Any, **kwargs: Any) -> None:
        """Write everything at once, and only when every row is valid."""
        if result.has_errors() or result.has_validation_errors():
            return
        self.summary = coaches_import(
            rows=self.pending, program=self.program, actor=self.actor, audit=self.audit
        )
