"""The admin never filters, searches, orders or shows by a private field.

The fields are named once, in config/privacy.py (docs/architecture.md, "Private
fields and group sizes"). The admin site adds PrivateFieldsAdmin to every
ModelAdmin it registers, so a new admin, or a new private field, is covered
without anyone remembering to: a filter in the URL (`?notes__icontains=`,
`__regex`, `__startswith`, across relations too) is refused with a 400, and
whatever a class declares is checked at start-up (`manage.py check`) and left
out at run time.

Issue 13: a whole note was recovered one character at a time in 758 requests
through `?notes__startswith=`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core import checks
from django.http import HttpRequest

from config.privacy import private_fields_in

# What a ModelAdmin may declare that filters, searches, orders or shows by a field.
DECLARED = (
    "list_display",
    "list_display_links",
    "list_editable",
    "list_filter",
    "search_fields",
    "ordering",
    "sortable_by",
    "date_hierarchy",
    "fields",
    "readonly_fields",
    "prepopulated_fields",
)


class PrivateFieldsAdmin(admin.ModelAdmin):
    """What the site adds to every ModelAdmin: private fields stay out of every view."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Refuse a filter that reaches a private field (the change list answers 400)."""
        if any(private_fields_in(self.model, lookup)):
            return False
        allowed: bool = super().lookup_allowed(lookup, value, request)
        return allowed

    def _public(self, items: Iterable[Any]) -> list[Any]:
        return [item for item in items if not self._names_private(item)]

    def _names_private(self, item: Any) -> bool:
        return bool(self._labels(item))

    def _labels(self, item: Any) -> list[str]:
        """The private fields an entry names, or sorts by (a method's admin_order_field)."""
        method = getattr(self, item, None) if isinstance(item, str) else item
        order = getattr(method, "admin_order_field", None)
        return [*private_fields_in(self.model, item), *private_fields_in(self.model, order)]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return self._public(super().get_list_display(request))

    def get_list_display_links(self, request: HttpRequest, list_display: Sequence[Any]) -> Any:
        # Django returns None for "no links", which the stubs do not allow.
        links = super().get_list_display_links(request, list(list_display))
        return None if links is None else self._public(links)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return self._public(super().get_list_filter(request))

    def get_search_fields(self, request: HttpRequest) -> list[Any]:
        return self._public(super().get_search_fields(request))

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        return self._public(super().get_ordering(request) or ())

    def get_sortable_by(self, request: HttpRequest) -> list[Any]:
        return self._public(super().get_sortable_by(request))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._public(super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._public(super().get_readonly_fields(request, obj))

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        """Private fields are left out of every form, even one built from all fields."""
        excluded = super().get_exclude(request, obj)
        own = [f.name for f in self.model._meta.concrete_fields if self._names_private(f.name)]
        if not own:
            return excluded
        # Returning a list stops get_form from adding the form's own Meta.exclude: add it here.
        form_meta = getattr(self.form, "_meta", None)
        base = list(excluded if excluded is not None else getattr(form_meta, "exclude", ()) or ())
        return base + [name for name in own if name not in base]

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        """Start-up refuses a class that declares a private field anywhere it would show."""
        return [*super().check(**kwargs), *self._private_field_errors()]

    def _private_field_errors(self) -> Iterator[checks.CheckMessage]:
        for attribute, items in self._declared():
            for item in items:
                for label in self._labels(item):
                    yield checks.Error(
                        f"{type(self).__name__}.{attribute} names the private field {label}.",
                        hint="Private fields never appear in the admin (config/privacy.py).",
                        obj=type(self),
                        id="coachdesk.E001",
                    )

    def _declared(self) -> Iterator[tuple[str, Iterable[Any]]]:
        for attribute in DECLARED:
            value = getattr(self, attribute, None)
            if not value:
                continue
            if attribute == "prepopulated_fields":
                value = [*value, *(source for sources in value.values() for source in sources)]
            elif isinstance(value, str):
                value = [value]
            yield attribute, value
        if self.fieldsets:
            yield "fieldsets", flatten_fieldsets(self.fieldsets)
