from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from coaches.directory import MAX_EXCLUDES
from coaches.models import CoachProfile, time_zone_names
from coaches.photos import PhotoRefused, photo_reencode
from coaches.selectors import PoolChoices


class DirectoryFilterForm(forms.Form):
    """Narrow the directory by language and specialty; choices come from the pool."""

    language = forms.ChoiceField(required=False, label="Language")
    specialty = forms.ChoiceField(required=False, label="Specialty")

    def __init__(self, *args: Any, choices: PoolChoices, **kwargs: Any) -> None:
        """`choices`: the pool's languages and specialties (pool_filter_choices)."""
        super().__init__(*args, **kwargs)
        # Declared above as ChoiceFields; `fields` is typed as plain Field.
        cast(forms.ChoiceField, self.fields["language"]).choices = [
            ("", "Any language"),
            *choices.languages,
        ]
        cast(forms.ChoiceField, self.fields["specialty"]).choices = [
            ("", "Any specialty"),
            *choices.specialties,
        ]

    def filter(self, pool: QuerySet[CoachProfile]) -> QuerySet[CoachProfile]:
        if not self.is_bound or not self.is_valid():
            return pool
        if language := self.cleaned_data["language"]:
            pool = pool.filter(languages__code=language)
        if specialty := self.cleaned_data["specialty"]:
            pool = pool.filter(specialties__pk=specialty)
        return pool

    def active_params(self) -> list[tuple[str, str]]:
        if not self.is_bound or not self.is_valid():
            return []
        return [(name, value) for name, value in self.cleaned_data.items() if value]


class BadExclude(ValueError):
    """The `exclude` query parameters are malformed."""


def parse_excludes(values: list[str]) -> list[uuid.UUID]:
    """At most MAX_EXCLUDES coach ids, each a valid UUID, in the order given."""
    if len(values) > MAX_EXCLUDES:
        raise BadExclude(
            f"The address asks to skip {len(values)} coaches; at most {MAX_EXCLUDES} "
            "can be skipped at once. Go back to the coach directory and try again."
        )
    try:
        return [uuid.UUID(value) for value in values]
    except ValueError:
        raise BadExclude(
            "The address contains a coach id that is not valid. "
            "Go back to the coach directory and try again."
        ) from None


def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(time_zone_names() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


class PhotoField(forms.ImageField):
    """A coach photo: the cleaned value is the re-encoded file, never the upload.

    Used by the coach's own form and by the admin, so no path stores an upload
    as it came (coaches/photos.py).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "A JPEG or PNG of up to 2 MB. It is cropped to a square and its details "
            "(camera, place, date) are removed.",
        )
        super().__init__(**kwargs)

    def to_python(self, data: Any) -> Any:
        # FileField's checks (a name, not empty) but not ImageField's own Pillow pass,
        # which opens any format with Pillow's default limits.
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        try:
            return photo_reencode(upload=upload)
        except PhotoRefused as error:
            raise ValidationError(error.message, code=error.code) from None

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs: dict[str, Any] = super().widget_attrs(widget)
        attrs["accept"] = "image/jpeg,image/png"
        return attrs


class CoachProfileForm(forms.ModelForm):
    """What a coach edits about themselves. Capacity is set by staff only."""

    time_zone = forms.ChoiceField(choices=time_zone_choices, label="Time zone")
    photo = PhotoField(required=False, label="Photo")

    class Meta:
        model = CoachProfile
        fields = [
            "headline",
            "bio",
            "photo",
            "specialties",
            "languages",
            "time_zone",
            "booking_url",
            "accepting_new",
        ]
        labels = {
            "booking_url": "Booking link",
            "accepting_new": "I am accepting new participants",
        }
        # The https rule is the model field's validator (coaches/models.py,
        # validate_https), which this form runs, as the admin and the import do.
        help_texts = {
            "headline": "One line participants see on your card.",
            "booking_url": "The https address of your own scheduling page.",
        }
        widgets = {
            "specialties": forms.CheckboxSelectMultiple,
            "languages": forms.CheckboxSelectMultiple,
            "booking_url": forms.URLInput(attrs={"placeholder": "https://"}),
        }
