from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.tasks.base import TaskResultStatus
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from accounts.admin_site import NoDeleteAdminMixin, ReadOnlyAdminMixin
from accounts.decorators import AuthenticatedHttpRequest
from accounts.models import AuditEvent, EmailCodeDevice, User
from accounts.services import signin_unlock, user_deactivate


def report_action(
    modeladmin: admin.ModelAdmin, request: HttpRequest, done: int, verb: str, refused: int, why: str
) -> None:
    level = messages.SUCCESS if not refused else messages.WARNING
    text = f"{done} {verb}."
    if refused:
        text += f" {refused} refused ({why})."
    modeladmin.message_user(request, text, level)


@admin.register(User)
class UserAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    # "Import participants" and "Resend invitation" are added by engagements/admin.py
    # (docs/architecture.md, "A higher app may extend a lower app's admin").
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
    actions = ["unlock_sign_in", "deactivate"]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Deactivating through the form goes through the same service as the action."""
        if change and not obj.is_active and form.initial.get("is_active", True):
            obj.is_active = True
            super().save_model(request, obj, form, change)
            # The admin site admits only signed-in staff.
            user_deactivate(user=obj, actor=cast(User, request.user))
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Unlock sign-in (reset code-request limits)")
    def unlock_sign_in(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        done = refused = 0
        for user in queryset:
            if signin_unlock(user=user, actor=request.user):
                done += 1
            else:
                refused += 1
        report_action(self, request, done, "account(s) unlocked", refused, "deactivated")

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
        report_action(
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
