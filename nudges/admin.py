from __future__ import annotations

from django.contrib import admin

from nudges.models import NudgeFlag, NudgeRun


@admin.register(NudgeFlag)
class NudgeFlagAdmin(admin.ModelAdmin):
    list_display = ["engagement", "kind", "raised_at", "resolved_at", "notified_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["engagement__participant", "engagement__program"]
    search_fields = ["engagement__participant__full_name"]
    readonly_fields = ["engagement", "kind", "raised_at", "resolved_at", "notified_at"]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False


@admin.register(NudgeRun)
class NudgeRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "as_of", "outcome", "raised", "resolved"]
    list_filter = ["outcome", "forced", "dry_run"]
    readonly_fields = [f.name for f in NudgeRun._meta.fields]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False
