from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.core import signing
from django.http import QueryDict
from import_export.forms import ConfirmImportForm, ImportForm

from engagements.models import (
    MAX_SESSION_MINUTES,
    MIN_SESSION_MINUTES,
    Engagement,
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


def _key_signer(engagement: Engagement) -> signing.Signer:
    # Salted with the engagement: a key is good for that engagement's form only.
    return signing.Signer(salt=f"engagements.session-log:{engagement.public_id}")


def session_submission_key(engagement: Engagement) -> str:
    """A new one-time key for one rendering of the engagement's session log form."""
    return _key_signer(engagement).sign(uuid.uuid4().hex)


class SessionLogForm(SessionForm):
    """The log form: SessionForm, a signed one-time key, and the same-date confirmation.

    Each rendering carries a new key (session_submission_key); session_log
    logs at most one session per key. A missing or altered key is refused
    with a message, and the form comes back with a fresh one.
    """

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)
    confirm_same_date = forms.BooleanField(
        label="Yes, log a second session on this date", required=False
    )

    KEY_REFUSED = (
        "This form could not be checked (it is incomplete or was changed). "
        "Nothing was saved: check the details and log the session again."
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, program=engagement.program, **kwargs)
        self.engagement = engagement
        self.same_date_warning = False
        self.key: uuid.UUID | None = None
        if not self.is_bound:
            self.initial = {**self.initial, "submission_key": session_submission_key(engagement)}
            return
        try:
            self.key = uuid.UUID(
                _key_signer(engagement).unsign(self.data.get("submission_key", ""))
            )
        except (signing.BadSignature, ValueError):
            # Shown again with a fresh key, so that the coach can simply resubmit.
            data = QueryDict(mutable=True)
            data.update(self.data)
            data["submission_key"] = session_submission_key(engagement)
            self.data = data

    @property
    def asks_same_date(self) -> bool:
        """Show the confirmation: after the warning, or when it was ticked already."""
        return self.same_date_warning or bool(self.data.get("confirm_same_date"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.key is None:
            raise forms.ValidationError(self.KEY_REFUSED, code="submission_key")
        cleaned["submission_key"] = self.key
        return cleaned

    def warn_same_date(self, message: str) -> None:
        self.same_date_warning = True
        self.add_error(None, message)


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
