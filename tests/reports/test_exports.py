"""Staff CSV exports: escaped cells, streamed rows, no notes, an audit event per export."""

from __future__ import annotations

import csv
import io
import types
import uuid
from collections.abc import Iterator, Sized
from datetime import date
from decimal import Decimal

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from import_export import fields, resources, widgets
from pytest_django import DjangoAssertNumQueries

from accounts.models import AuditEvent, Role, User
from engagements.models import CoachingSession, Engagement
from reports import exports, views
from reports.exports import (
    EngagementExportResource,
    EscapedExportMixin,
    SessionExportResource,
    escape_csv_cell,
)
from tests.factories import UserFactory
from tests.reports.conftest import NOTES_MARKER, ReportData
from tests.reports.test_query_counts import build_program
from tests.responses import ClientResponse
from tests.signin import OTP_DEVICE_QUERY, login_verified

pytestmark = pytest.mark.django_db

ENGAGEMENTS = "/ops/exports/engagements.csv"
SESSIONS = "/ops/exports/sessions.csv"


# --- the escaping rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    "dangerous",
    ["=1+2", "+1", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", '=HYPERLINK("http://x","y")'],
)
def test_a_cell_that_could_start_a_formula_gets_a_leading_quote(dangerous: str) -> None:
    assert escape_csv_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Anne-Marie Smith-Jones", "Anne-Marie Smith-Jones"),
        ("Chloé Moreau", "Chloé Moreau"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (-2.5, -2.5),
        (Decimal("-1.25"), Decimal("-1.25")),
        (0, 0),
        (date(2026, 3, 2), "2026-03-02"),
    ],
)
def test_ordinary_values_stay_readable_and_numbers_stay_numbers(
    value: object, expected: object
) -> None:
    assert escape_csv_cell(value) == expected


def test_a_negative_number_is_written_as_a_number() -> None:
    done: list[tuple[int, bool]] = []
    text = "".join(
        exports.csv_stream(
            header=["name", "delta"],
            rows=[("-x", -3), ("Smith-Jones", 4)],
            on_finish=lambda n, complete: done.append((n, complete)),
        )
    )
    assert text == "\ufeffname,delta\r\n'-x,-3\r\nSmith-Jones,4\r\n"
    assert done == [(2, True)]


# --- the engagements export -------------------------------------------------------------


def read_csv(response: ClientResponse) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_engagements_export_has_the_columns_and_escapes_names(
    client: Client, report_data: ReportData
) -> None:
    engagement = report_data.engagements["C"]
    type(engagement.participant).objects.filter(pk=engagement.participant_id).update(
        full_name="=HYPERLINK(1)"
    )
    login_verified(client, report_data.staff)
    response = client.get(ENGAGEMENTS, {"program": str(report_data.program.public_id)})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == exports.ENGAGEMENT_HEADER
    by_name = {row[0]: row for row in rows[1:]}
    assert len(by_name) == 7  # Hal, in another program, is not here
    assert by_name["'=HYPERLINK(1)"][2:] == [
        "Leaders 2026",
        "Xavier Coach",
        "In progress",
        "2",
        "2026-03-02",
        "1",
        str(engagement.public_id),
    ]
    assert by_name["Ana Invited"][3:8] == ["", "Invited", "0", "", "1"]
    assert by_name["Dan Done"][4:7] == ["Completed", "4", "2026-03-09"]


def test_export_without_a_program_covers_every_program(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    rows = read_csv(client.get(ENGAGEMENTS))
    assert len(rows) == 1 + 8


def test_sessions_export_never_contains_notes(client: Client, report_data: ReportData) -> None:
    login_verified(client, report_data.staff)
    response = client.get(SESSIONS, {"program": str(report_data.program.public_id)})
    rows = read_csv(response)
    assert rows[0] == exports.SESSION_HEADER
    assert len(rows) == 1 + 9
    c = str(report_data.engagements["C"].public_id)
    who = [c, "Cleo Progress", "Xavier Coach"]
    assert [r for r in rows if r[0] == c] == [
        [*who, "1", "2026-02-16", "60", "Held"],
        [*who, "2", "2026-02-23", "60", "No-show"],
        [*who, "3", "2026-03-02", "60", "Held"],
    ]
    assert NOTES_MARKER not in "".join(",".join(r) for r in rows)


def test_sessions_join_engagements_on_the_engagement_id(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    program = {"program": str(report_data.program.public_id)}
    engagements = read_csv(client.get(ENGAGEMENTS, program))
    sessions = read_csv(client.get(SESSIONS, program))

    key = engagements[0].index("engagement id")
    by_id = {row[key]: dict(zip(engagements[0], row, strict=True)) for row in engagements[1:]}
    joined = [(dict(zip(sessions[0], row, strict=True)), by_id[row[0]]) for row in sessions[1:]]

    assert sessions[0][0] == "engagement id"
    assert len(joined) == len(sessions) - 1 == 9  # every session finds its engagement
    for session, engagement in joined:
        assert session["participant"] == engagement["participant"]
        assert session["coach"] == engagement["coach"]  # each held by the current coach here
    dan = [s for s, e in joined if e["participant"] == "Dan Done"]
    assert [s["number"] for s in dan] == ["1", "2", "3", "4"]


def test_admin_exports_join_too(report_data: ReportData) -> None:
    engagements = (
        EngagementExportResource()
        .export(Engagement.objects.filter(program=report_data.program))
        .dict
    )
    sessions = (
        SessionExportResource()
        .export(CoachingSession.objects.filter(engagement__program=report_data.program))
        .dict
    )

    by_id = {row["engagement id"]: row for row in engagements}
    for session in sessions:
        engagement = by_id[session["engagement id"]]
        assert (session["participant"], session["coach"]) == (
            engagement["participant"],
            engagement["coach"],
        )
    assert len(sessions) == 9


def test_each_export_writes_an_audit_event_with_the_row_count(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    response = client.get(SESSIONS, {"program": str(report_data.program.public_id)})
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()
    read_csv(response)
    event = AuditEvent.objects.get(action="export.sessions")
    assert event.actor == report_data.staff
    assert event.object_id == str(report_data.program.public_id)
    assert event.after == {"rows": 9, "complete": True}
    assert event.request_id == response["X-Request-ID"]
    read_csv(client.get(ENGAGEMENTS))
    event = AuditEvent.objects.get(action="export.engagements")
    assert (event.object_id, event.after) == ("", {"rows": 8, "complete": True})


def test_a_download_cut_short_is_audited_as_incomplete(
    rf: RequestFactory, report_data: ReportData, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Called directly (not through the test client, which wraps the stream).
    request = rf.get(ENGAGEMENTS)
    request.user = report_data.staff
    # What OTPMiddleware sets for a session verified by an emailed code.
    monkeypatch.setattr(request.user, "is_verified", lambda: True, raising=False)
    response = views.export_engagements(request)
    assert isinstance(response, StreamingHttpResponse)
    stream = response.streaming_content
    assert isinstance(stream, Iterator)  # a synchronous stream
    next(stream)  # the header only
    # The client went away and the server closes the response. Keep the test
    # transaction's connection open meanwhile, as Django's test client does.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    event = AuditEvent.objects.get(action="export.engagements")
    assert event.actor == report_data.staff
    assert event.after == {"rows": 0, "complete": False}


def test_the_export_is_a_lazy_stream_of_small_chunks(client: Client, staff: User) -> None:
    program = build_program(1200)
    login_verified(client, staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ENGAGEMENTS, {"program": str(program.public_id)})
        assert isinstance(response, StreamingHttpResponse)
        # An iterator, not a body: nothing has been read or counted yet.
        assert isinstance(response.streaming_content, Iterator)
        assert not isinstance(response.streaming_content, Sized)
        before = len(queries)
        chunks = iter(response.streaming_content)
        header = next(chunks)
        # The header is sent before a single engagement is read.
        assert header.decode().strip("\ufeff\r\n") == ",".join(exports.ENGAGEMENT_HEADER)
        assert len(queries) == before
        rest = list(chunks)
    # 1200 rows leave in chunks of at most ROWS_PER_WRITE rows, never as one body.
    assert len(rest) == 3
    assert max(chunk.count(b"\r\n") for chunk in rest) == exports.ROWS_PER_WRITE
    assert sum(chunk.count(b"\r\n") for chunk in rest) == 1200


@pytest.mark.parametrize("size", [10, 1000])
def test_export_queries_do_not_grow_with_the_rows(
    client: Client, staff: User, size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    program = build_program(size)
    login_verified(client, staff)
    # user (then cached; the session is cached at sign-in), program; one query for
    # the rows; the audit event.
    with django_assert_num_queries(4 + OTP_DEVICE_QUERY):
        rows = read_csv(client.get(ENGAGEMENTS, {"program": str(program.public_id)}))
    assert len(rows) == 1 + size
    with django_assert_num_queries(3):  # the user and the OTP device are cached now
        rows = read_csv(client.get(SESSIONS, {"program": str(program.public_id)}))
    assert len(rows) == 1 + CoachingSession.objects.filter(engagement__program=program).count()


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.COACH, Role.SPONSOR])
def test_exports_are_for_staff_only(client: Client, report_data: ReportData, role: str) -> None:
    client.force_login(UserFactory(role=role))
    assert client.get(ENGAGEMENTS).status_code == 404
    assert client.get(SESSIONS).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


@pytest.mark.parametrize("bad", ["not-a-uuid", str(uuid.uuid4())])
def test_an_unknown_program_filter_is_404(
    client: Client, report_data: ReportData, bad: str
) -> None:
    login_verified(client, report_data.staff)
    assert client.get(ENGAGEMENTS, {"program": bad}).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


# --- django-import-export (the admin's export) -------------------------------------------


def test_admin_engagement_export_escapes_text_and_keeps_numbers(report_data: ReportData) -> None:
    engagement = report_data.engagements["C"]
    type(engagement.participant).objects.filter(pk=engagement.participant_id).update(
        full_name="@evil", email="-x@example.com"
    )
    queryset = Engagement.objects.filter(program=report_data.program).order_by("pk")
    dataset = EngagementExportResource().export(queryset)
    assert dataset.headers == exports.ENGAGEMENT_HEADER
    row = next(r for r in dataset.dict if r["participant"] == "'@evil")
    assert row["email"] == "'-x@example.com"
    assert (row["status"], row["sessions held"], row["open flags"]) == ("In progress", "2", "1")
    assert "'" not in "".join(r["program"] + r["status"] for r in dataset.dict)


def test_admin_export_keeps_negative_numbers_in_number_columns_readable() -> None:
    class DeltaResource(EscapedExportMixin, resources.Resource):
        name = fields.Field(attribute="name", column_name="name")
        delta = fields.Field(attribute="delta", column_name="delta", widget=widgets.IntegerWidget())

    dataset = DeltaResource().export([types.SimpleNamespace(name="-x", delta=-4)])
    assert dataset.dict == [{"name": "'-x", "delta": "-4"}]


def test_admin_session_export_has_no_notes(report_data: ReportData) -> None:
    dataset = SessionExportResource().export(CoachingSession.objects.order_by("pk"))
    assert dataset.headers == exports.SESSION_HEADER
    assert NOTES_MARKER not in dataset.export("csv")


def test_admin_export_writes_an_audit_event_for_the_signed_in_user(report_data: ReportData) -> None:
    queryset = CoachingSession.objects.filter(engagement__program=report_data.program)
    SessionExportResource(actor=report_data.staff).export(queryset)
    event = AuditEvent.objects.get(action="export.sessions")
    assert event.actor == report_data.staff
    assert event.after == {"rows": 9, "complete": True, "via": "admin"}


def test_admin_wiring_escapes_and_audits(rf: RequestFactory, report_data: ReportData) -> None:
    """The registered Engagement admin exports through our escaping and audits it."""
    from django.contrib import admin
    from import_export.formats.base_formats import CSV

    from reports.admin import EngagementExportAdmin

    engagement = report_data.engagements["A"]
    type(engagement.participant).objects.filter(pk=engagement.participant_id).update(
        full_name="+cmd"
    )
    request = rf.get("/admin/engagements/engagement/export/")
    request.user = report_data.staff
    model_admin = admin.site._registry[Engagement]
    assert isinstance(model_admin, EngagementExportAdmin)
    text = model_admin.get_export_data(CSV(), request, Engagement.objects.order_by("pk"))
    assert "'+cmd" in text and ",+cmd" not in text
    audited = AuditEvent.objects.get(action="export.engagements").after
    assert audited is not None and audited["rows"] == 8


@pytest.mark.parametrize(
    ("changelist", "inherited"),
    [
        ("/admin/engagements/engagement/", 'value="release_coach"'),
        ("/admin/engagements/coachingsession/", "column-duration_minutes"),
    ],
)
def test_the_admin_lists_keep_what_engagements_gives_them_and_gain_the_export(
    admin_client_verified: Client,
    report_data: ReportData,
    changelist: str,
    inherited: str,
) -> None:
    """reports/admin.py extends engagements' admin classes rather than replacing them."""
    body = admin_client_verified.get(changelist).content.decode()
    assert f'href="{changelist}export/' in body
    assert inherited in body
