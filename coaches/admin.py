from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ConfirmImportForm, ImportForm

from coaches.forms import PhotoField
from coaches.models import CoachProfile, Language, Specialty
from coaches.resources import CoachImportResource
from engagements.models import Program


class CoachImportForm(ImportForm):
    program = forms.ModelChoiceField(
        queryset=Program.objects.select_related("organization"),
        required=False,
        help_text="Add every coach in the file to this program's pool.",
    )


class CoachConfirmImportForm(ConfirmImportForm):
    program = forms.ModelChoiceField(
        queryset=Program.objects.all(), required=False, widget=forms.HiddenInput
    )


@admin.register(CoachProfile)
class CoachProfileAdmin(ImportMixin, admin.ModelAdmin):
    # Each coach's load and the program filter are added by engagements/admin.py
    # (docs/architecture.md, "A higher app may extend a lower app's admin").
    list_display = ["user", "headline", "capacity", "accepting_new", "time_zone"]
    list_filter = ["accepting_new"]
    search_fields = ["user__full_name", "user__email", "headline"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["specialties", "languages"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    # A photo staff upload is re-encoded like the coach's own (coaches/photos.py).
    formfield_overrides = {models.ImageField: {"form_class": PhotoField}}
    # Import: CSV through CoachImportResource, which writes via coaches_import.
    resource_classes = [CoachImportResource]
    import_formats = [CSV]
    import_form_class = CoachImportForm
    confirm_form_class = CoachConfirmImportForm

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"program": cleaned.get("program"), "actor": request.user}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None and import_form.cleaned_data.get("program"):
            initial["program"] = import_form.cleaned_data["program"].pk
        return initial


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
