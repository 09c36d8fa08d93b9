"""The ops dashboard's filters (GET) and its bulk "send a reminder now" (POST)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from engagements.models import Program
from nudges.models import FlagKind

# Far beyond any engagement's age; a larger number is a typing slip.
MAX_DAYS_STUCK = 3650
# At most one page of the flagged list is selected at a time.
MAX_SELECTED = 50
MAX_COACH_SEARCH = 100


class PlainSelect(forms.Select):
    """A <select> written in one pass rather than a template per <option>: the program
    filter lists every program, and the widget templates cost more than the rest of
    the form (make bench, README "Performance")."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, " selected" if str(option) in chosen else "", label)
                for option, label in self.choices
            ),
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


class _ListedChoices(forms.models.ModelChoiceIterator):
    """The options from one plain query, rather than a server-side cursor (DECLARE,
    FETCH, CLOSE: three round trips) that ModelChoiceIterator opens for a few rows."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class _ProgramChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoices


class FlagFilterForm(forms.Form):
    """Narrow the flagged engagements by program, kind, coach and days stuck."""

    program = _ProgramChoiceField(
        # Only what an option shows (a program per option, every request).
        queryset=Program.objects.only("pk", "public_id", "name").order_by("name", "pk"),
        widget=PlainSelect,
        required=False,
        to_field_name="public_id",
        empty_label="All programs",
        error_messages={"invalid_choice": "Choose a program from the list."},
    )
    kind = forms.ChoiceField(
        label="Flag",
        required=False,
        widget=PlainSelect,
        choices=[("", "All flags"), *FlagKind.choices],
        error_messages={"invalid_choice": "Choose a flag from the list."},
    )
    # A search, not a list: a pool has thousands of coaches, and a <select> of
    # them all cost about half a second of rendering per page at 5,000 (make bench).
    coach = forms.CharField(
        label="Coach (name or email)",
        required=False,
        max_length=MAX_COACH_SEARCH,
        error_messages={"max_length": f"Enter at most {MAX_COACH_SEARCH} characters of a coach."},
    )
    days = forms.IntegerField(
        label="Stuck for at least (days)",
        required=False,
        min_value=0,
        max_value=MAX_DAYS_STUCK,
        error_messages={
            "invalid": "Enter the days stuck as a whole number.",
            "min_value": "Days stuck cannot be negative.",
            "max_value": f"Enter at most {MAX_DAYS_STUCK} days.",
        },
    )


class PublicIdsField(forms.Field):
    """The ticked rows: a list of public ids (every value of the field's name)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Tick at least one engagement to remind.",
        "invalid": "That selection is not one of the listed engagements.",
        "too_many": f"Tick at most {MAX_SELECTED} engagements at a time.",
    }

    def to_python(self, value: Any) -> list[uuid.UUID]:
        try:
            return [uuid.UUID(str(item)) for item in value or []]
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value: Any) -> None:
        super().validate(value)
        if len(value) > MAX_SELECTED:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")


class RemindSelectedForm(forms.Form):
    """The flagged engagements ticked on the dashboard, and the page to return to."""

    engagement = PublicIdsField()
    next = forms.CharField(required=False, max_length=2000)
