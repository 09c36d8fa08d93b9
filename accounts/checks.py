"""System checks about email: `manage.py check --deploy` refuses what would send
people broken links, or send nothing at all."""

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


@register(Tags.security, deploy=True)
def demo_mailer_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The quick start's one-line console mailer prints emails instead of sending them."""
    backends = {mailer.get("BACKEND") for mailer in settings.MAILERS.values()}
    if "config.mail.CompactConsoleBackend" not in backends:
        return []
    return [
        Error(
            "EMAIL_URL is compactconsolemail://, the quick start's: no email would be sent.",
            hint="Set EMAIL_URL to your mail service, such as smtp+tls://user:pass@host:587.",
            id="accounts.E002",
        )
    ]
