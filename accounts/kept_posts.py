"""A form posted after the session expired is kept, so nothing typed is lost.

A coach who writes notes for longer than the idle timeout (30 minutes) and then
submits arrives signed out. A view that opts in (`role_required(..., keep_post=True)`)
does not drop that POST: `kept_post_store` encrypts its fields (Fernet) into the
shared cache for KEPT_FOR, and the random token that finds and decrypts them is
kept only in the browser's new session, which signing in keeps
(`auth.login` carries an anonymous session's data over). After sign-in the
page's GET calls `kept_post_take`: it gets the fields back once, at the same
path only, and shows them as typed for the coach to check and submit again.

Notes are private (config/privacy.py): the cache holds only ciphertext under a
key derived from the token, so the cache alone reveals nothing; the token is
never in a URL, a page or a log line; an unclaimed form expires with KEPT_FOR;
and the page that takes it is scoped to its owner (a foreign id is a 404
before anything is taken). See docs/architecture.md, "Rules and where they live".
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.core.cache import cache
from django.http import HttpRequest, QueryDict
from django.utils.crypto import salted_hmac

from config.errors import DomainError

logger = logging.getLogger(__name__)

# How long a kept form waits for its author to sign in again (the code itself
# lasts 10 minutes, so there is time to ask for a second one).
KEPT_FOR = timedelta(minutes=20)
# The largest form kept, in bytes of its fields (notes are at most 10,000 characters).
KEPT_MAX_BYTES = 64 * 1024
# Forms kept in one browser at a time (one per page); the oldest goes first.
KEPT_MAX_FORMS = 3
# Session key: {path: token} of the forms this browser posted while signed out.
KEPT_POSTS = "accounts_kept_posts"
_NOT_KEPT = frozenset({"csrfmiddlewaretoken"})

# What the signed-out POST is told, and what its page says once it is back.
KEPT_NOTICE = (
    "Your session had expired. Sign in again: what you typed is kept for "
    f"{int(KEPT_FOR.total_seconds()) // 60} minutes and comes back on the page."
)
RESTORED_NOTICE = "Your session had expired; check and submit again."


class KeptPostLost(DomainError):
    code = "kept_post_lost"
    message = (
        "Your session had expired, and what you typed was kept for "
        f"{int(KEPT_FOR.total_seconds()) // 60} minutes only. Please enter it again."
    )
    http_status = 200


def _cache_key(token: str) -> str:
    return "kept-post:" + salted_hmac("kept-post-id", token, algorithm="sha256").hexdigest()


def _cipher(token: str) -> Fernet:
    key = salted_hmac("kept-post-key", token, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def kept_post_store(request: HttpRequest) -> bool:
    """Keep the fields of this signed-out POST for its path; False when they could not be."""
    fields = [(name, values) for name, values in request.POST.lists() if name not in _NOT_KEPT]
    payload = json.dumps({"path": request.path, "fields": fields}).encode()
    if len(payload) > KEPT_MAX_BYTES:
        return False
    token = secrets.token_urlsafe(32)
    try:
        cache.set(
            _cache_key(token),
            _cipher(token).encrypt(payload),
            timeout=int(KEPT_FOR.total_seconds()),
        )
    except Exception:  # noqa: BLE001 - a cache outage must not turn a sign-in redirect into a 500
        logger.warning("A signed-out form could not be kept: the cache is unavailable.")
        return False
    kept = dict(request.session.get(KEPT_POSTS, {}))
    kept.pop(request.path, None)
    kept[request.path] = token
    request.session[KEPT_POSTS] = dict(list(kept.items())[-KEPT_MAX_FORMS:])
    return True


def kept_post_take(request: HttpRequest) -> QueryDict | None:
    """The fields this browser posted to this page while signed out, once; None if none.

    Raises KeptPostLost when a form was kept but is gone (expired, or unreadable).
    """
    kept = dict(request.session.get(KEPT_POSTS, {}))
    token = kept.pop(request.path, None)
    if token is None:
        return None
    request.session[KEPT_POSTS] = kept
    key = _cache_key(token)
    try:
        ciphertext = cache.get(key)
        cache.delete(key)
    except Exception:  # noqa: BLE001 - without the cache the form is simply not restored
        logger.warning("A kept form could not be read: the cache is unavailable.")
        raise KeptPostLost() from None
    if ciphertext is None:
        raise KeptPostLost()
    try:
        payload = json.loads(_cipher(token).decrypt(ciphertext, ttl=int(KEPT_FOR.total_seconds())))
    except InvalidToken:
        raise KeptPostLost() from None
    if payload.get("path") != request.path:
        raise KeptPostLost()
    data = QueryDict(mutable=True)
    for name, values in payload["fields"]:
        data.setlist(name, values)
    data._mutable = False
    return data
