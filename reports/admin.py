"""The admin's "Export" on the engagement and session lists, through our export resources.

The exports live here, above engagements, so engagements/admin.py cannot name
them. Instead this module extends engagements' admin classes: it unregisters
them, subclasses each with ExportMixin and its resource, and registers the
subclass (docs/architecture.md, "A higher app may extend a lower app's admin").
Everything else (lists, actions, transition pages) is inherited unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ExportMixin

from engagements.admin import CoachingSessionAdmin, EngagementAdmin
from engagements.models import CoachingSession, Engagement
from reports.exports import EngagementExportResource, SessionExportResource


class AuditedExportMixin(ExportMixin):
    """Admin exports are audited under the staff member who asked for them."""

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {"actor": request.user}


admin.site.unregister(Engagement)
admin.site.unregister(CoachingSession)


@admin.register(Engagement)
class EngagementExportAdmin(AuditedExportMixin, EngagementAdmin):
    resource_classes = [EngagementExportResource]


@admin.register(CoachingSession)
class CoachingSessionExportAdmin(AuditedExportMixin, CoachingSessionAdmin):
    resource_classes = [SessionExportResource]
