"""The admin site: django-otp's OTPAdminSite, entered through our own /login/ flow."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class CoachdeskAdminSite(OTPAdminSite):
    """Admits only active staff whose session was verified by an emailed code."""

    site_header = "Coachdesk back office"
    site_title = "Coachdesk admin"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

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
