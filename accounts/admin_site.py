"""The admin site: django-otp's OTPAdminSite, entered through our own /login/ flow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse
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
        """Register with PrivateFieldsAdmin added, so no admin shows or filters a private field.

        Every class gets it, Django's and third parties' included, without anyone
        having to remember (accounts/admin_privacy.py).
        """
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, PrivateFieldsAdmin):
            admin_class = type(
                admin_class.__name__,
                (PrivateFieldsAdmin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """No password form here: staff sign in by code at /login/ and come back."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url)

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from accounts.views import logout

        response: HttpResponse = logout(request)
        return response


class ReadOnlyAdminMixin:
    """For records that are evidence (audit events, nudge runs): nobody adds,
    changes or deletes them by hand, staff included."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
