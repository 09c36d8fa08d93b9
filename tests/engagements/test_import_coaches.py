from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from import_export.formats.base_formats import CSV
from zeal import zeal_context

from accounts.models import AuditEvent, Role, User
from coaches.models import CoachProfile, Language, Specialty
from engagements.coach_resources import COLUMNS, CoachImportResource
from engagements.models import Program
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = {
    "email": "Ada.Lovelace@Example.com",
    "full_name": "Ada Lovelace",
    "headline": "Engines and leaders",
    "bio": "Twenty years of coaching.",
    "capacity": "8",
    "booking_url": "https://cal.example.com/ada",
    "time_zone": "Europe/London",
    "languages": "en; FR",
    "specialties": "Leadership;New managers",
    "accepting_new": "yes",
}


def row(**overrides: str) -> dict[str, str]:
    return {**GOOD, **overrides}


def csv_text(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(
    *rows: dict[str, str],
    program: Program | None = None,
    dry_run: bool = False,
    **kw: tuple[str, ...],
) -> tuple[CoachImportResource, Any]:
    resource = CoachImportResource(program=program)
    with zeal_context():  # each import is one unit of work (django-zeal scope)
        result = resource.import_data(CSV().create_dataset(csv_text(*rows, **kw)), dry_run=dry_run)
    return resource, result


def errors_of(result: Any) -> dict[int, dict[str, list[str]]]:  # import-export has no types
    return {invalid.number: invalid.error_dict for invalid in result.invalid_rows}


def test_resource_turns_on_model_validation_and_bulk_writes() -> None:
    options = CoachImportResource._meta
    assert options.clean_model_instances is True
    assert options.use_bulk is True and options.use_transactions is True


def test_import_creates_coaches_languages_specialties_and_adds_them_to_the_pool(
    program: Program,
) -> None:
    factories.SpecialtyFactory(name="Leadership")

    _, result = run(
        row(), row(email="grace@example.com", full_name="Grace Hopper"), program=program
    )

    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 2
    ada = CoachProfile.objects.select_related("user").get(user__email="ada.lovelace@example.com")
    assert ada.user.role == Role.COACH and ada.user.full_name == "Ada Lovelace"
    assert not ada.user.has_usable_password()
    assert (ada.capacity, ada.time_zone, ada.accepting_new) == (8, "Europe/London", True)
    assert ada.booking_url == "https://cal.example.com/ada"
    assert sorted(ada.languages.values_list("code", "name")) == [
        ("en", "English"),
        ("fr", "French"),
    ]
    assert sorted(ada.specialties.values_list("name", flat=True)) == ["Leadership", "New managers"]
    assert Specialty.objects.count() == 2
    assert set(program.coaches.all()) == set(CoachProfile.objects.all())
    event = AuditEvent.objects.get(action="coaches.imported")
    assert event.after == {"created": 2, "updated": 0, "added_to_pool": 2}
    assert "example.com" not in str(event.after)


def test_reimporting_the_same_file_changes_nothing(program: Program) -> None:
    rows = [
        row(),
        row(email="grace@example.com", full_name="Grace Hopper", specialties="leadership"),
    ]
    run(*rows, program=program)
    before = list(CoachProfile.objects.values_list("pk", "updated_at").order_by("pk"))
    counts = (User.objects.count(), Specialty.objects.count(), Language.objects.count())
    events = AuditEvent.objects.count()

    _, result = run(*rows, program=program)

    assert result.totals["skip"] == 2 and result.totals["new"] == result.totals["update"] == 0
    assert list(CoachProfile.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert (User.objects.count(), Specialty.objects.count(), Language.objects.count()) == counts
    assert AuditEvent.objects.count() == events


def test_import_updates_an_existing_coach_matched_by_email_in_any_case(program: Program) -> None:
    coach = factories.CoachFactory(user__email="ada.lovelace@example.com", capacity=3)
    coach.languages.add(factories.LanguageFactory(code="de", name="German"))
    coach.specialties.add(factories.SpecialtyFactory(name="Resilience"))
    assigned = factories.engagement_with_coach(coach=coach)

    _, result = run(row(email="ADA.LOVELACE@example.COM", languages="en"), program=program)

    assert result.totals["update"] == 1
    coach.refresh_from_db()
    coach.user.refresh_from_db()
    assert User.objects.filter(role=Role.COACH).count() == 1
    assert coach.user.full_name == "Ada Lovelace" and coach.capacity == 8
    assert list(coach.languages.values_list("code", flat=True)) == ["en"]
    assert sorted(coach.specialties.values_list("name", flat=True)) == [
        "Leadership",
        "New managers",
    ]
    assert coach in program.coaches.all()
    assert CoachProfile.objects.get(pk=coach.pk).engagements.get() == assigned


def test_only_the_pool_is_new_when_a_known_coach_joins_another_program(program: Program) -> None:
    run(row())

    _, result = run(row(), program=program)

    assert result.totals["update"] == 1
    assert program.coaches.get().user.email == "ada.lovelace@example.com"


def test_a_coach_user_without_a_profile_gets_one() -> None:
    user = factories.UserFactory(email="ada.lovelace@example.com", role=Role.COACH)

    _, result = run(row())

    assert result.totals["new"] == 1
    assert CoachProfile.objects.get().user == user


@pytest.mark.parametrize(
    ("overrides", "column", "message"),
    [
        ({"email": "not-an-email"}, "email", "This is not a valid email address."),
        ({"email": ""}, "email", "The email address is missing."),
        ({"full_name": "  "}, "full_name", "The name is missing."),
        ({"capacity": "-1"}, "capacity", "Capacity cannot be negative."),
        ({"capacity": "ten"}, "capacity", "Capacity must be a whole number, not “ten”."),
        ({"capacity": "2.5"}, "capacity", "Capacity must be a whole number, not “2.5”."),
        ({"capacity": ""}, "capacity", "The capacity is missing"),
        ({"booking_url": "http://cal.example.com/a"}, "booking_url", "must start with https://"),
        ({"booking_url": "https://"}, "booking_url", "Enter a valid URL."),
        ({"languages": "en;xx"}, "languages", "Unknown language code “xx”"),
        ({"time_zone": "Mars/Base"}, "time_zone", "is not a time zone name"),
        ({"accepting_new": "maybe"}, "accepting_new", "Write yes or no"),
        ({"headline": "x" * 161}, "headline", "at most 160 characters"),
    ],
    ids=[
        "bad-email",
        "missing-email",
        "missing-name",
        "negative-capacity",
        "word-capacity",
        "fraction-capacity",
        "missing-capacity",
        "http-booking-link",
        "broken-booking-link",
        "unknown-language",
        "unknown-time-zone",
        "bad-flag",
        "headline-too-long-model-validation",
    ],
)
def test_each_bad_row_is_reported_with_its_number_and_nothing_is_written(
    program: Program, overrides: dict[str, str], column: str, message: str
) -> None:
    _, result = run(
        row(email="first@example.com"),
        row(**overrides),
        row(email="third@example.com"),
        program=program,
    )

    errors = errors_of(result)
    assert list(errors) == [2]
    assert any(message in text for text in errors[2][column])
    assert not CoachProfile.objects.exists() and not User.objects.exists()
    assert not program.coaches.exists() and not Specialty.objects.exists()


def test_a_duplicate_email_in_the_file_names_the_first_row() -> None:
    _, result = run(row(), row(email="grace@example.com"), row(email="ADA.lovelace@example.com"))

    assert errors_of(result) == {
        3: {"email": ["This email is already on row 1; each coach appears only once."]}
    }
    assert not User.objects.exists()


def test_an_email_that_belongs_to_a_participant_is_refused() -> None:
    factories.UserFactory(email="ada.lovelace@example.com", role=Role.PARTICIPANT)

    _, result = run(row())

    assert "not a coach's" in errors_of(result)[1]["email"][0]
    assert not CoachProfile.objects.exists()


def test_a_partial_import_cannot_get_through_even_after_the_bad_row(program: Program) -> None:
    existing = factories.CoachFactory(user__email="ada.lovelace@example.com", capacity=3)
    rows = [row(capacity="9"), *(row(email=f"c{i}@example.com") for i in range(5))]
    rows.append(row(email="last@example.com", capacity="-5"))

    _, result = run(*rows, program=program)

    assert result.has_validation_errors()
    existing.refresh_from_db()
    assert existing.capacity == 3
    assert CoachProfile.objects.count() == 1 and not program.coaches.exists()
    assert not AuditEvent.objects.filter(action="coaches.imported").exists()


def test_missing_columns_are_named() -> None:
    _, result = run(row(), columns=("email", "full_name"))

    assert result.has_errors()
    assert "The file has no headline, bio, capacity" in str(result.base_errors[0].error)
    assert not User.objects.exists()


def test_dry_run_reports_and_writes_nothing(program: Program) -> None:
    _, result = run(row(), program=program, dry_run=True)

    assert result.totals["new"] == 1
    assert not User.objects.exists() and not program.coaches.exists()


def write(tmp_path: Path, *rows: dict[str, str]) -> str:
    path = tmp_path / "coaches.csv"
    path.write_text(csv_text(*rows), encoding="utf-8")
    return str(path)


def test_command_imports_into_a_program_by_name(tmp_path: Path, program: Program) -> None:
    out = io.StringIO()

    call_command("import_coaches", write(tmp_path, row()), program=program.name, stdout=out)

    assert "1 rows checked" in out.getvalue() and "1 new" in out.getvalue()
    assert program.coaches.count() == 1


def test_command_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = io.StringIO()

    call_command("import_coaches", write(tmp_path, row()), dry_run=True, stdout=out)

    assert "Dry run: nothing was written." in out.getvalue()
    assert not User.objects.exists()


def test_command_lists_every_bad_row_and_fails(tmp_path: Path) -> None:
    err = io.StringIO()
    path = write(tmp_path, row(), row(email="bad", capacity="-2"), row(full_name=""))

    with pytest.raises(CommandError, match="2 of 3 rows are invalid; nothing was imported"):
        call_command("import_coaches", path, stderr=err)

    lines = err.getvalue().splitlines()
    assert "Row 2, email: This is not a valid email address." in lines
    assert "Row 2, capacity: Capacity cannot be negative." in lines
    assert "Row 3, full_name: The name is missing." in lines
    assert "Row 3, email: This email is already on row 1; each coach appears only once." in lines
    assert not User.objects.exists()


def test_command_refuses_an_unknown_program(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No program has the id or name"):
        call_command("import_coaches", write(tmp_path, row()), program="Nope")


def test_command_reports_bad_user_columns_and_nul_bytes_as_rows_not_tracebacks(
    tmp_path: Path,
) -> None:
    """Issue 13: columns the database would refuse are named, row by row."""
    err = io.StringIO()
    long_email = "a" * 288 + "@example.com"  # 300 characters, longer than the column
    path = write(
        tmp_path,
        row(full_name="N" * 200),
        row(email=long_email),
        row(email="nul@example.com", bio="Line one\x00line two"),
        row(email="nulname@example.com", full_name="Ada\x00Lovelace"),
        row(email="nul\x00@example.com"),
        row(email="ok@example.com", specialties="Lead\x00ership"),
    )

    with pytest.raises(CommandError, match="6 of 6 rows are invalid; nothing was imported"):
        call_command("import_coaches", path, stderr=err)

    assert err.getvalue().splitlines() == [
        "Row 1, full_name: At most 150 characters (this has 200).",
        "Row 2, email: At most 254 characters (this has 300).",
        "Row 3, bio: This cell contains a NUL character; remove it.",
        "Row 4, full_name: This cell contains a NUL character; remove it.",
        "Row 5, email: This cell contains a NUL character; remove it.",
        "Row 6, specialties: This cell contains a NUL character; remove it.",
    ]
    assert not User.objects.exists() and not CoachProfile.objects.exists()


@pytest.fixture
def chunks_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command reads the file 2 rows at a time (2,000 in production)."""
    from engagements.management.commands import import_coaches

    monkeypatch.setattr(import_coaches, "CHUNK_ROWS", 2)


def _people(n: int) -> list[dict[str, str]]:
    return [row(email=f"coach{i}@example.com", full_name=f"Coach {i}") for i in range(n)]


def test_command_imports_a_file_in_chunks_as_one_import(
    tmp_path: Path, program: Program, chunks_of_two: None
) -> None:
    out = io.StringIO()

    call_command("import_coaches", write(tmp_path, *_people(5)), program=program.name, stdout=out)

    assert "5 rows checked" in out.getvalue() and "5 new, 0 updated" in out.getvalue()
    assert "5 added to" in out.getvalue()
    assert program.coaches.count() == 5
    event = AuditEvent.objects.get(action="coaches.imported")
    assert event.after == {"created": 5, "updated": 0, "added_to_pool": 5}


def test_command_numbers_rows_across_chunks_and_writes_nothing_from_earlier_chunks(
    tmp_path: Path,
    chunks_of_two: None,
) -> None:
    err = io.StringIO()
    people = _people(5)
    people[3] = row(email="coach0@example.com", full_name="Again")  # row 4, chunk 2
    people[4] = row(email="coach4@example.com", capacity="lots")  # row 5, chunk 3
    path = write(tmp_path, *people)

    with pytest.raises(CommandError, match="2 of 5 rows are invalid; nothing was imported"):
        call_command("import_coaches", path, stderr=err)

    lines = err.getvalue().splitlines()
    assert "Row 4, email: This email is already on row 1; each coach appears only once." in lines
    assert "Row 5, capacity: Capacity must be a whole number, not “lots”." in lines
    assert not User.objects.exists()
    assert not AuditEvent.objects.filter(action="coaches.imported").exists()


def test_command_reimport_in_chunks_changes_nothing(tmp_path: Path, chunks_of_two: None) -> None:
    path = write(tmp_path, *_people(3))
    call_command("import_coaches", path, stdout=io.StringIO())
    out = io.StringIO()

    call_command("import_coaches", path, stdout=out)

    assert "0 new, 0 updated, 3 unchanged" in out.getvalue()
    assert AuditEvent.objects.filter(action="coaches.imported").count() == 1
