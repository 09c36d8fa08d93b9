from __future__ import annotations

from django.contrib import admin

from engagements.models import (
    CoachingSession,
    Engagement,
    EngagementCoach,
    Organization,
    Program,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
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


class EngagementCoachInline(admin.TabularInline):
    model = EngagementCoach
    extra = 0
    can_delete = False
    readonly_fields = ["coach", "assigned_at", "released_at"]

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["participant", "program", "coach", "status", "sessions_logged", "invited_at"]
    list_filter = ["status", "program"]
    search_fields = ["participant__full_name", "participant__email", "coach__user__full_name"]
    list_select_related = ["participant", "program", "coach__user"]
    # Status and coach change only through the engagement's transition method.
    readonly_fields = [
        "public_id",
        "participant",
        "program",
        "coach",
        "status",
        "status_version",
        "status_reason",
        "sessions_logged",
        "last_session_on",
        "invited_at",
        "coach_selected_at",
        "started_at",
        "on_hold_at",
        "completed_at",
        "cancelled_at",
    ]
    inlines = [EngagementCoachInline]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False


@admin.register(CoachingSession)
class CoachingSessionAdmin(admin.ModelAdmin):
    """Staff see that a session happened, never its notes."""

    list_display = ["engagement", "number", "held_on", "duration_minutes", "outcome"]
    list_filter = ["outcome"]
    list_select_related = ["engagement__participant", "engagement__program"]
    search_fields = ["engagement__participant__full_name"]
    fields = ["engagement", "coach", "number", "held_on", "duration_minutes", "outcome"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False
