"""The participant's two feedback forms: a 1-5 rating and the closing survey."""

from __future__ import annotations

from typing import Any

from django import forms

# The longest "what changed" answer kept (the page says so, and so does the field's maxlength).
WHAT_CHANGED_MAX = 4000


class TextAnswerField(forms.CharField):
    """Free text counted as the person sees it: a line break is one character.

    Browsers count a line break as one character against `maxlength` but send
    it as two (CRLF); normalising first keeps the page's limit and the form's
    the same. Too long is refused with the limit and the length, never cut.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["max_length"] = (
            "Keep it to at most %(limit_value)d characters: this answer has %(show_value)d. "
            "Nothing was saved."
        )

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return text if text is None else text.replace("\r\n", "\n").replace("\r", "\n")


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
    what_changed = TextAnswerField(
        label="What changed for you?",
        help_text=(
            f"Optional, at most {WHAT_CHANGED_MAX} characters. "
            "Read by the program team only, never by your coach or employer."
        ),
        required=False,
        max_length=WHAT_CHANGED_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
