"""Program reports (staff and sponsor) and staff CSV exports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.audit import audit_record
from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role
from config.observability import client_ip_var, request_id_var
from engagements.models import Program
from reports import exports
from reports.chart import weekly_chart
from reports.forms import ProgressSearchForm
from reports.selectors import (
    ProgramReport,
    ProgressPage,
    participant_progress,
    program_report,
    programs_overview,
    sponsor_program_or_404,
    sponsor_programs_overview,
    sponsor_report,
)

# --- reports ---------------------------------------------------------------------------


@role_required(Role.STAFF)
@require_GET
def staff_programs(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every program with its participant count and program-level averages."""
    programs = programs_overview(programs=Program.objects.all())
    return render(request, "reports/programs.html", {"programs": programs})


@role_required(Role.STAFF)
@require_GET
def staff_program_report(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """One program's report with the staff detail: coach utilisation, survey texts, exports."""
    program = get_object_or_404(Program.objects.select_related("organization"), public_id=public_id)
    report = program_report(program=program, with_staff_detail=True)
    return _render_report(request, report, staff_view=True)


@role_required(Role.SPONSOR)
@require_GET
def sponsor_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The sponsor's programs, with program-level figures only (released feedback)."""
    programs = sponsor_programs_overview(sponsor=request.user)
    return render(request, "reports/sponsor_home.html", {"programs": programs})


@role_required(Role.SPONSOR)
@require_GET
def sponsor_program_report(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """One of the sponsor's own programs (else 404): program-level figures.

    Progress by participant only where the organization shares it, a page
    at a time and searchable by name; otherwise the list is not on the page.
    """
    program = sponsor_program_or_404(sponsor=request.user, public_id=public_id)
    report = sponsor_report(program=program)
    if not program.organization.sponsors_see_individual_progress:
        return _render_report(request, report, staff_view=False)
    form = ProgressSearchForm(request.GET)
    if not form.is_valid():
        return _render_report(request, report, staff_view=False, search=form, status=400)
    progress = participant_progress(
        program=program, search=form.cleaned_data["q"], page=form.cleaned_data["page"]
    )
    if progress.number > 1 and not progress.lines:
        raise Http404("That page is past the end of the list.")
    return _render_report(request, report, staff_view=False, search=form, progress=progress)


def _render_report(
    request: HttpRequest,
    report: ProgramReport,
    *,
    staff_view: bool,
    search: ProgressSearchForm | None = None,
    progress: ProgressPage | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "reports/program_report.html",
        {
            "report": report,
            "staff_view": staff_view,
            "search": search,
            "progress": progress,
            "chart": weekly_chart(report.weeks),
            "generated_at": timezone.now(),
        },
        status=status,
    )


# --- exports ---------------------------------------------------------------------------


def _export_program(request: HttpRequest) -> Program | None:
    """The optional ?program=<uuid> filter; anything that is not a program's id is a 404."""
    raw = request.GET.get("program")
    if not raw:
        return None
    try:
        public_id = UUID(raw)
    except ValueError:
        raise Http404("No such program.") from None
    return get_object_or_404(Program, public_id=public_id)


def _streamed_csv(
    request: AuthenticatedHttpRequest,
    *,
    kind: str,
    header: list[str],
    rows: Iterable[Sequence[Any]],
    program: Program | None,
) -> StreamingHttpResponse:
    """Stream the rows; the audit event is written when the stream ends.

    Counting as we stream (rather than COUNT first) records exactly the rows
    that were sent, costs no extra query and cannot disagree with the file
    when rows change meanwhile; a download cut short is still audited, with
    complete=false and the rows sent so far.
    """
    actor = request.user
    request_id = request_id_var.get()
    client_ip = client_ip_var.get()

    def on_finish(count: int, complete: bool) -> None:
        # The request's context has been reset by the time the stream ends.
        id_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(client_ip)
        try:
            audit_record(
                action=f"export.{kind}",
                obj=program,
                actor=actor,
                after={"rows": count, "complete": complete},
            )
        finally:
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)

    stream = exports.csv_stream(header=header, rows=rows, on_finish=on_finish)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="coachdesk-{kind}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.STAFF)
@require_GET
def export_engagements(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    program = _export_program(request)
    return _streamed_csv(
        request,
        kind="engagements",
        header=exports.ENGAGEMENT_HEADER,
        rows=exports.engagement_rows(program=program),
        program=program,
    )


@role_required(Role.STAFF)
@require_GET
def export_sessions(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    program = _export_program(request)
    return _streamed_csv(
        request,
        kind="sessions",
        header=exports.SESSION_HEADER,
        rows=exports.session_rows(program=program),
        program=program,
    )
