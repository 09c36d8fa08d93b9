"""Reading the emails tests send."""

from __future__ import annotations

from django.core.mail import EmailMessage, EmailMultiAlternatives


def html_part(message: EmailMessage) -> str:
    """The email's one HTML alternative (every email we send has one)."""
    assert isinstance(message, EmailMultiAlternatives), message
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(html) == 1 and isinstance(html[0], str), message.alternatives
    return html[0]
