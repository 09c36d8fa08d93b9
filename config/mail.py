"""Map an EMAIL_URL onto Django 6.1's MAILERS setting, and the quick start's
one-line console backend.

django-environ's email_url_config() still emits the deprecated EMAIL_* names,
drops the leading slash of filemail:// paths, reads smtps:// as STARTTLS and
has no locmem scheme, so the few schemes we support are parsed here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "consolemail": "django.core.mail.backends.console.EmailBackend",
    # The quick start's (scripts/demo.sh): one short line per email, not the MIME dump.
    "compactconsolemail": "config.mail.CompactConsoleBackend",
    "filemail": "django.core.mail.backends.filebased.EmailBackend",
    "locmemmail": "django.core.mail.backends.locmem.EmailBackend",
    "dummymail": "django.core.mail.backends.dummy.EmailBackend",
}


def mailers_from_url(url: str) -> dict[str, dict]:
    """Return a MAILERS dict whose "default" entry is described by url."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _BACKENDS:
        known = ", ".join(sorted(_BACKENDS))
        raise ImproperlyConfigured(f"EMAIL_URL scheme {scheme!r} is not one of: {known}")
    options: dict[str, object] = {}
    if scheme == "filemail":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ImproperlyConfigured("EMAIL_URL filemail:// needs a folder path")
        options["file_path"] = path
    elif scheme.startswith("smtp"):
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL smtp needs a host")
        options["host"] = parts.hostname
        options["port"] = parts.port or (465 if scheme == "smtps" else 587)
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        query = parse_qs(parts.query)
        options["use_ssl"] = scheme == "smtps"
        options["use_tls"] = scheme == "smtp+tls" or query.get("tls") == ["true"]
        options["timeout"] = int(query.get("timeout", ["10"])[0])
    return {"default": {"BACKEND": _BACKENDS[scheme], "OPTIONS": options}}


# The line a text part puts on its own, indented (a sign-in code, a link): what the
# person acts on (accounts/emails.py, wrap_text).
_KEY_LINE = re.compile(r"^ {4}(\S+)$", re.MULTILINE)


class CompactConsoleBackend(ConsoleBackend):
    """For the quick start only: one line per email, "To ada@example.com: Your
    Coachdesk sign-in code: 123456", so codes are easy to find among the logs.
    `check --deploy` refuses it (accounts.E002)."""

    def write_message(self, message: Any) -> None:
        """Write who the email is to, its subject and the first thing to act on."""
        if not isinstance(message, EmailMessage):
            return super().write_message(message)
        subject = str(message.subject)
        key = _KEY_LINE.search(str(message.body))
        if key:
            subject += f"{' ' if subject.endswith(('?', '!', '.', ':')) else ': '}{key.group(1)}"
        self.stream.write(f"To {', '.join(message.to)}: {subject}\n")
