from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV

from accounts.admin import UserAdmin, report_action
from accounts.admin_site import NoDeleteAdminMixin
from accounts.decorators import AuthenticatedHttpRequest
from accounts.models import Role, User
from coaches.admin import CoachProfileAdmin
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements import services
from engagements.coach_resources import CoachImportResource
from engagements.forms import (
    CoachConfirmImportForm,
    CoachImportForm,
    ParticipantConfirmImportForm,
    ParticipantImportForm,
    ReasonForm,
)
from engagements.imports import ParticipantImportResource
from engagements.models import (
    CoachingSession,
    Engagement,
    EngagementCoach,
    Organization,
    Program,
    Status,
)
from engagements.selectors import coaches_with_load
from engagements.services import STAFF_TRANSITIONS, StaffTransition


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "min_group_size", "sponsors_see_individual_progress"]
    search_fields = ["name"]
    filter_horizontal = ["sponsors"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "starts_on", "ends_on", "sessions_per_engagement"]
    list_filter = ["organization"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    filter_horizontal = ["coaches"]
    readonly_fields = ["public_id"]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The coach pool lists every coach by name: fetch their users in the same query."""
        if db_field.name == "coaches":
            kwargs["queryset"] = CoachProfile.objects.select_related("user")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class EngagementCoachInline(admin.TabularInline):
    model = EngagementCoach
    extra = 0
    can_delete = False
    readonly_fields = ["coach", "assigned_at", "released_at"]

    def has_add_permission(self, request: HttpRequest, obj: Engagement | None = None) -> bool:
        return False


@admin.register(Engagement)
class EngagementAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    # The "Export" button is added by reports/admin.py (docs/architecture.md,
    # "A higher app may extend a lower app's admin").
    list_display = ["participant", "program", "coach", "status", "sessions_logged", "invited_at"]
    list_filter = ["status", "program"]
    search_fields = ["participant__full_name", "participant__email", "coach__user__full_name"]
    list_select_related = ["participant", "program", "coach__user"]
    # Read-only: status and coach change only through the engagement's transition
    # method (the actions, the buttons above the page and the ops engagement page).
    # status_version is the compare-and-set counter, nothing a person reads.
    fields = readonly_fields = (
        "public_id",
        "participant",
        "program",
        "coach",
        "status",
        "status_reason",
        "sessions_logged",
        "last_session_on",
        "invited_at",
        "coach_selected_at",
        "started_at",
        "on_hold_at",
        "completed_at",
        "cancelled_at",
    )
    inlines = [EngagementCoachInline]
    actions = ["release_coach", "put_on_hold", "resume", "cancel", "complete_early"]
    change_form_template = "admin/engagements/engagement/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Nothing on the page is edited by hand (no Save); NoDeleteAdminMixin: no Delete.
    def has_change_permission(self, request: HttpRequest, obj: Engagement | None = None) -> bool:
        return False

    # Every transition goes through the services, one engagement at a time, and
    # reports "n done, m refused (why)".

    def _apply(
        self,
        request: HttpRequest,
        engagements: Iterable[Engagement],
        transition: StaffTransition,
        reason: str = "",
    ) -> None:
        done = 0
        refused: Counter[str] = Counter()
        for engagement in engagements:
            try:
                transition.service(engagement=engagement, actor=request.user, reason=reason)
            except DomainError as exc:
                refused[exc.message] += 1
            else:
                done += 1
        _report(self, request, transition.label, done, refused)

    def _with_reason(
        self, request: HttpRequest, queryset: QuerySet[Engagement], transition: StaffTransition
    ) -> TemplateResponse | None:
        """Ask for the reason on an intermediate page, then apply to the selection."""
        form = ReasonForm(
            request.POST if "apply" in request.POST else None,
            required=transition.reason_required,
        )
        if form.is_bound and form.is_valid():
            self._apply(request, queryset, transition, form.cleaned_data["reason"])
            return None
        return self._reason_page(
            request,
            transition=transition,
            form=form,
            engagements=queryset,
            action=request.POST.get("action", ""),
        )

    def _reason_page(
        self,
        request: HttpRequest,
        *,
        transition: StaffTransition,
        form: ReasonForm,
        engagements: Iterable[Engagement],
        action: str = "",
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": transition.label,
            "transition": transition,
            "form": form,
            "engagements": list(engagements),
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/engagements/engagement/transition.html",
            context,
            status=400 if form.is_bound else 200,
        )

    @admin.action(description="Release coach (back to invited, frees the seat)")
    def release_coach(self, request: HttpRequest, queryset: QuerySet[Engagement]) -> None:
        self._apply(request, queryset, STAFF_TRANSITIONS["release"])

    @admin.action(description="Put on hold")
    def put_on_hold(self, request: HttpRequest, queryset: QuerySet[Engagement]) -> None:
        self._apply(request, queryset, STAFF_TRANSITIONS["hold"])

    @admin.action(description="Resume (from on hold)")
    def resume(self, request: HttpRequest, queryset: QuerySet[Engagement]) -> None:
        self._apply(request, queryset, STAFF_TRANSITIONS["resume"])

    @admin.action(description="Cancel (asks for a reason)")
    def cancel(
        self, request: HttpRequest, queryset: QuerySet[Engagement]
    ) -> TemplateResponse | None:
        return self._with_reason(request, queryset, STAFF_TRANSITIONS["cancel"])

    @admin.action(description="Mark completed early (asks for a reason)")
    def complete_early(
        self, request: HttpRequest, queryset: QuerySet[Engagement]
    ) -> TemplateResponse | None:
        return self._with_reason(request, queryset, STAFF_TRANSITIONS["complete"])

    # The same transitions as buttons on the engagement's own page.

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/transition/<slug:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="engagements_engagement_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        """Confirm one transition (with its reason) for one engagement, then apply it."""
        transition = STAFF_TRANSITIONS.get(name)
        engagement = self.get_object(request, unquote(object_id))
        if transition is None or engagement is None:
            raise Http404
        if not self.has_view_permission(request, engagement):
            raise PermissionDenied
        posted = request.method == "POST"
        form = ReasonForm(request.POST if posted else None, required=transition.reason_required)
        if posted and form.is_valid():
            self._apply(request, [engagement], transition, form.cleaned_data["reason"])
            return HttpResponseRedirect(
                reverse("admin:engagements_engagement_change", args=[engagement.pk])
            )
        return self._reason_page(
            request, transition=transition, form=form, engagements=[engagement]
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        engagement = self.get_object(request, unquote(object_id))
        buttons = [
            (t.label, reverse("admin:engagements_engagement_transition", args=[object_id, t.name]))
            for t in STAFF_TRANSITIONS.values()
            if engagement is not None and t.offered(engagement)
        ]
        extra_context = {**(extra_context or {}), "staff_transitions": buttons}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(CoachingSession)
class CoachingSessionAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    """Staff see that a session happened, never its notes. A mistaken one is voided
    (session_void), never deleted."""

    list_display = [
        "engagement",
        "shown_number",
        "held_on",
        "duration_minutes",
        "outcome",
        "voided",
    ]
    list_filter = ["outcome", ("voided_at", admin.EmptyFieldListFilter)]
    list_select_related = ["engagement__participant", "engagement__program"]
    search_fields = ["engagement__participant__full_name"]
    # A tuple: the stubs type `fields` as a list of str-or-group, which list[str] is not.
    fields = readonly_fields = (
        "engagement",
        "coach",
        "number",
        "held_on",
        "duration_minutes",
        "outcome",
        "voided_at",
        "voided_by",
        "void_reason",
    )
    actions = ["void_sessions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="number", ordering="number")
    def shown_number(self, session: CoachingSession) -> str:
        if session.is_voided:
            return format_html("<del>{}</del> (voided)", session.number)
        return str(session.number)

    @admin.display(description="voided")
    def voided(self, session: CoachingSession) -> str:
        if not session.is_voided:
            return ""
        return f"{session.voided_at:%d %b %Y}: {session.void_reason}"

    @admin.action(description="Void (asks for a reason; the engagement is recounted)")
    def void_sessions(
        self, request: HttpRequest, queryset: QuerySet[CoachingSession]
    ) -> TemplateResponse | None:
        """Void each selected session through session_void, after asking for the reason."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        sessions = list(queryset.select_related("engagement"))
        if form.is_bound and form.is_valid():
            done = 0
            refused: Counter[str] = Counter()
            for session in sessions:
                try:
                    services.session_void(
                        session=session,
                        actor=cast(User, request.user),
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as exc:
                    refused[exc.message] += 1
                else:
                    done += 1
            _report(self, request, "Void", done, refused)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Void sessions",
            "form": form,
            "sessions": sessions,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/engagements/coachingsession/void.html",
            context,
            status=400 if form.is_bound else 200,
        )


def _report(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    label: str,
    done: int,
    refused: Counter[str],
) -> None:
    """ "n done, m refused (why)" for an action applied one object at a time."""
    summary = f"{label}: {done} done"
    if refused:
        why = " ".join(f"{message} (×{n})" for message, n in refused.items())
        model_admin.message_user(
            request, f"{summary}, {sum(refused.values())} refused: {why}", messages.WARNING
        )
    else:
        model_admin.message_user(request, f"{summary}.", messages.SUCCESS)


# --- Lower apps' admins, extended (docs/architecture.md, "A higher app may extend
# a lower app's admin") ------------------------------------------------------------


class ProgramImportMixin(ImportMixin):
    """A CSV import into a program chosen on the import form (all rows or none)."""

    import_formats = [CSV]

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"program": cleaned.get("program"), "actor": request.user}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None and import_form.cleaned_data.get("program"):
            initial["program"] = import_form.cleaned_data["program"].pk
        return initial


admin.site.unregister(User)


@admin.register(User)
class ParticipantUserAdmin(ProgramImportMixin, UserAdmin):
    """Users, with "Import participants" into a program and "Resend invitation"."""

    actions = ["resend_invitation", *UserAdmin.actions]
    resource_classes = [ParticipantImportResource]
    import_form_class = ParticipantImportForm
    confirm_form_class = ParticipantConfirmImportForm

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_success_message(self, result: Any, request: HttpRequest) -> None:
        invited = sum(1 for row in result.rows if row.import_type in ("new", "update"))
        messages.success(request, f"Invited {invited} participant(s); invitation emails sent.")

    @admin.action(description="Resend invitation")
    def resend_invitation(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]
    ) -> None:
        engagements = Engagement.objects.filter(
            participant__in=queryset.filter(role=Role.PARTICIPANT, is_active=True),
            status=Status.INVITED,
        ).select_related("participant", "program")
        sent_to = set()
        for engagement in engagements:
            services.invitation_send(engagement=engagement, actor=request.user)
            sent_to.add(engagement.participant_id)
        refused = queryset.exclude(pk__in=sent_to).count()
        report_action(
            self, request, len(sent_to), "invitation(s) resent", refused, "no open invitation"
        )


class FullListFilter(admin.SimpleListFilter):
    title = "capacity"
    parameter_name = "full"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Full"), ("no", "Has room")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(is_full=self.value() == "yes")
        return queryset


admin.site.unregister(CoachProfile)


@admin.register(CoachProfile)
class CoachLoadAdmin(ProgramImportMixin, CoachProfileAdmin):
    """Coaches, with each one's active engagements, "full", the program filter and
    the CSV import into a program's pool."""

    list_display = [
        "user",
        "headline",
        "capacity",
        "active_engagements",
        "accepting_new",
        "time_zone",
    ]
    list_filter = ["programs", "accepting_new", FullListFilter]
    # CSV through CoachImportResource, which writes via coaches_import.
    resource_classes = [CoachImportResource]
    import_form_class = CoachImportForm
    confirm_form_class = CoachConfirmImportForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[CoachProfile]:
        return coaches_with_load(super().get_queryset(request))

    @admin.display(description="active engagements", ordering="active_count")
    def active_engagements(self, obj: CoachProfile) -> int:
        return obj.active_count  # type: ignore[attr-defined]
