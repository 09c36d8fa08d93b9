"""The participant's two feedback forms: a 1-5 rating and the closing survey."""

from __future__ import annotations

from django import forms


class SessionRatingForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        error_messages={
            "required": "Choose a rating from 1 to 5.",
            "invalid_choice": "Choose a rating from 1 to 5.",
        },
    )


class ClosingSurveyForm(forms.Form):
    recommend_score = forms.TypedChoiceField(
        label="How likely are you to recommend coaching to a colleague?",
        help_text="0 means not at all likely, 10 extremely likely.",
        choices=[(n, str(n)) for n in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a number from 0 to 10.",
            "invalid_choice": "Choose a number from 0 to 10.",
        },
    )
    what_changed = forms.CharField(
        label="What changed for you?",
        help_text="Optional. Read by the program team only, never by your coach or employer.",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "Please keep it under %(limit_value)d characters."},
    )
