from __future__ import annotations

from django.contrib import admin

from scheduling.models import BookingEndpoint, BookingReference, ScheduledSession


class BookingReferenceInline(admin.TabularInline):
    model = BookingReference
    extra = 0
    can_delete = False
    fields = ["reference", "starts_at", "ends_at", "created_seen", "cancelled", "replaced_by"]
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ScheduledSession)
class ScheduledSessionAdmin(admin.ModelAdmin):
    """Bookings as received; what they say is the provider's, so it is read-only here.
    Unmatched ones are assigned or dismissed on the ops dashboard."""

    list_display = ["starts_at", "coach", "engagement", "provider", "status", "unmatched_reason"]
    list_filter = ["provider", "status", "unmatched_reason"]
    search_fields = ["coach__user__full_name", "engagement__participant__full_name"]
    list_select_related = ["coach__user", "engagement__participant", "engagement__program"]
    readonly_fields = [
        "public_id",
        "coach",
        "engagement",
        "provider",
        "provider_booking_id",
        "attendee_email",
        "attendee_name",
        "starts_at",
        "ends_at",
        "status",
        "history",
        "unmatched_reason",
        "dismissed_at",
        "confirmed_session",
        "created_at",
    ]
    inlines = [BookingReferenceInline]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(BookingEndpoint)
class BookingEndpointAdmin(admin.ModelAdmin):
    """Which coaches have an endpoint and when it was last rotated; the token and the
    secret are shown to their coach only (on the profile page)."""

    list_display = ["coach", "rotated_at"]
    list_select_related = ["coach__user"]
    search_fields = ["coach__user__full_name"]
    fields = ["coach", "rotated_at"]
    readonly_fields = ["coach", "rotated_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
