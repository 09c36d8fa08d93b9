"""The dashboard's unmatched bookings are cached until a delivery, an assignment or a
dismissal commits (scheduling/selectors.py, `unmatched_bookings_page`; docs/architecture.md,
"Cached figures")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache

from accounts.models import Role, User
from config.cached import versions
from scheduling.models import ScheduledSession
from scheduling.selectors import UNMATCHED_SCOPE
from scheduling.services import booking_dismiss
from tests.factories import UserFactory
from tests.scheduling.payloads import calendly, deliver, invitee_uri
from tests.signin import login_verified

START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def _stranger(n: int) -> dict[str, Any]:
    """A booking by someone with no engagement with the coach: unmatched."""
    return calendly(
        "invitee.created", invitee=invitee_uri(n), start=START, email=f"who{n}@else.example"
    )


def _heading(client: Any) -> str:
    page = client.get("/ops/").content.decode()
    return page.split('id="unmatched-heading">')[1].split("</h2>")[0]


def test_a_new_unmatched_booking_shows_once_its_delivery_commits(
    admin_client_verified: Any,
    client: Any,
    endpoint: Any,
    engagement: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert _heading(admin_client_verified) == "Unmatched bookings (0)"
    with django_capture_on_commit_callbacks() as callbacks:
        assert deliver(client, "calendly", endpoint, _stranger(1)).status_code == 200
    # Not committed yet: the cached list still stands (so it is the cache being read).
    assert _heading(admin_client_verified) == "Unmatched bookings (0)"
    for callback in callbacks:
        callback()
    page = admin_client_verified.get("/ops/").content.decode()
    assert "Unmatched bookings (1)" in page
    assert "who1@else.example" in page and "Pia Person" in page  # the assign menu


def test_a_matched_delivery_leaves_the_cached_list_alone(
    admin_client_verified: Any,
    client: Any,
    endpoint: Any,
    engagement: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _heading(admin_client_verified)
    before = versions([UNMATCHED_SCOPE])
    email = engagement.participant.email
    book = calendly("invitee.created", invitee=invitee_uri(1), start=START, email=email)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "calendly", endpoint, book)
    assert ScheduledSession.objects.get().engagement == engagement
    assert versions([UNMATCHED_SCOPE]) == before


def test_an_assigned_or_dismissed_booking_leaves_the_list_after_commit(
    admin_client_verified: Any,
    client: Any,
    endpoint: Any,
    engagement: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "calendly", endpoint, _stranger(1))
        deliver(client, "calendly", endpoint, _stranger(2))
    assert _heading(admin_client_verified) == "Unmatched bookings (2)"
    first, second = ScheduledSession.objects.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_verified.post(
            f"/ops/bookings/{first.public_id}/assign/", {"engagement": str(engagement.public_id)}
        )
    assert response.status_code == 302
    assert _heading(admin_client_verified) == "Unmatched bookings (1)"
    with django_capture_on_commit_callbacks() as callbacks:
        booking_dismiss(scheduled=second, actor=User.objects.get(role=Role.STAFF))
    assert _heading(admin_client_verified) == "Unmatched bookings (1)"
    for callback in callbacks:
        callback()
    assert _heading(admin_client_verified) == "Unmatched bookings (0)"


def test_the_list_is_read_from_the_database_when_the_cache_is_down(
    admin_client_verified: Any,
    client: Any,
    endpoint: Any,
    engagement: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache unreachable")

    deliver(client, "calendly", endpoint, _stranger(1))
    assert _heading(admin_client_verified) == "Unmatched bookings (1)"  # now cached
    deliver(client, "calendly", endpoint, _stranger(2))  # its commit callbacks never run
    for method in ("get_many", "set_many", "add", "set"):
        monkeypatch.setattr(cache, method, down)
    page = admin_client_verified.get("/ops/").content.decode()
    assert "Unmatched bookings (2)" in page and "who2@else.example" in page


@pytest.mark.django_db(transaction=True)
def test_a_committed_delivery_is_seen_by_the_next_request(client: Any, endpoint: Any) -> None:
    """Real commits, no captured callbacks: the delivery's own transaction moves the version."""
    from django.test import Client

    staff = Client()
    login_verified(staff, UserFactory(role=Role.STAFF))
    assert _heading(staff) == "Unmatched bookings (0)"
    assert deliver(client, "calendly", endpoint, _stranger(1)).status_code == 200
    assert _heading(staff) == "Unmatched bookings (1)"
