"""System checks about email: `manage.py check --deploy` refuses what would send
people broken links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def site_url_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off, SITE_URL (the base of every link in an email) must be an https URL.

    Unset, it is the quick start's http://127.0.0.1:8000, and every sign-in,
    booking and reminder link would silently point at the recipient's own machine.
    """
    if settings.DEBUG:
        return []
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme == "https" and parts.hostname and not parts.query and not parts.fragment:
        return []
    return [
        Error(
            f"SITE_URL is {settings.SITE_URL!r}: links in emails would not reach the site.",
            hint="Set SITE_URL to the site's public https address, "
            "such as https://coachdesk.example.com.",
            id="accounts.E001",
        )
    ]
