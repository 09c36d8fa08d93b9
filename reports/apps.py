from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Program reports, the weekly chart and CSV exports; no models of its own."""

    name = "reports"
