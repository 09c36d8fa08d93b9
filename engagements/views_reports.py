"""Program reports (staff and sponsor), staff CSV exports and participant feedback."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import audit_record
from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.models import Role, User
from accounts.redirects import safe_next
from config.errors import DomainError
from config.observability import client_ip_var, request_id_var
from engagements import exports, feedback
from engagements.models import ClosingSurvey, Program, Status
from engagements.reports import ProgramReport, program_report, programs_overview, weekly_chart

# --- reports ---------------------------------------------------------------------------


def _sponsor_programs(user: User) -> QuerySet[Program]:
    """The programs of the organizations this sponsor belongs to."""
    return Program.objects.filter(organization__sponsors=user).distinct()


@require_GET
@role_required(Role.STAFF)
def staff_programs(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every program with its participant count and program-level averages."""
    programs = programs_overview(programs=Program.objects.all())
    return render(request, "reports/programs.html", {"programs": programs})


@require_GET
@role_required(Role.STAFF)
def staff_program_report(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    program = get_object_or_404(Program.objects.select_related("organization"), public_id=public_id)
    report = program_report(program=program, with_staff_detail=True)
    return _render_report(request, report, staff_view=True)


@require_GET
@role_required(Role.SPONSOR)
def sponsor_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The sponsor's programs, with program-level figures only."""
    programs = programs_overview(programs=_sponsor_programs(request.user))
    return render(request, "reports/sponsor_home.html", {"programs": programs})


@require_GET
@role_required(Role.SPONSOR)
def sponsor_program_report(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    program = get_object_or_404(
        _sponsor_programs(request.user).select_related("organization"), public_id=public_id
    )
    report = program_report(program=program, with_participants=True)
    return _render_report(request, report, staff_view=False)


def _render_report(
    request: HttpRequest, report: ProgramReport, *, staff_view: bool
) -> HttpResponse:
    return render(
        request,
        "reports/program_report.html",
        {
            "report": report,
            "staff_view": staff_view,
            "chart": weekly_chart(report.weeks),
            "generated_at": timezone.now(),
        },
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


@require_GET
@role_required(Role.STAFF)
def export_engagements(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    program = _export_program(request)
    return _streamed_csv(
        request,
        kind="engagements",
        header=exports.ENGAGEMENT_HEADER,
        rows=exports.engagement_rows(program=program),
        program=program,
    )


@require_GET
@role_required(Role.STAFF)
def export_sessions(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    program = _export_program(request)
    return _streamed_csv(
        request,
        kind="sessions",
        header=exports.SESSION_HEADER,
        rows=exports.session_rows(program=program),
        program=program,
    )


# --- participant feedback -------------------------------------------------------------


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the form was on (a same-site path), else the home page."""
    return HttpResponseRedirect(safe_next(request, request.POST.get("next")) or "/")


@require_POST
@role_required(Role.PARTICIPANT)
def rate_session(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """One click: rate a held session of one's own engagement 1-5 (or change it for 7 days)."""
    session = feedback.participant_session(participant=request.user, public_id=public_id)
    form = feedback.SessionRatingForm(request.POST)
    if not form.is_valid():
        # ErrorList indexing returns the message text (the stubs also allow a ValidationError).
        messages.error(request, str(form.errors["score"][0]))
        return _back(request)
    try:
        feedback.session_rate(
            participant=request.user, session=session, score=form.cleaned_data["score"]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Thank you: session {session.number} rated {form.cleaned_data['score']} out of 5.",
        )
    return _back(request)


@require_http_methods(["GET", "POST"])
@role_required(Role.PARTICIPANT)
def closing_survey(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """The closing survey of a completed engagement, answered once."""
    engagement = feedback.participant_engagement(participant=request.user, public_id=public_id)
    blocked: DomainError | None = None
    if ClosingSurvey.objects.filter(engagement=engagement).exists():
        blocked = feedback.SurveyAlreadyAnswered()
    elif engagement.status != Status.COMPLETED:
        blocked = feedback.SurveyNotOpen()
    form = feedback.ClosingSurveyForm(request.POST or None)
    if blocked is None and request.method == "POST" and form.is_valid():
        try:
            feedback.closing_survey_submit(
                participant=request.user,
                engagement=engagement,
                recommend_score=form.cleaned_data["recommend_score"],
                what_changed=form.cleaned_data["what_changed"],
            )
        except DomainError as error:
            blocked = error
        else:
            messages.success(request, "Thank you for telling us how your coaching went.")
            return redirect("/")
    status = 200
    if request.method == "POST":
        status = 409 if blocked is not None else 400
    return render(
        request,
        "feedback/closing_survey.html",
        {"engagement": engagement, "form": form, "blocked": blocked},
        status=status,
    )
