"""Create, reschedule and cancel, for both providers, in order, out of order and twice."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engagements.models import Status
from scheduling.models import BookingEndpoint, ScheduledSession, SessionStatus, UnmatchedReason
from tests.factories import CoachFactory, EngagementFactory, UserFactory, engagement_with_coach
from tests.scheduling.payloads import calcom, calendly, deliver, invitee_uri

START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
MOVED = datetime(2026, 12, 12, 15, 30, tzinfo=UTC)
EMAIL = "pia@client.example"

OLD, NEW = invitee_uri(1), invitee_uri(2)

CALENDLY_BOOK = calendly("invitee.created", invitee=OLD, start=START, email=EMAIL)
CALENDLY_MOVE_CANCEL = calendly(
    "invitee.canceled", invitee=OLD, start=START, email=EMAIL, rescheduled=True, new_invitee=NEW
)
CALENDLY_MOVE_CREATE = calendly(
    "invitee.created", invitee=NEW, start=MOVED, email=EMAIL, old_invitee=OLD
)
CALENDLY_CANCEL = calendly("invitee.canceled", invitee=OLD, start=START, email=EMAIL)
CALENDLY_CANCEL_NEW = calendly("invitee.canceled", invitee=NEW, start=MOVED, email=EMAIL)

CALCOM_BOOK = calcom("BOOKING_CREATED", uid="uid-old", start=START, email=EMAIL)
CALCOM_MOVE = calcom(
    "BOOKING_RESCHEDULED", uid="uid-new", start=MOVED, email=EMAIL, reschedule_uid="uid-old"
)
CALCOM_CANCEL = calcom("BOOKING_CANCELLED", uid="uid-old", start=START, email=EMAIL)
CALCOM_CANCEL_NEW = calcom("BOOKING_CANCELLED", uid="uid-new", start=MOVED, email=EMAIL)


def _send(client: Any, endpoint: Any, provider: str, *events: dict[str, Any]) -> None:
    for data in events:
        assert deliver(client, provider, endpoint, data).status_code == 200


def _only() -> ScheduledSession:
    rows = list(ScheduledSession.objects.all())
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize(
    ("provider", "book"), [("calendly", CALENDLY_BOOK), ("calcom", CALCOM_BOOK)]
)
def test_a_booking_is_matched_to_the_participants_engagement(
    client: Any, endpoint: Any, engagement: Any, provider: str, book: Any
) -> None:
    _send(client, endpoint, provider, book)
    booking = _only()
    assert booking.engagement == engagement
    assert booking.status == SessionStatus.BOOKED
    assert booking.unmatched_reason == ""
    assert [entry["event"] for entry in booking.history] == [
        book.get("event") or book["triggerEvent"]
    ]


def test_the_email_matches_whatever_its_case(client: Any, endpoint: Any, engagement: Any) -> None:
    data = calendly("invitee.created", invitee=OLD, start=START, email="PIA@Client.Example")
    _send(client, endpoint, "calendly", data)
    assert _only().engagement == engagement


def test_a_calcom_reschedule_that_names_no_old_booking_is_kept_as_a_booking(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    data = calcom("BOOKING_RESCHEDULED", uid="uid-new", start=MOVED, email=EMAIL)
    _send(client, endpoint, "calcom", data)
    booking = _only()
    assert (booking.provider_booking_id, booking.starts_at) == ("uid-new", MOVED)
    assert booking.status == SessionStatus.BOOKED
    assert booking.engagement == engagement


CALENDLY_ORDERS = list(
    itertools.permutations([CALENDLY_BOOK, CALENDLY_MOVE_CANCEL, CALENDLY_MOVE_CREATE])
)


@pytest.mark.parametrize("order", CALENDLY_ORDERS)
def test_a_calendly_reschedule_moves_the_same_session_in_any_order(
    client: Any, endpoint: Any, engagement: Any, order: Any
) -> None:
    _send(client, endpoint, "calendly", *order)
    booking = _only()
    assert booking.status == SessionStatus.RESCHEDULED
    assert (booking.starts_at, booking.ends_at) == (MOVED, MOVED + timedelta(hours=1))
    assert booking.provider_booking_id == NEW
    assert booking.engagement == engagement
    assert len(booking.history) == 3


@pytest.mark.parametrize("order", list(itertools.permutations([CALCOM_BOOK, CALCOM_MOVE])))
def test_a_calcom_reschedule_moves_the_same_session_in_any_order(
    client: Any, endpoint: Any, engagement: Any, order: Any
) -> None:
    _send(client, endpoint, "calcom", *order)
    booking = _only()
    assert booking.status == SessionStatus.RESCHEDULED
    assert booking.starts_at == MOVED
    assert booking.provider_booking_id == "uid-new"


@pytest.mark.parametrize(
    ("provider", "book", "cancel"),
    [("calendly", CALENDLY_BOOK, CALENDLY_CANCEL), ("calcom", CALCOM_BOOK, CALCOM_CANCEL)],
)
def test_a_cancel_ends_cancelled_whichever_arrives_first(
    client: Any, endpoint: Any, engagement: Any, provider: str, book: Any, cancel: Any
) -> None:
    _send(client, endpoint, provider, cancel, book)
    assert _only().status == SessionStatus.CANCELLED
    ScheduledSession.objects.all().delete()
    from scheduling.models import BookingReference

    BookingReference.objects.all().delete()
    _send(client, endpoint, provider, book, cancel)
    assert _only().status == SessionStatus.CANCELLED


@pytest.mark.parametrize(
    ("provider", "events"),
    [
        (
            "calendly",
            [CALENDLY_BOOK, CALENDLY_MOVE_CANCEL, CALENDLY_MOVE_CREATE, CALENDLY_CANCEL_NEW],
        ),
        ("calcom", [CALCOM_BOOK, CALCOM_MOVE, CALCOM_CANCEL_NEW]),
    ],
)
def test_a_rescheduled_session_cancelled_later_is_cancelled_in_any_order(
    client: Any, endpoint: Any, engagement: Any, provider: str, events: Any
) -> None:
    _send(client, endpoint, provider, *reversed(events))
    booking = _only()
    assert booking.status == SessionStatus.CANCELLED
    assert booking.starts_at == MOVED


@pytest.mark.parametrize(
    ("provider", "events"),
    [
        ("calendly", [CALENDLY_BOOK, CALENDLY_MOVE_CANCEL, CALENDLY_MOVE_CREATE]),
        ("calcom", [CALCOM_BOOK, CALCOM_MOVE, CALCOM_CANCEL_NEW]),
    ],
)
def test_every_event_delivered_twice_changes_nothing(
    client: Any, endpoint: Any, engagement: Any, provider: str, events: Any
) -> None:
    _send(client, endpoint, provider, *events)
    before = ScheduledSession.objects.values().get()
    for data in events:
        response = deliver(client, provider, endpoint, data)
        assert response.status_code == 200
        assert response.json()["detail"] == "Already recorded."
    assert ScheduledSession.objects.values().get() == before


def test_a_booking_nobody_matches_is_kept_unmatched(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    data = calendly("invitee.created", invitee=OLD, start=START, email="stranger@else.example")
    _send(client, endpoint, "calendly", data)
    booking = _only()
    assert booking.engagement is None
    assert booking.unmatched_reason == UnmatchedReason.NO_ENGAGEMENT


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.CANCELLED])
def test_a_booking_for_a_closed_engagement_is_unmatched_with_the_reason(
    client: Any, endpoint: Any, engagement: Any, status: str
) -> None:
    engagement.transition_to(status, reason="closed")
    _send(client, endpoint, "calcom", CALCOM_BOOK)
    booking = _only()
    assert booking.engagement is None
    assert booking.unmatched_reason == UnmatchedReason.ENGAGEMENT_CLOSED


def test_another_coachs_participant_does_not_match(client: Any, endpoint: Any) -> None:
    engagement_with_coach(coach=CoachFactory(), participant=UserFactory(email=EMAIL))
    _send(client, endpoint, "calcom", CALCOM_BOOK)
    assert _only().unmatched_reason == UnmatchedReason.NO_ENGAGEMENT


def test_an_invited_participant_without_this_coach_does_not_match(
    client: Any, endpoint: Any
) -> None:
    EngagementFactory(participant=UserFactory(email=EMAIL))
    _send(client, endpoint, "calcom", CALCOM_BOOK)
    assert _only().engagement is None


def test_the_same_booking_id_at_two_coaches_stays_apart(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    """A coach's signed delivery never touches another coach's bookings."""
    _send(client, endpoint, "calcom", CALCOM_BOOK)
    other = BookingEndpoint.objects.create(coach=CoachFactory())
    _send(client, other, "calcom", CALCOM_CANCEL)
    mine = ScheduledSession.objects.get(coach=endpoint.coach)
    assert mine.status == SessionStatus.BOOKED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_a_reschedule_end_in_one_session(run_in_threads: Any) -> None:
    from django.test import Client

    coach = CoachFactory()
    engagement = engagement_with_coach(coach=coach, participant=UserFactory(email=EMAIL))
    endpoint = BookingEndpoint.objects.create(coach=coach)
    events = [CALENDLY_BOOK, CALENDLY_MOVE_CANCEL, CALENDLY_MOVE_CREATE, CALENDLY_BOOK]
    answers = run_in_threads(
        lambda i: deliver(Client(), "calendly", endpoint, events[i]).status_code, 4
    )
    assert answers == [200, 200, 200, 200]
    booking = _only()
    assert booking.status == SessionStatus.RESCHEDULED
    assert booking.starts_at == MOVED
    assert booking.engagement_id == engagement.pk
    assert len(booking.history) == 3
