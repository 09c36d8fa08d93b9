from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.tasks.base import TaskResultStatus
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV

from accounts.admin_site import ReadOnlyAdminMixin
from accounts.decorators import AuthenticatedHttpRequest
from accounts.forms import ParticipantConfirmImportForm, ParticipantImportForm
from accounts.models import AuditEvent, EmailCodeDevice, Role, User
from accounts.resources import ParticipantImportResource
from accounts.services import invitation_send, signin_unlock, user_deactivate
from engagements.models import Engagement, Status


def _report(
    modeladmin: admin.ModelAdmin, request: HttpRequest, done: int, verb: str, refused: int, why: str
) -> None:
    level = messages.SUCCESS if not refused else messages.WARNING
    text = f"{done} {verb}."
    if refused:
        text += f" {refused} refused ({why})."
    modeladmin.message_user(request, text, level)


@admin.register(User)
class UserAdmin(ImportMixin, admin.ModelAdmin):
    list_display = ["full_name", "email", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active", "reminders_enabled"]
    search_fields = ["full_name", "email"]
    # Reminder emails are the person's own choice, made from the link in a reminder.
    readonly_fields = ["public_id", "reminders_enabled", "date_joined", "last_login"]
    fields = [
        "public_id",
        "email",
        "full_name",
        "role",
        "is_active",
        "reminders_enabled",
        "date_joined",
        "last_login",
    ]
    ordering = ["full_name"]
    actions = ["resend_invitation", "unlock_sign_in", "deactivate"]

    # "Import participants": CSV into one program, all rows or none.
    resource_classes = [ParticipantImportResource]
    import_formats = [CSV]
    import_form_class = ParticipantImportForm
    confirm_form_class = ParticipantConfirmImportForm

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", {}) if form is not None else {}
        return {"program": cleaned.get("program"), "actor": request.user}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["program"] = import_form.cleaned_data["program"].pk
        return initial

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_success_message(self, result: Any, request: HttpRequest) -> None:
        invited = sum(1 for row in result.rows if row.import_type in ("new", "update"))
        messages.success(request, f"Invited {invited} participant(s); invitation emails sent.")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Deactivating through the form goes through the same service as the action."""
        if change and not obj.is_active and form.initial.get("is_active", True):
            obj.is_active = True
            super().save_model(request, obj, form, change)
            # The admin site admits only signed-in staff.
            user_deactivate(user=obj, actor=cast(User, request.user))
            return
        super().save_model(request, obj, form, change)

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
            invitation_send(engagement=engagement, actor=request.user)
            sent_to.add(engagement.participant_id)
        refused = queryset.exclude(pk__in=sent_to).count()
        _report(self, request, len(sent_to), "invitation(s) resent", refused, "no open invitation")

    @admin.action(description="Unlock sign-in (reset code-request limits)")
    def unlock_sign_in(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        done = refused = 0
        for user in queryset:
            if signin_unlock(user=user, actor=request.user):
                done += 1
            else:
                refused += 1
        _report(self, request, done, "account(s) unlocked", refused, "deactivated")

    @admin.action(description="Deactivate (signs them out everywhere)")
    def deactivate(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        done = refused = 0
        for user in queryset:
            if user.pk == request.user.pk:
                refused += 1
            elif user_deactivate(user=user, actor=request.user):
                done += 1
            else:
                refused += 1
        _report(
            self, request, done, "account(s) deactivated", refused, "already inactive, or yourself"
        )


@admin.register(EmailCodeDevice)
class EmailCodeDeviceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: each user's sign-in device and when it last verified a session."""

    list_display = ["user", "last_used_at", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__full_name", "user__email"]
    fields = readonly_fields = ("user", "last_used_at", "created_at")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only for everyone: the trail is evidence."""

    list_display = ["created_at", "action", "actor", "object_type", "object_id", "request_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "object_id", "actor__full_name", "actor__email", "request_id"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"


# django-tasks-db registers its own read-only admin; this one says what each
# row means for the email it carries.
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class EmailTaskAdmin(DBTaskResultAdmin):
    """The email queue, read-only: pending (and retrying), sent and failed messages."""

    # The base class declares fixed-length tuples; ours are shorter on purpose.
    list_display = (  # type: ignore[assignment]
        "enqueued_at",
        "message",
        "delivery",
        "attempts",
        "next_attempt",
        "finished_at",
    )
    list_filter = ("status", "queue_name")  # type: ignore[assignment]
    date_hierarchy = "enqueued_at"

    @admin.display(description="message")
    def message(self, obj: DBTaskResult) -> str:
        kwargs = obj.args_kwargs.get("kwargs", {})
        return str(kwargs.get("template") or obj.task_path.rsplit(".", 1)[-1])

    @admin.display(description="delivery")
    def delivery(self, obj: DBTaskResult) -> str:
        if obj.status == TaskResultStatus.READY:
            return "Pending, will retry" if obj.worker_ids else "Pending"
        return {
            TaskResultStatus.RUNNING: "Sending",
            TaskResultStatus.SUCCESSFUL: "Sent",
            TaskResultStatus.FAILED: "Failed (gave up)",
        }.get(obj.status, obj.status)

    @admin.display(description="attempts")
    def attempts(self, obj: DBTaskResult) -> int:
        return len(obj.worker_ids)

    @admin.display(description="next attempt")
    def next_attempt(self, obj: DBTaskResult) -> object:
        return self.display_run_after(obj) if obj.status == TaskResultStatus.READY else "-"
