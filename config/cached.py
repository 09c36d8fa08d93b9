"""Figures kept in the shared cache under keys that name what they were computed from
(docs/architecture.md, "Cached figures").

A key names a state: the last nudge run and its outcome (nudges/selectors.py), or
the version of a scope such as one program's rows ("program:12"). A version is a
random token that every change to its scope replaces once its transaction has
committed (`changed`). Nothing is invalidated in place: a change makes readers ask
for a new key, and the old entries expire unread.

Readers read the version before they compute, so a figure stored under a version
was computed from rows read after that version was current: a reader who sees the
token set after a commit reads the committed rows. A reader who read the version
before the commit may store older figures, but under the old token, which nobody
asks for any more. A missing version (first use, evicted) gets a new token, under
which nothing is stored yet.

If the cache cannot be reached, figures are computed from the database as if
nothing were cached: staff pages are slower, never wrong or down.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# A version outlives any figure stored under it; an evicted one only costs a recomputation.
VERSION_SECONDS = 30 * 24 * 60 * 60


def _token() -> str:
    return secrets.token_hex(8)


def database_key(kind: str, name: object) -> str:
    """A cache key that names this database too: several databases may share one
    cache (the bench's data sets of several sizes), and their rows are not the same."""
    return f"{kind}:{connection.settings_dict['NAME']}:{name}"


def _version_key(scope: str) -> str:
    return database_key("version", scope)


def versions(scopes: Collection[str]) -> dict[str, str]:
    """The current version of each scope, in one round trip once they exist."""
    keys = {_version_key(scope): scope for scope in scopes}
    try:
        found: dict[str, Any] = cache.get_many(list(keys))
        missing = [key for key in keys if key not in found]
        if missing:
            # add, not set: of two first readers, one token wins and both use it.
            for key in missing:
                cache.add(key, _token(), VERSION_SECONDS)
            found.update(cache.get_many(missing))
    except Exception:  # noqa: BLE001 - any cache failure: compute everything afresh
        logger.warning("cache unavailable: figures computed without it", exc_info=True)
        found = {}
    # A token that could not be stored is unique, so nothing is read under it.
    return {scope: found.get(key) or _token() for key, scope in keys.items()}


def changed(scope: str) -> None:
    """The figures of `scope` are out of date once the current transaction commits.

    The new version is set after the commit (at once outside a transaction), so no
    reader can compute from the rows before the change and store the result under
    the new version; a rolled-back change leaves the version alone. A failure to
    reach the cache is logged and does not undo the committed change.
    """
    transaction.on_commit(
        lambda: cache.set(_version_key(scope), _token(), VERSION_SECONDS), robust=True
    )


def cached_many[K: Hashable, T](
    keys: Mapping[K, str], compute: Callable[[list[K]], dict[K, T]], timeout: int
) -> dict[K, T]:
    """For each item, the value stored under its key, or compute(the missing items).

    One round trip for the stored ones; `compute` is called once, with every item
    that was missing. A None it returns (no such row) is passed on, not stored. A
    cache that failed to answer is not asked to store either: one failed round trip
    per call, not two, while it is down.
    """
    try:
        found: dict[str, Any] = cache.get_many(list(keys.values()))
    except Exception:  # noqa: BLE001 - any cache failure: compute everything afresh
        logger.warning("cache unavailable: computed without it", exc_info=True)
        return compute(list(keys))
    values = {item: found[key] for item, key in keys.items() if found.get(key) is not None}
    missing = [item for item in keys if item not in values]
    if missing:
        fresh = compute(missing)
        keep = {keys[item]: fresh[item] for item in missing if fresh[item] is not None}
        try:
            if keep:
                cache.set_many(keep, timeout)
        except Exception:  # noqa: BLE001 - the values are right; only not kept
            logger.warning("cache unavailable: not kept", exc_info=True)
        values.update(fresh)
    return values


def cached[T](key: str, compute: Callable[[], T], timeout: int) -> T:
    """The value stored under `key`, or compute() (stored under it for `timeout` seconds)."""
    return cached_many({key: key}, lambda _missing: {key: compute()}, timeout)[key]
