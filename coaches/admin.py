from __future__ import annotations

from django.contrib import admin

from coaches.models import CoachProfile, Language, Specialty


@admin.register(CoachProfile)
class CoachProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "headline", "capacity", "accepting_new", "time_zone"]
    list_filter = ["accepting_new", "programs"]
    search_fields = ["user__full_name", "user__email", "headline"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["specialties", "languages"]
    readonly_fields = ["public_id", "created_at", "updated_at"]


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
