from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    """Bookings from the coaches' Calendly and Cal.com pages, upcoming sessions and
    one-click confirmation (docs/architecture.md, "Bookings")."""

    name = "scheduling"
