from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from import_export.forms import ConfirmImportForm, ImportForm

from engagements.models import (
    MAX_SESSION_MINUTES,
    MIN_SESSION_MINUTES,
    Outcome,
    Program,
    Status,
)


class SessionForm(forms.Form):
    """A session as the coach logs or corrects it.

    `today` is the coach's own calendar day (their time zone), so a coach in
    Tokyo can log this morning's session while it is still yesterday in UTC.
    """

    held_on = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Enter the date of the session.",
            "invalid": "Enter the date as YYYY-MM-DD.",
        },
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=MIN_SESSION_MINUTES,
        max_value=MAX_SESSION_MINUTES,
        help_text=f"Between {MIN_SESSION_MINUTES} and {MAX_SESSION_MINUTES} minutes.",
        error_messages={
            "required": "Enter how long the session lasted, in minutes.",
            "invalid": "Enter the duration as a whole number of minutes.",
            "min_value": f"A session lasts at least {MIN_SESSION_MINUTES} minutes.",
            "max_value": f"A session lasts at most {MAX_SESSION_MINUTES} minutes (four hours).",
        },
    )
    outcome = forms.ChoiceField(
        choices=Outcome.choices,
        initial=Outcome.HELD,
        help_text="No-shows and late cancellations use up a session of the allotment.",
        error_messages={
            "required": "Choose what happened: held, no-show or late cancellation.",
            "invalid_choice": "Choose what happened: held, no-show or late cancellation.",
        },
    )
    notes = forms.CharField(
        label="Private notes",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only you can read these notes.",
    )

    def __init__(self, *args: Any, program: Program, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        self.today = today
        self.fields["held_on"].widget.attrs.update(
            min=program.starts_on.isoformat(), max=today.isoformat()
        )

    def clean_held_on(self) -> date:
        held_on: date = self.cleaned_data["held_on"]
        if held_on > self.today:
            raise forms.ValidationError("The date cannot be in the future.")
        if held_on < self.program.starts_on:
            raise forms.ValidationError(
                f"The date cannot be before the program starts ({self.program.starts_on:%d %B %Y})."
            )
        return held_on


class StatusFilterForm(forms.Form):
    """The workspace's status filter (GET)."""

    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "All engagements"), *Status.choices],
        error_messages={"invalid_choice": "Choose a status from the list."},
    )


class ReasonForm(forms.Form):
    """The reason staff give for a transition (required for cancel and early completion)."""

    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason: it is kept on the engagement."},
    )

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


# --- The admin's import steps, with the program the rows join ---------------------


class ParticipantImportForm(ImportForm):
    """The admin's participant import step, with the program the participants join."""

    program = forms.ModelChoiceField(queryset=Program.objects.select_related("organization"))


class ParticipantConfirmImportForm(ConfirmImportForm):
    program = forms.ModelChoiceField(queryset=Program.objects.all(), widget=forms.HiddenInput)


class CoachImportForm(ImportForm):
    """The admin's coach import step, with the program whose pool the coaches join."""

    program = forms.ModelChoiceField(
        queryset=Program.objects.select_related("organization"),
        required=False,
        help_text="Add every coach in the file to this program's pool.",
    )


class CoachConfirmImportForm(ConfirmImportForm):
    program = forms.ModelChoiceField(
        queryset=Program.objects.all(), required=False, widget=forms.HiddenInput
    )
