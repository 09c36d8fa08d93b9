"""The sponsor's progress list: search by name and page (GET)."""

from __future__ import annotations

from django import forms

# Far beyond any program; a larger number is a typing slip, not a page.
MAX_PAGE = 10_000


class ProgressSearchForm(forms.Form):
    """Search the participants of a program by name, a page at a time."""

    q = forms.CharField(
        label="Search by name",
        required=False,
        max_length=100,
        error_messages={"max_length": "Search for at most 100 characters of a name."},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={
            "invalid": "The page must be a whole number.",
            "min_value": "Pages start at 1.",
            "max_value": "There is no such page.",
        },
    )

    def clean_page(self) -> int:
        """An absent page is the first one."""
        return self.cleaned_data.get("page") or 1
