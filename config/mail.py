"""Map an EMAIL_URL onto Django 6.1's MAILERS setting.

django-environ's email_url_config() still emits the deprecated EMAIL_* names,
drops the leading slash of filemail:// paths, reads smtps:// as STARTTLS and
has no locmem scheme, so the few schemes we support are parsed here.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "consolemail": "django.core.mail.backends.console.EmailBackend",
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
