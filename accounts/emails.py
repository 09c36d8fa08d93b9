"""The one way Coachdesk sends email: a subject, a text and an HTML template.

Templates live in templates/emails/<name>_subject.txt, <name>.txt and <name>.html.
Sending waits for the current transaction to commit, so a rolled-back change
never emails anybody. Never log the recipient's address.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def build_email(*, template: str, to: list[str], context: dict[str, Any]) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=to)
    message.attach_alternative(html, "text/html")
    return message


def send_email(*, template: str, to: list[str], context: dict[str, Any]) -> None:
    """Send after the surrounding transaction commits (at once outside one)."""
    message = build_email(template=template, to=to, context=context)

    def deliver() -> None:
        message.send()
        logger.info("email sent: template=%s recipients=%d", template, len(to))

    transaction.on_commit(deliver, robust=True)
