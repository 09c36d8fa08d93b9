"""Who is signed in, read from the shared cache: the user and their OTP device.

Every signed-in request needs its User row, and a staff request also the OTP
device its session was verified with (django-otp checks it is still the user's
and confirmed). Reading them from Redis costs a fraction of a query, so each row
is kept in the cache for ROW_CACHE_SECONDS and forgotten whenever it is written:
`save()` and `delete()` through signals (connected in accounts/apps.py), the few
queryset updates of users that bypass them through `users_forget()`. A row is
forgotten at once and again when the transaction commits, so a request that read
the old row in between cannot leave it behind; should the cache miss a deletion,
the timeout bounds the stale row to a minute. A cache that fails is skipped: the
row comes from the database (docs/architecture.md, "Sign-in").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django_otp.models import Device

from accounts.models import User
from config.cached import cached, database_key

logger = logging.getLogger(__name__)

ROW_CACHE_SECONDS = 60


def _user_key(pk: Any) -> str:
    return database_key("accounts:user", pk)


def _device_key(persistent_id: str) -> str:
    return database_key("accounts:otp-device", persistent_id)


def _forget(keys: list[str]) -> None:
    """Drop these rows now, and again once the current transaction commits."""
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001 - the rows age out within ROW_CACHE_SECONDS
        logger.warning("Could not drop %d cached row(s).", len(keys))


def users_forget(pks: Iterable[Any]) -> None:
    """The next request reads these users' rows from the database."""
    _forget([_user_key(pk) for pk in pks])


class CachedUserBackend(ModelBackend):
    """Django's ModelBackend, with `get_user` served from the cache when it can be."""

    def get_user(self, user_id: Any) -> User | None:
        load = super().get_user
        user = cached(_user_key(user_id), lambda: load(user_id), ROW_CACHE_SECONDS)
        return user if user is not None and self.user_can_authenticate(user) else None


def device_of_session(persistent_id: str, load: Callable[[], Device | None]) -> Device | None:
    """The OTP device a session names (django-otp's persistent id), through the cache."""
    return cached(_device_key(persistent_id), load, ROW_CACHE_SECONDS)


def user_saved(sender: type[User], instance: User, **kwargs: Any) -> None:
    """post_save receiver: the next request reads the row as saved."""
    users_forget([instance.pk])


def device_changed(sender: type[Device], instance: Device, **kwargs: Any) -> None:
    """post_save and post_delete receiver for OTP devices."""
    _forget([_device_key(instance.persistent_id)])
