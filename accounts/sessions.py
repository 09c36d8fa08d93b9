"""How long a signed-in session lasts, and when its expiry is written again.

Participants stay signed in for 30 days from sign-in. Coaches, sponsors and
staff are signed out after 30 idle minutes: their expiry slides forward as
they use the site. Sliding it is a write to the session table, so it is done
only once a thirtieth of the lifetime (one minute) has passed since the last
write: a signed-in request in between writes nothing, and the idle timeout is
between 29 and 30 minutes. A participant's expiry never slides, so their
requests never write their session. (docs/architecture.md, "Rules and where
they live".)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from accounts.models import Role

# Keyed by Role; looked up with User.role, a plain str.
SESSION_SECONDS: dict[str, int] = {
    Role.PARTICIPANT: 30 * 24 * 60 * 60,
    Role.COACH: 30 * 60,
    Role.SPONSOR: 30 * 60,
    Role.STAFF: 30 * 60,
}
# Roles whose lifetime is an idle timeout.
SLIDING_ROLES = frozenset({Role.COACH, Role.SPONSOR, Role.STAFF})
# The expiry is written again once lifetime / REFRESH_SHARE has passed.
REFRESH_SHARE = 30
EXPIRY_KEY = "_session_expiry"  # where SessionBase.set_expiry keeps it


def session_lifetime_start(session: SessionBase, *, role: str) -> None:
    """Give a session its role's lifetime from now, as a fixed date."""
    session.set_expiry(timezone.now() + timedelta(seconds=SESSION_SECONDS[role]))


def session_expiry_slide(session: SessionBase, *, role: str) -> bool:
    """Move an idle timeout forward when a meaningful share of it has passed.

    True when the expiry changed (the session middleware then saves it).
    A session stored with an expiry in seconds (from before fixed dates) is
    moved to a date once; a session given no lifetime keeps Django's default.
    """
    stored = session.get(EXPIRY_KEY)
    if role not in SLIDING_ROLES or stored is None:
        return False
    lifetime = SESSION_SECONDS[role]
    if isinstance(stored, str):
        remaining = (datetime.fromisoformat(stored) - timezone.now()).total_seconds()
        if remaining > lifetime - lifetime / REFRESH_SHARE:
            return False
    session_lifetime_start(session, role=role)
    return True
