from __future__ import annotations

from django.contrib import admin
from django.db import models

from coaches.forms import PhotoField
from coaches.models import CoachProfile, Language, Specialty


@admin.register(CoachProfile)
class CoachProfileAdmin(admin.ModelAdmin):
    # Each coach's load, the program filter and the CSV import are added by
    # engagements/admin.py (docs/architecture.md, "A higher app may extend a lower
    # app's admin").
    list_display = ["user", "headline", "capacity", "accepting_new", "time_zone"]
    list_filter = ["accepting_new"]
    search_fields = ["user__full_name", "user__email", "headline"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["specialties", "languages"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    # A photo staff upload is re-encoded like the coach's own (coaches/photos.py).
    formfield_overrides = {models.ImageField: {"form_class": PhotoField}}


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
