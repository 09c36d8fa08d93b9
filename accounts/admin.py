from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import AuditEvent, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active"]
    search_fields = ["full_name", "email"]
    readonly_fields = ["public_id", "date_joined", "last_login"]
    fields = ["public_id", "email", "full_name", "role", "is_active", "date_joined", "last_login"]
    ordering = ["full_name"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone: the trail is evidence."""

    list_display = ["created_at", "action", "actor", "object_type", "object_id", "request_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "object_id", "actor__full_name", "actor__email", "request_id"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
