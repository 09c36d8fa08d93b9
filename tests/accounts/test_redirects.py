"""The one open-redirect guard: a `next` is a path on this site, or nothing."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.redirects import safe_next

# Each of these would leave the site (or run script) if it were followed.
OFF_SITE = [
    "//evil.com",
    "//evil.com/path",
    "https://evil.com",
    "http://evil.com/",
    "/\\evil.com",
    "/\\\\evil.com",
    "\\\\evil.com",
    "///evil.com",
    "/\t/evil.com",
    "javascript:alert(1)",
    "javascript:",
    "evil.com",
    " //evil.com",
    # Our own host is refused too: only a path is ever accepted.
    "//testserver/coach/",
    "http://testserver/coach/",
]


@pytest.mark.parametrize("candidate", OFF_SITE)
@pytest.mark.parametrize("secure", [False, True])
def test_anything_that_is_not_a_path_on_this_site_is_dropped(candidate: str, secure: bool) -> None:
    request = RequestFactory().get("/", secure=secure)
    assert safe_next(request, candidate) == ""


@pytest.mark.parametrize("candidate", [None, ""])
def test_no_candidate_gives_nothing(candidate: str | None) -> None:
    assert safe_next(RequestFactory().get("/"), candidate) == ""


@pytest.mark.parametrize("candidate", ["/", "/coach/engagements/?tab=open", "/a/b#c"])
def test_a_path_on_this_site_is_kept_as_it_is(candidate: str) -> None:
    assert safe_next(RequestFactory().get("/"), candidate) == candidate
