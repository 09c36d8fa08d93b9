from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin_site import NoDeleteAdminMixin, ReadOnlyAdminMixin
from nudges.models import NudgeFlag, NudgeRun


@admin.register(NudgeFlag)
class NudgeFlagAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    """Flags are raised and resolved by run_nudges only: read-only here."""

    list_display = ["engagement", "kind", "raised_at", "resolved_at", "notified_at"]
    list_filter = [
        "kind",
        ("resolved_at", admin.EmptyFieldListFilter),
        ("notified_at", admin.EmptyFieldListFilter),
        "engagement__program",
    ]
    list_select_related = ["engagement__participant", "engagement__program"]
    search_fields = ["engagement__participant__full_name", "engagement__program__name"]
    readonly_fields = [
        "engagement",
        "kind",
        "raised_at",
        "resolved_at",
        "notified_at",
        "participant_notified_at",
        "coach_notified_at",
    ]
    date_hierarchy = "raised_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NudgeRun)
class NudgeRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every run_nudges invocation, as recorded by the run itself: read-only."""

    list_display = [
        "started_at",
        "finished_at",
        "as_of",
        "outcome",
        "forced",
        "raised",
        "resolved",
        "open_flags",
        "emails_sent",
    ]
    list_filter = ["outcome", "forced"]
    readonly_fields = [f.name for f in NudgeRun._meta.fields]
    date_hierarchy = "started_at"
