"""The signed-in user of each request, read from the shared cache.

Every signed-in request needs its User row. Reading it from Redis costs a
fraction of a query, so the row is kept in the cache for USER_CACHE_SECONDS
and forgotten whenever it is written: `save()` through the post_save signal
(connected in accounts/apps.py), the few queryset updates that bypass it
through `users_forget()`: at once and again when the transaction commits, so
a request that read the old row in between cannot leave it behind. Should the
cache miss a deletion, the timeout bounds the stale row to a minute. A cache that fails is
skipped: the row comes from the database (docs/architecture.md, "Sign-in").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import connection, transaction

from accounts.models import User

logger = logging.getLogger(__name__)

USER_CACHE_SECONDS = 60


def _key(pk: Any) -> str:
    # The database's name too: one cache may serve several databases (the bench's
    # data sets of several sizes), whose rows share primary keys.
    return f"accounts:user:{connection.settings_dict['NAME']}:{pk}"


def users_forget(pks: Iterable[Any]) -> None:
    """Drop these users' cached rows now and again once the transaction commits.

    Now, so that this transaction's own later reads see the change; again at
    the commit, because a request may have cached the old row in between.
    """
    keys = [_key(pk) for pk in pks]
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001 - the rows age out within USER_CACHE_SECONDS
        logger.warning("Could not drop %d cached user row(s).", len(keys))


class CachedUserBackend(ModelBackend):
    """Django's ModelBackend, with `get_user` served from the cache when it can be."""

    def get_user(self, user_id: Any) -> User | None:
        key = _key(user_id)
        try:
            user = cache.get(key)
        except Exception:  # noqa: BLE001 - no cache: read the row
            return super().get_user(user_id)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                self._keep(key, user)
            return user
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _keep(key: str, user: User) -> None:
        try:
            cache.set(key, user, USER_CACHE_SECONDS)
        except Exception:  # noqa: BLE001 - served from the database next time too
            logger.warning("Could not cache a user row.")


def user_saved(sender: type[User], instance: User, **kwargs: Any) -> None:
    """post_save receiver: the next request reads the row as saved."""
    users_forget([instance.pk])
