"""The one open-redirect guard: where a `next` parameter may send someone.

Sign-in (`next` after the code) and the feedback forms (back to the page the
form was on) both use it; see docs/architecture.md, "Rules and where they live".
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """A same-site path to continue to, or "" (no open redirects).

    Only a path is accepted, never a host, not even our own: "//host/..." and
    "https://host/..." are refused whatever the host, and so is anything that
    is not a path at all (redirect() would read "abc" as a view name and fail).
    """
    if not candidate or not candidate.startswith("/"):
        return ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts=set(), require_https=request.is_secure()
    ):
        return candidate
    return ""
