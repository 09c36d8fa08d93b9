from __future__ import annotations

from django import forms

from accounts.models import CODE_DIGITS, normalize_email


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter the email address you were invited with.",
            "invalid": "Enter an email address such as name@example.com.",
            "max_length": "An email address has at most 254 characters.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class BlankTextInput(forms.TextInput):
    """A text input that never writes its value back into the page (codes stay secret)."""

    def format_value(self, value: object) -> None:
        return None


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Sign-in code",
        max_length=20,
        help_text=f"The {CODE_DIGITS}-digit code from the email we just sent you.",
        error_messages={"required": "Enter the code from the email."},
        widget=BlankTextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(f"The code is {CODE_DIGITS} digits, such as 123456.")
        return code
