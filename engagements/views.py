from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import AuthenticatedHttpRequest, role_required
from accounts.kept_posts import RESTORED_NOTICE, KeptPostLost, kept_post_take
from accounts.models import Role, User
from coaches.directory import directory_page
from coaches.forms import BadExclude, DirectoryFilterForm, parse_excludes
from coaches.models import CoachProfile
from coaches.selectors import CardLabels, coach_card_labels, pool_filter_choices
from config.errors import DomainError
from engagements.forms import ReasonForm, SessionForm, SessionLogForm, StatusFilterForm
from engagements.models import CoachingSession, Engagement
from engagements.selectors import (
    AvailablePool,
    available_pool,
    coach_engagement_or_404,
    coach_engagements,
    coach_session_history,
    coach_session_or_404,
    coach_usual_duration,
    participant_current_engagement,
    participant_pool_coach_or_404,
    participant_session_history,
    session_tally,
)
from engagements.services import (
    CORRECTION_WINDOW,
    LOGGABLE_STATUSES,
    CorrectionNotAllowed,
    SameDateSession,
    VoidNotAllowed,
    engagement_select_coach,
    session_can_be_corrected,
    session_can_be_voided,
    session_correct,
    session_log,
    session_void,
)


def home(request: HttpRequest) -> HttpResponse:
    """The landing page for visitors; a participant's own page; a pointer for other roles."""
    user = request.user
    if user.is_authenticated and user.role == Role.PARTICIPANT:
        return _participant_home(request, user)
    return render(request, "engagements/home.html")


def _participant_home(request: HttpRequest, participant: User) -> HttpResponse:
    engagement = participant_current_engagement(participant=participant)
    context: dict[str, object] = {"engagement": engagement}
    if engagement is not None and engagement.coach is not None:
        coach = engagement.coach
        sessions = list(participant_session_history(engagement))
        context.update(
            coach=coach,
            labels=coach_card_labels([coach]).get(coach.pk, CardLabels()),
            tally=session_tally(engagement, sessions),
            sessions=sessions,
        )
    return render(request, "engagements/participant_home.html", context)


# --- Choosing a coach ---------------------------------------------------------


@role_required(Role.PARTICIPANT)
@require_GET
def directory(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Three coaches from the participant's pool, in the participant's own order."""
    try:
        exclude = parse_excludes(request.GET.getlist("exclude"))
    except BadExclude as error:
        return render(request, "coaches/bad_request.html", {"message": str(error)}, status=400)
    return _render_directory(request, exclude=exclude)


@role_required(Role.PARTICIPANT)
@require_POST
def select_coach(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Choose a coach; a refusal shows the directory again with the reason (409)."""
    coach = participant_pool_coach_or_404(participant=request.user, public_id=public_id)
    try:
        engagement_select_coach(participant=request.user, coach=coach)
    except DomainError as error:
        return _render_directory(request, error=error, status=error.http_status)
    messages.success(request, f"{coach.user.full_name} is your coach. Book your first session.")
    return redirect("home")


def _render_directory(
    request: AuthenticatedHttpRequest,
    *,
    exclude: Sequence[uuid.UUID] = (),
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    engagement = participant_current_engagement(participant=request.user)
    context: dict[str, object] = {"engagement": engagement, "error": error}
    if engagement is not None and engagement.coach_id is None:
        pool = available_pool(program=engagement.program)
        form = DirectoryFilterForm(request.GET or None, choices=pool_filter_choices(pool.ids))
        params = form.active_params()
        page = directory_page(
            participant=request.user, coach_ids=_listed(form, pool), exclude=exclude
        )
        context.update(
            form=form,
            page=page,
            coaches=page.coaches,
            pool_size=page.pool_size,
            filtered=bool(params),
            others_url="?"
            + urlencode(params + [("exclude", str(c.public_id)) for c in page.coaches]),
            start_url="?" + urlencode(params) if params else request.path,
        )
    return render(request, "coaches/directory.html", context, status=status)


def _listed(form: DirectoryFilterForm, pool: AvailablePool) -> list[uuid.UUID]:
    """The public ids of the pool's coaches that the filters let through: with no
    filter, the whole pool as already read (no query); else one query."""
    if not form.active_params():
        return pool.public_ids
    filtered = form.filter(pool.coaches()).distinct().order_by()
    return list(filtered.values_list("public_id", flat=True))


# --- The coach's workspace ---------------------------------------------------


def _coach(request: AuthenticatedHttpRequest) -> CoachProfile:
    """The signed-in coach's profile; a coach account without one sees 404s.

    Read through the user, so that it is cached there for the rules that ask
    the user (session_can_be_voided).
    """
    try:
        return request.user.coach_profile
    except CoachProfile.DoesNotExist as exc:
        raise Http404 from exc


def _coach_today(coach: CoachProfile) -> date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(coach.time_zone))


@role_required(Role.COACH)
@require_GET
def coach_workspace(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The coach's engagements, active first, optionally filtered by status."""
    coach = _coach(request)
    form = StatusFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    context = {
        "coach": coach,
        "form": form,
        "status": status,
        "engagements": coach_engagements(coach=coach, status=status),
    }
    return render(
        request, "engagements/coach_workspace.html", context, status=200 if form.is_valid() else 400
    )


@role_required(Role.COACH, keep_post=True)
@require_http_methods(["GET", "POST"])
def coach_engagement(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One engagement: participant, program, session history and the session log form."""
    coach = _coach(request)
    engagement = coach_engagement_or_404(coach=coach, public_id=public_id)
    today = _coach_today(coach)
    data = _posted_or_kept(request)
    if data is not None:
        form = SessionLogForm(data, engagement=engagement, today=today)
    else:
        initial = {"held_on": today, "duration_minutes": coach_usual_duration(coach=coach)}
        form = SessionLogForm(initial=initial, engagement=engagement, today=today)
    done, status = _submit_session_form(
        request,
        form,
        engagement=engagement,
        save=lambda data: session_log(engagement=engagement, coach=coach, **data),
        verb="logged",
    )
    if done is not None:
        return done
    sessions = list(coach_session_history(coach=coach, engagement=engagement))
    counted = [s for s in sessions if not s.is_voided]
    latest = counted[-1] if counted else None
    correctable = latest is not None and session_can_be_corrected(
        session=latest, coach=coach, latest_number=latest.number
    )
    context = {
        "voidable": {
            s.pk for s in sessions if session_can_be_voided(session=s, actor=request.user)
        },
        "coach": coach,
        "engagement": engagement,
        "sessions": sessions,
        "correctable": latest if correctable else None,
        "can_log": engagement.status in LOGGABLE_STATUSES,
        "form": form,
    }
    return render(request, "engagements/coach_engagement.html", context, status=status)


@role_required(Role.COACH, keep_post=True)
@require_http_methods(["GET", "POST"])
def coach_session_edit(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    """Correct the engagement's most recent session (its coach, within CORRECTION_WINDOW)."""
    coach = _coach(request)
    engagement = coach_engagement_or_404(coach=coach, public_id=public_id)
    session = coach_session_or_404(coach=coach, engagement=engagement, public_id=session_id)
    latest = engagement.sessions.counted().aggregate(n=Max("number"))["n"]
    if not session_can_be_corrected(session=session, coach=coach, latest_number=latest):
        messages.error(request, CorrectionNotAllowed.message)
        return redirect("coach_engagement", public_id=engagement.public_id)
    initial = {
        "held_on": session.held_on,
        "duration_minutes": session.duration_minutes,
        "outcome": session.outcome,
        "notes": session.notes,
    }
    form = SessionForm(
        _posted_or_kept(request),
        initial=initial,
        program=engagement.program,
        today=_coach_today(coach),
    )
    done, status = _submit_session_form(
        request,
        form,
        engagement=engagement,
        save=lambda data: session_correct(session=session, coach=coach, **data),
        verb="corrected",
    )
    if done is not None:
        return done
    context = {
        "coach": coach,
        "engagement": engagement,
        "session": session,
        "form": form,
        "correction_days": CORRECTION_WINDOW.days,
    }
    return render(request, "engagements/coach_session_edit.html", context, status=status)


def _posted_or_kept(request: HttpRequest) -> QueryDict | None:
    """The form's data: this POST, or on a GET what the coach posted here while
    signed out (their session had expired), shown again to check and submit."""
    if request.method == "POST":
        return request.POST
    try:
        kept = kept_post_take(request)
    except KeptPostLost as error:
        messages.error(request, error.message)
        return None
    if kept is not None:
        messages.warning(request, RESTORED_NOTICE)
    return kept


def _submit_session_form(
    request: HttpRequest,
    form: SessionForm,
    *,
    engagement: Engagement,
    save: Callable[[dict[str, Any]], CoachingSession],
    verb: str,
) -> tuple[HttpResponse | None, int]:
    """On a valid POST, save and redirect to the engagement; else the status to re-render with.

    Domain refusals (on hold, completed, window closed...) become a form error
    with the error's own HTTP status, so nothing is written and the coach sees why.
    """
    if request.method != "POST":
        return None, 200
    if not form.is_valid():
        return None, 400
    try:
        session = save(form.cleaned_data)
    except DomainError as exc:
        if isinstance(exc, SameDateSession) and isinstance(form, SessionLogForm):
            # Asks for the confirmation; the form keeps its one-time key.
            form.warn_same_date(exc.message)
        else:
            form.add_error(None, exc.message)
        return None, exc.http_status
    messages.success(request, f"Session {session.number} {verb}.")
    return redirect("coach_engagement", public_id=engagement.public_id), 200


@role_required(Role.COACH)
@require_http_methods(["GET", "POST"])
def coach_session_void(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    """Void one of the coach's own sessions, logged by mistake, with a reason (7 days)."""
    coach = _coach(request)
    engagement = coach_engagement_or_404(coach=coach, public_id=public_id)
    session = coach_session_or_404(coach=coach, engagement=engagement, public_id=session_id)
    if not session_can_be_voided(session=session, actor=request.user):
        messages.error(request, VoidNotAllowed.message)
        return redirect("coach_engagement", public_id=engagement.public_id)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                session_void(
                    session=session, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, f"Session {session.number} voided.")
                return redirect("coach_engagement", public_id=engagement.public_id)
    context = {"coach": coach, "engagement": engagement, "session": session, "form": form}
    return render(request, "engagements/coach_session_void.html", context, status=status)
