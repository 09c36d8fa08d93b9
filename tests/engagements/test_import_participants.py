"""Inviting participants from CSV: all rows or none, in the admin and from the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from import_export.formats.base_formats import CSV
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import AuditEvent, User
from engagements.imports import ParticipantImportResource, participants_import
from engagements.models import Engagement, Program
from tests import factories
from tests.responses import ClientResponse
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

GOOD = "email,full_name\nada@example.com,Ada Lovelace\nGrace@Example.com,Grace Hopper\n"


def _dataset(text: str) -> Any:  # a tablib Dataset; tablib has no types
    return CSV(encoding="utf-8").create_dataset(text)


def _bad_file(program: Program) -> str:
    enrolled = factories.EngagementFactory(program=program).participant
    return (
        "email,full_name\n"
        "ok@example.com,Fine Person\n"  # row 1: valid
        "not-an-address,Bad Email\n"  # row 2
        "noname@example.com,\n"  # row 3
        "OK@example.com,Fine Again\n"  # row 4: duplicate of row 1
        f"{enrolled.email.upper()},Already There\n"  # row 5
        f"long@example.com,{'x' * 151}\n"  # row 6: caught by full_clean only
    )


BAD_ROW_REASONS = [
    "Row 2, email: This is not a valid email address.",
    "Row 3, full_name: The full name is missing.",
    "Row 4, email: This address is already on row 1 of this file.",
    "Row 5, email: This person is already enrolled in this program.",
    "Row 6, full_name: Ensure this value has at most 150 characters (it has 151).",
]


def test_import_creates_participants_engagements_and_queues_one_email_each(
    program: Program, mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    existing = factories.UserFactory(email="grace@example.com", full_name="Grace B. Hopper")
    report = participants_import(program=program, dataset=_dataset(GOOD))
    assert mailoutbox == []  # the import queues the invitations; the worker sends them
    assert run_worker() == 2
    assert report.ok and (report.invited, report.new_accounts) == (2, 1)
    ada = User.objects.get(email="ada@example.com")
    assert (ada.role, ada.full_name, ada.has_usable_password()) == (
        "participant",
        "Ada Lovelace",
        False,
    )
    existing.refresh_from_db()
    assert existing.full_name == "Grace B. Hopper"  # reused, not edited
    engagements = Engagement.objects.filter(program=program)
    assert sorted(e.status for e in engagements) == ["invited", "invited"]
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "grace@example.com"]
    message = mailoutbox[0]
    assert program.name in message.subject
    assert "http://127.0.0.1:8000/login/\n" in message.body
    assert "?" not in re.findall(r"http\S+", str(message.body))[0]  # no address hint in the link
    assert AuditEvent.objects.filter(action="invitation.sent").count() == 2


def test_every_kind_of_bad_row_is_listed_and_nothing_is_written(
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    run_worker: Callable[[], int],
) -> None:
    text = _bad_file(program)
    users, engagements = User.objects.count(), Engagement.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        report = participants_import(program=program, dataset=_dataset(text))
    assert report.problems == BAD_ROW_REASONS
    assert (User.objects.count(), Engagement.objects.count()) == (users, engagements)
    assert run_worker() == 0
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action="invitation.sent").exists()


def test_model_validation_is_on(program: Program) -> None:
    assert ParticipantImportResource._meta.clean_model_instances is True


def test_a_real_run_rolls_back_every_row_when_one_is_refused(
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    run_worker: Callable[[], int],
) -> None:
    """rollback_on_validation_errors: without it the valid rows would be kept."""
    resource = ParticipantImportResource(program=program)
    with django_capture_on_commit_callbacks(execute=True):
        result = resource.import_data(_dataset(_bad_file(program)), dry_run=False)
    assert result.has_validation_errors()
    assert not User.objects.filter(email="ok@example.com").exists()
    assert Engagement.objects.filter(program=program).count() == 1  # only the pre-existing one
    assert run_worker() == 0
    assert mailoutbox == []


def test_dry_run_reports_without_writing_or_sending(
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    run_worker: Callable[[], int],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = participants_import(program=program, dataset=_dataset(GOOD), dry_run=True)
    assert report.ok and report.new_accounts == 2
    assert not User.objects.exists() and not Engagement.objects.exists()
    assert run_worker() == 0
    assert mailoutbox == []


def test_coach_and_inactive_accounts_are_refused(program: Program) -> None:
    coach = factories.CoachFactory().user
    gone = factories.UserFactory(is_active=False)
    text = f"email,full_name\n{coach.email},C\n{gone.email},G\n"
    report = participants_import(program=program, dataset=_dataset(text))
    assert report.problems == [
        "Row 1, email: This address belongs to a coach account.",
        "Row 2, email: This address belongs to a deactivated account.",
    ]


def test_missing_columns_are_a_clear_file_error(program: Program) -> None:
    report = participants_import(program=program, dataset=_dataset("mail,name\na@b.co,A\n"))
    assert report.problems[0].startswith("File: The file needs the columns email, full_name;")
    assert not User.objects.exists()


# The command


def test_command_imports_by_program_name(
    tmp_path: Path,
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    run_worker: Callable[[], int],
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(GOOD)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_participants", program.name, str(path), stdout=out)
    assert f"Invited 2 participant(s) to {program.name} (2 new account(s))" in out.getvalue()
    assert Engagement.objects.filter(program=program).count() == 2
    assert run_worker() == 2
    assert len(mailoutbox) == 2


def test_command_dry_run_by_public_id_writes_nothing(
    tmp_path: Path,
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(GOOD)
    out = StringIO()
    call_command("import_participants", str(program.public_id), str(path), "--dry-run", stdout=out)
    assert "Dry run: all 2 row(s) are valid" in out.getvalue()
    assert run_worker() == 0
    assert not User.objects.exists() and mailoutbox == []


def test_command_lists_bad_rows_and_writes_nothing(
    tmp_path: Path,
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(_bad_file(program))
    err = StringIO()
    with pytest.raises(CommandError, match="5 problem"):
        call_command("import_participants", program.name, str(path), stderr=err)
    assert err.getvalue().splitlines() == BAD_ROW_REASONS
    assert not User.objects.filter(email="ok@example.com").exists()
    assert run_worker() == 0
    assert mailoutbox == []


def test_command_refuses_an_unknown_program(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(GOOD)
    with pytest.raises(CommandError, match="No program has the id or name 'Nope'"):
        call_command("import_participants", "Nope", str(path))


# The admin


def _upload(client: Client, program: Program, text: str) -> ClientResponse:
    return client.post(
        "/admin/accounts/user/import/",
        {
            "resource": "0",
            "format": "0",
            "program": program.pk,
            "import_file": SimpleUploadedFile("people.csv", text.encode(), "text/csv"),
        },
    )


def test_admin_import_shows_bad_rows_and_offers_no_confirmation(
    client: Client, staff: User, program: Program
) -> None:
    login_verified(client, staff)
    body = _upload(client, program, _bad_file(program)).content.decode()
    assert "This is not a valid email address." in body
    assert "This person is already enrolled in this program." in body
    assert "process_import" not in body
    assert not User.objects.filter(email="ok@example.com").exists()


def test_admin_import_dry_run_then_confirm_invites_everyone(
    client: Client,
    staff: User,
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    run_worker: Callable[[], int],
) -> None:
    login_verified(client, staff)
    preview = _upload(client, program, GOOD)
    assert not User.objects.filter(email="ada@example.com").exists()  # the dry run wrote nothing
    confirm = preview.context["confirm_form"]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/user/process_import/",
            {name: confirm.initial[name] for name in confirm.initial},
            follow=True,
        )
    assert "Invited 2 participant(s); invitation emails sent." in response.content.decode()
    assert Engagement.objects.filter(program=program, status="invited").count() == 2
    run_worker()
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "grace@example.com"]


def test_resend_invitation_action_emails_only_open_invitations(
    client: Client,
    staff: User,
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    run_worker: Callable[[], int],
) -> None:
    invited = factories.EngagementFactory(program=program).participant
    started = factories.engagement_with_coach(program=program).participant
    login_verified(client, staff)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/user/",
            {"action": "resend_invitation", "_selected_action": [invited.pk, started.pk]},
            follow=True,
        )
    assert "1 invitation(s) resent. 1 refused (no open invitation)." in response.content.decode()
    run_worker()
    assert [m.to for m in mailoutbox] == [[invited.email]]
    assert AuditEvent.objects.get(action="invitation.sent").actor == staff


def test_a_nul_byte_or_an_overlong_address_is_a_row_problem(program: Program) -> None:
    long_email = "a" * 288 + "@example.com"
    text = f"email,full_name\nnul@example.com,Ada\x00Lovelace\n{long_email},Long Address\n"

    report = participants_import(program=program, dataset=_dataset(text))

    assert report.problems == [
        "Row 1, full_name: This cell contains a NUL character; remove it.",
        "Row 2, email: At most 254 characters (this has 300).",
    ]
    assert not User.objects.exists()


def test_accounts_and_engagements_are_written_once_whatever_the_file_size(program: Program) -> None:
    """Collect, validate, write once: per person only the row's savepoint (two
    statements) and the invitation (an email task and an audit row) remain."""

    def queries(first: int, count: int) -> int:
        rows = "".join(f"p{n}@example.com,Person {n}\n" for n in range(first, first + count))
        with CaptureQueriesContext(connection) as context:
            report = participants_import(
                program=program, dataset=_dataset("email,full_name\n" + rows)
            )
        assert report.ok and report.invited == count
        return len(context)

    assert queries(0, 10) - queries(100, 5) == 5 * 4
