"""Turning reminders off from an email: a signed link per person, and the headers
that let mail clients offer it as a button (RFC 2369 List-Unsubscribe, RFC 8058
one-click).

The token is the person's public id signed with SECRET_KEY (HMAC-SHA256) under a
salt of its own, so it cannot be forged or moved to another person, and it works
for as long as the key does: a reminder read months later still unsubscribes.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from accounts.models import User
from config.errors import DomainError

SALT = "accounts.unsubscribe.reminders"


class UnsubscribeLinkInvalid(DomainError):
    code = "unsubscribe_link_invalid"
    message = (
        "This link does not work: it may have been cut short when it was copied. "
        "Use the link in the latest reminder email, or ask the team that runs your "
        "coaching program."
    )
    http_status = 400


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, algorithm="sha256")


def unsubscribe_token(user: User) -> str:
    """The person's own token for the reminders-off link."""
    return _signer().sign(user.public_id.hex)


def unsubscribe_url(user: User) -> str:
    """The absolute https link (SITE_URL) that turns the person's reminders off."""
    path = reverse("accounts:reminders_off", kwargs={"token": unsubscribe_token(user)})
    return f"{settings.SITE_URL}{path}"


def unsubscribe_user(token: str) -> User:
    """The person a token belongs to; UnsubscribeLinkInvalid if forged, altered or unknown."""
    try:
        public_id = _signer().unsign(token)
    except signing.BadSignature:
        raise UnsubscribeLinkInvalid() from None
    user = User.objects.filter(public_id=public_id).first()
    if user is None:
        raise UnsubscribeLinkInvalid()
    return user


def reminder_headers(url: str) -> dict[str, str]:
    """The headers of a reminder whose unsubscribe link is `url` (unsubscribe_url):
    a one-click unsubscribe and "sent by a machine".

    Mail clients show List-Unsubscribe as an "Unsubscribe" button and, with
    List-Unsubscribe-Post, POST to the link themselves (RFC 8058; the message
    must be DKIM-signed by the sending service for them to trust it).
    Auto-Submitted (RFC 3834) keeps out-of-office replies away.
    """
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
