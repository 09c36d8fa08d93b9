"""Sessions read from the shared cache, written to both (docs/architecture.md, "Sign-in").

Django's cached_db store: a signed-in request reads its session from Redis and
touches the session table only when the session is written (sign-in, sign-out,
an idle timeout sliding: accounts/sessions.py). The database stays the record,
so a cache that is flushed or down loses nobody's session. Django's store
already falls back to the database when a read fails; this one also survives a
failing cache while it checks a new key, copies a session back into the cache
or replaces the pre-sign-in session at sign-in, so signed-in pages and sign-in
keep working when Redis is down. Ending a signed-in session still needs the
cache (Django's own behaviour): with Redis down, signing out answers an error
page and the person can try again, rather than leaving a copy that would come
back with the cache.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.core.cache.backends.base import BaseCache
from django.utils import timezone

from accounts.sessions import EXPIRY_KEY

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    _cache: BaseCache  # set by cached_db.SessionStore.__init__ (not in django-stubs)

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - read the session table instead
            data = None
        if data is not None and not _expired(data):
            return data
        stored = self._get_session_from_db()  # type: ignore[attr-defined]
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:  # noqa: BLE001 - read from the table again next time
            logger.warning("Could not copy a session into the cache.")
        return data

    def cycle_key(self) -> None:
        """Sign-in's new key: the pre-sign-in session is dropped from the cache
        if the cache answers (it holds only the pending sign-in)."""
        self._quiet_delete = True
        try:
            super().cycle_key()
        finally:
            self._quiet_delete = False

    def delete(self, session_key: str | None = None) -> None:
        if not getattr(self, "_quiet_delete", False):
            return super().delete(session_key)
        try:
            super().delete(session_key)
        except Exception:  # noqa: BLE001 - the table row is gone; the copy ages out
            logger.warning("Could not drop a replaced session from the cache.")

    def exists(self, session_key: str | None) -> bool:
        # The table holds every session the cache does, so it alone answers.
        if not session_key:
            return False
        return super(cached_db.SessionStore, self).exists(session_key)


def _expired(data: dict[str, Any]) -> bool:
    """Whether a cached session's own expiry date has passed.

    The cache entry lives as long as the session, but by the cache's clock; the
    date the session carries is checked too, as the session table's query does.
    """
    expiry = data.get(EXPIRY_KEY)
    return isinstance(expiry, str) and datetime.fromisoformat(expiry) <= timezone.now()
