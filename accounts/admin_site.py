"""The admin site: django-otp's OTPAdminSite, entered through our own /login/ flow,
where malformed input in any admin URL or form answers 400."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import ActionLocation, IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, EmptyResultSet, ValidationError
from django.db.models import QuerySet
from django.db.models.base import ModelBase
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from accounts.admin_privacy import PrivateFieldsAdmin


class CoachdeskAdminSite(OTPAdminSite):
    """Admits only active staff whose session was verified by an emailed code."""

    site_header = "Coachdesk back office"
    site_title = "Coachdesk admin"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def register(
        self,
        model_or_iterable: ModelBase | Iterable[ModelBase],
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        """Register with the site's own rules added to the class.

        Every class gets them, Django's and third parties' included, without anyone
        having to remember: PrivateFieldsAdmin (no admin shows or filters a private
        field, accounts/admin_privacy.py) and CheckedInputAdmin (malformed input
        answers 400, below).
        """
        admin_class = admin_class or admin.ModelAdmin
        added = tuple(
            rules
            for rules in (PrivateFieldsAdmin, CheckedInputAdmin)
            if not issubclass(admin_class, rules)
        )
        if added:
            admin_class = type(
                admin_class.__name__,
                (*added, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        """Every admin view answers InvalidAdminInput with a 400 page in the admin's look."""

        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            try:
                return view(request, *args, **kwargs)
            except InvalidAdminInput as error:
                return TemplateResponse(
                    request,
                    "admin/invalid_input.html",
                    {
                        **self.each_context(request),
                        "title": "That request cannot be applied",
                        "message": str(error),
                        "back_url": request.path,
                    },
                    status=400,
                )

        return super().admin_view(checked, cacheable)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """No password form here: staff sign in by code at /login/ and come back."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url)

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from accounts.views import logout

        response: HttpResponse = logout(request)
        return response


class NoDeleteAdminMixin:
    """For records that are never deleted by hand, staff included: sessions (voided
    instead), engagements (cancelled), users (deactivated), audit events and nudge
    flags (evidence). Without the permission Django also drops the "Delete
    selected" action and answers the delete page with 403. Issue 13: a session
    deleted in the admin left the engagement's counter wrong and no audit event.
    """

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdminMixin:
    """For records that are evidence (audit events, nudge runs): nobody adds,
    changes or deletes them by hand, staff included."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- Malformed admin input answers 400, never 500 ------------------------------------
#
# Staff type filters, sort orders and selections into admin URLs and forms. Django
# validates some of them, but a value that only the database layer converts (an IP
# address, a year past 9999, a date hierarchy at 9999-12) or a regex the database
# refuses raised a 500. The site adds CheckedInputAdmin to every ModelAdmin it
# registers, so every list, export and action is covered, including ones added
# later; docs/architecture.md, "Rules and where they live".

# Lookups the admin's own filters and search never build, refused in a URL. Regex
# ones are a way around them (issue 13 recovered private notes with notes__regex),
# a malformed pattern is a database error and a pathological one keeps it busy. The
# admin hands a range's text to the lookup unsplit, so `__range` never worked in a
# URL: on a date it matched nothing, on text it was a database error.
REFUSED_LOOKUPS = frozenset({"regex", "iregex", "range"})


class InvalidAdminInput(BadRequest):
    """A filter, sort order, page or selection in an admin request that cannot be applied."""


def _detail(error: BaseException) -> str:
    """The sentence inside Django's IncorrectLookupParameters (or any wrapped error)."""
    cause = error.args[0] if error.args and isinstance(error.args[0], Exception) else error
    if isinstance(cause, ValidationError):
        return " ".join(cause.messages)
    return str(cause)


class CheckedChangeList(ChangeList):
    """A change list that turns every value it cannot apply into InvalidAdminInput.

    Each check raises Django's own IncorrectLookupParameters; __init__ turns
    them all into a 400, where Django would redirect to the unfiltered list
    without saying why (or show "Database error" on a second failure).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except (IncorrectLookupParameters, DisallowedModelAdminLookup) as error:
            detail = _detail(error)
            raise InvalidAdminInput(
                "This list cannot be shown with the filters, sort order or page in its "
                "address" + (f": {detail}" if detail else ".")
            ) from error

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:  # a date hierarchy past year 9999
            raise IncorrectLookupParameters(error) from error

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        queryset = super().get_queryset(request, exclude_parameters)
        # Values are converted for the database only when the SQL is compiled, after
        # Django's own checks: compile it here, where a failure is still about input.
        try:
            queryset.query.get_compiler(using=queryset.db).as_sql()
        except EmptyResultSet:
            pass
        except (ValueError, OverflowError, ValidationError) as error:
            raise IncorrectLookupParameters(error) from error
        return queryset

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        """Refuse an `o` that is not a list of column numbers (Django ignores it silently)."""
        value = self.params.get(ORDER_VAR)
        if value and not all(self._is_column(part) for part in value.split(".")):
            raise IncorrectLookupParameters(f"there is no column {value!r} to sort by.")
        ordering: list[Any] = super().get_ordering(request, queryset)
        return ordering

    def _is_column(self, part: str) -> bool:
        return bool(re.fullmatch(r"-?\d{1,4}", part)) and int(part.lstrip("-")) < len(
            self.list_display
        )


_CHECKED: dict[type[ChangeList], type[ChangeList]] = {}


def _checked(changelist: type[ChangeList]) -> type[ChangeList]:
    """`changelist` with CheckedChangeList's checks (one class per ChangeList class)."""
    if issubclass(changelist, CheckedChangeList):
        return changelist
    if changelist not in _CHECKED:
        _CHECKED[changelist] = type(
            f"Checked{changelist.__name__}", (CheckedChangeList, changelist), {}
        )
    return _CHECKED[changelist]


class CheckedInputAdmin(admin.ModelAdmin):
    """What the site adds to every ModelAdmin: lists, exports and actions check their input."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _checked(super().get_changelist(request, **kwargs))

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if lookup.split(LOOKUP_SEP)[-1] in REFUSED_LOOKUPS:
            return False
        allowed: bool = super().lookup_allowed(lookup, value, request)
        return allowed

    def response_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        action_location: ActionLocation = ActionLocation.CHANGE_LIST,
    ) -> HttpResponse | None:
        """Refuse the whole action when a selected id is not an id (Django raised a 500)."""
        pk = self.opts.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                pk.get_prep_value(pk.to_python(value))
            except (ValidationError, ValueError, TypeError, OverflowError):
                raise InvalidAdminInput(
                    f"Nothing was changed: {value!r} is not the id of a {self.opts.verbose_name}."
                ) from None
        return super().response_action(request, queryset, action_location)
