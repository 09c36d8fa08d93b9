"""CSV exports: one escaping rule for every exported cell, streamed row by row.

A spreadsheet reads a cell that starts with =, +, -, @, a tab or a carriage
return as a formula (OWASP ASVS 5.0, 1.2.10), so such a text cell gets a
leading single quote. Numbers stay numbers: they are written as they are,
whatever their sign. The same function serves our streamed exports and
django-import-export's admin export (EscapedExportMixin below).

Rows come from `values_list(...).iterator(chunk_size=...)` with the counts
annotated as subqueries, so a 100,000-row export is one query whose rows pass
through a small buffer and never sit in memory together. Notes are never
selected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from import_export import fields, resources, widgets

from accounts.audit import audit_record
from engagements.models import (
    CoachingSession,
    Engagement,
    Outcome,
    Program,
    Status,
    held_count,
    session_counted,
)
from nudges.models import NudgeFlag

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000  # rows fetched per round trip of the server-side cursor
ROWS_PER_WRITE = 500  # rows written to the response per chunk

ENGAGEMENT_HEADER = [
    "participant",
    "email",
    "program",
    "coach",
    "status",
    "sessions held",
    "last session date",
    "open flags",
    "engagement id",
]
# "engagement id" (the engagement's public id) is in both files, so sessions join
# engagements; each session also names its participant and the coach who held it.
SESSION_HEADER = [
    "engagement id",
    "participant",
    "coach",
    "number",
    "date",
    "duration (minutes)",
    "outcome",
]


def escape_csv_cell(value: Any) -> Any:
    """The value a CSV cell gets: text that could start a formula gets a leading quote.

    Numbers (not booleans) come back unchanged, so -3 in a number column stays
    the number -3; dates become ISO text; None becomes an empty cell. A text
    such as "Smith-Jones" is untouched: only the first character matters.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_stream(
    *,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    on_finish: Callable[[int, bool], None],
) -> Iterator[str]:
    """Yield the CSV text in chunks; call on_finish(rows, complete) when the stream ends.

    on_finish runs once, also when the client goes away mid-stream (the
    server closes the generator), with complete=False and the rows sent so far.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0
    complete = False
    try:
        # A byte-order mark lets spreadsheets read the UTF-8 names correctly.
        buffer.write("\ufeff")
        writer.writerow([escape_csv_cell(h) for h in header])
        yield _drain(buffer)
        for row in rows:
            writer.writerow([escape_csv_cell(v) for v in row])
            count += 1
            if count % ROWS_PER_WRITE == 0:
                yield _drain(buffer)
        rest = _drain(buffer)
        complete = True
        if rest:
            yield rest
    finally:
        on_finish(count, complete)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _open_flags() -> Subquery:
    return Subquery(
        NudgeFlag.objects.filter(engagement=OuterRef("pk"), resolved_at__isnull=True)
        .order_by()
        .values("engagement")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


class ExportCounts(TypedDict):
    held_sessions: int
    open_flag_count: int


def with_export_counts(
    queryset: QuerySet[Engagement],
) -> QuerySet[WithAnnotations[Engagement, ExportCounts]]:
    """Annotate held sessions and open flags as subqueries (no per-row queries)."""
    return queryset.annotate(
        held_sessions=held_count(),
        open_flag_count=Coalesce(_open_flags(), Value(0)),
    )


def engagement_rows(*, program: Program | None = None) -> Iterator[tuple[Any, ...]]:
    """The engagements export, one tuple per engagement, fetched in chunks."""
    queryset = Engagement.objects.all()
    if program is not None:
        queryset = queryset.filter(program=program)
    labels = dict(Status.choices)
    rows = (
        with_export_counts(queryset)
        .order_by("pk")
        .values_list(
            "participant__full_name",
            "participant__email",
            "program__name",
            "coach__user__full_name",
            "status",
            "held_sessions",
            "last_session_on",
            "open_flag_count",
            "public_id",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for name, email, program_name, coach, status, held, last, flags, public_id in rows:
        yield (name, email, program_name, coach, labels[status], held, last, flags, public_id)


def session_rows(*, program: Program | None = None) -> Iterator[tuple[Any, ...]]:
    """The sessions export (never the notes, never a voided session), fetched in chunks."""
    queryset = CoachingSession.objects.counted()
    if program is not None:
        queryset = queryset.filter(engagement__program=program)
    labels = dict(Outcome.choices)
    rows = (
        queryset.order_by("engagement_id", "number")
        .values_list(
            "engagement__public_id",
            "engagement__participant__full_name",
            "coach__user__full_name",
            "number",
            "held_on",
            "duration_minutes",
            "outcome",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for *row, outcome in rows:
        yield (*row, labels[outcome])


# --- django-import-export (the admin's export) ----------------------------------


class EscapedExportMixin:
    """Run every exported text cell through escape_csv_cell; number columns stay numbers.

    django-import-export's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips
    one leading "=", which is not enough. A resource that names its
    `export_kind` also writes the audit event of the export; the admin passes
    the signed-in user as `actor` (ModelAdmin.get_export_resource_kwargs).
    """

    export_kind = ""

    def __init__(self, *, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor = actor

    def after_export(self, queryset: Any, dataset: Any, **kwargs: Any) -> None:
        super().after_export(queryset, dataset, **kwargs)  # type: ignore[misc]
        if self.export_kind:
            audit_record(
                action=f"export.{self.export_kind}",
                actor=self.actor,
                after={"rows": len(dataset), "complete": True, "via": "admin"},
            )

    def export_field(self, field: fields.Field, instance: Any, **kwargs: Any) -> Any:
        value = super().export_field(field, instance, **kwargs)  # type: ignore[misc]
        if isinstance(field.widget, widgets.NumberWidget):
            return value
        return escape_csv_cell(value)


class EngagementExportResource(EscapedExportMixin, resources.ModelResource):
    """The admin's engagement export: the same columns as the staff CSV."""

    export_kind = "engagements"

    participant = fields.Field(attribute="participant__full_name", column_name="participant")
    email = fields.Field(attribute="participant__email", column_name="email")
    program = fields.Field(attribute="program__name", column_name="program")
    coach = fields.Field(attribute="coach__user__full_name", column_name="coach")
    status = fields.Field(attribute="get_status_display", column_name="status")
    sessions_held = fields.Field(
        attribute="held_sessions", column_name="sessions held", widget=widgets.IntegerWidget()
    )
    last_session_on = fields.Field(
        attribute="last_session_on", column_name="last session date", widget=widgets.DateWidget()
    )
    open_flags = fields.Field(
        attribute="open_flag_count", column_name="open flags", widget=widgets.IntegerWidget()
    )
    engagement_id = fields.Field(attribute="public_id", column_name="engagement id")

    class Meta:
        model = Engagement
        fields = (
            "participant",
            "email",
            "program",
            "coach",
            "status",
            "sessions_held",
            "last_session_on",
            "open_flags",
            "engagement_id",
        )
        export_order = fields

    def filter_export(self, queryset: QuerySet[Engagement], **kwargs: Any) -> QuerySet:
        return with_export_counts(queryset.select_related("participant", "program", "coach__user"))


class SessionExportResource(EscapedExportMixin, resources.ModelResource):
    """The admin's session export: never the notes."""

    export_kind = "sessions"

    engagement = fields.Field(attribute="engagement__public_id", column_name="engagement id")
    participant = fields.Field(
        attribute="engagement__participant__full_name", column_name="participant"
    )
    coach = fields.Field(attribute="coach__user__full_name", column_name="coach")
    number = fields.Field(attribute="number", column_name="number", widget=widgets.IntegerWidget())
    held_on = fields.Field(attribute="held_on", column_name="date", widget=widgets.DateWidget())
    duration_minutes = fields.Field(
        attribute="duration_minutes",
        column_name="duration (minutes)",
        widget=widgets.IntegerWidget(),
    )
    outcome = fields.Field(attribute="get_outcome_display", column_name="outcome")

    class Meta:
        model = CoachingSession
        fields = (
            "engagement",
            "participant",
            "coach",
            "number",
            "held_on",
            "duration_minutes",
            "outcome",
        )
        export_order = fields

    def filter_export(self, queryset: QuerySet[CoachingSession], **kwargs: Any) -> QuerySet:
        # The admin's list shows voided sessions (struck out); an export leaves them out.
        return queryset.filter(session_counted()).select_related(
            "engagement__participant", "coach__user"
        )
