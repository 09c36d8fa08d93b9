"""Realistic webhook bodies, shaped on the providers' documented payloads, signed as
the provider signs them: for the tests, `manage.py simulate_booking` and the bench."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from scheduling.webhooks import calcom_sign, calendly_sign

CALENDLY_ORG = "https://api.calendly.com/organizations/AAAAAAAAAAAAAAAA"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def calendly(
    event: str,
    *,
    invitee: str,
    start: datetime,
    minutes: int = 60,
    email: str,
    name: str = "Pia Person",
    rescheduled: bool = False,
    old_invitee: str | None = None,
    new_invitee: str | None = None,
) -> dict[str, Any]:
    """An `invitee.created` / `invitee.canceled` delivery (Calendly webhook v2 shape)."""
    event_uuid = invitee.split("/scheduled_events/")[1].split("/")[0]
    end = start + timedelta(minutes=minutes)
    payload: dict[str, Any] = {
        "cancel_url": f"https://calendly.com/cancellations/{event_uuid}",
        "created_at": "2026-11-20T09:12:01.000000Z",
        "email": email,
        "event": f"https://api.calendly.com/scheduled_events/{event_uuid}",
        "first_name": None,
        "last_name": None,
        "name": name,
        "new_invitee": new_invitee,
        "old_invitee": old_invitee,
        "questions_and_answers": [],
        "reschedule_url": f"https://calendly.com/reschedulings/{event_uuid}",
        "rescheduled": rescheduled,
        "status": "canceled" if event == "invitee.canceled" else "active",
        "text_reminder_number": None,
        "timezone": "Europe/Paris",
        "tracking": {"utm_campaign": None, "utm_source": None, "utm_medium": None},
        "updated_at": "2026-11-20T09:12:02.000000Z",
        "uri": invitee,
        "scheduled_event": {
            "uri": f"https://api.calendly.com/scheduled_events/{event_uuid}",
            "name": "Coaching session (60 min)",
            "status": "canceled" if event == "invitee.canceled" else "active",
            "start_time": _iso(start),
            "end_time": _iso(end),
            "event_type": "https://api.calendly.com/event_types/BBBBBBBBBBBBBBBB",
            "location": {"type": "google_conference", "join_url": "https://meet.google.com/x"},
            "invitees_counter": {"total": 1, "active": 1, "limit": 1},
            "created_at": "2026-11-20T09:12:01.000000Z",
            "updated_at": "2026-11-20T09:12:01.000000Z",
            "event_memberships": [{"user": "https://api.calendly.com/users/CCCCCCCCCCCCCCCC"}],
            "event_guests": [],
        },
    }
    if event == "invitee.canceled":
        payload["cancellation"] = {
            "canceled_by": name,
            "reason": "Rescheduled" if rescheduled else "Something came up",
            "canceler_type": "invitee",
        }
    return {
        "created_at": "2026-11-20T09:12:02.000000Z",
        "created_by": "https://api.calendly.com/users/CCCCCCCCCCCCCCCC",
        "event": event,
        "payload": payload,
    }


def invitee_uri(n: int) -> str:
    return f"https://api.calendly.com/scheduled_events/EVENT{n:04d}/invitees/INVITEE{n:04d}"


def calcom(
    trigger: str,
    *,
    uid: str,
    start: datetime,
    minutes: int = 60,
    email: str,
    name: str = "Pia Person",
    reschedule_uid: str | None = None,
) -> dict[str, Any]:
    """A BOOKING_CREATED / BOOKING_RESCHEDULED / BOOKING_CANCELLED delivery (Cal.com shape)."""
    payload: dict[str, Any] = {
        "type": "coaching-60",
        "title": f"Coaching session between Carla Coach and {name}",
        "description": "",
        "additionalNotes": "",
        "customInputs": {},
        "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "organizer": {
            "id": 5,
            "name": "Carla Coach",
            "email": "carla@coaches.example",
            "username": "carla",
            "timeZone": "Europe/Paris",
            "language": {"locale": "en"},
        },
        "responses": {"name": {"label": "your_name", "value": name}},
        "attendees": [
            {
                "email": email,
                "name": name,
                "firstName": "",
                "lastName": "",
                "timeZone": "Europe/Berlin",
                "language": {"locale": "en"},
            }
        ],
        "location": "integrations:daily",
        "destinationCalendar": None,
        "hideCalendarNotes": False,
        "requiresConfirmation": None,
        "eventTypeId": 7,
        "seatsShowAttendees": True,
        "uid": uid,
        "bookingId": 91,
        "conferenceData": None,
        "metadata": {"videoCallUrl": "https://app.cal.com/video/x"},
        "status": "CANCELLED" if trigger == "BOOKING_CANCELLED" else "ACCEPTED",
    }
    if trigger == "BOOKING_RESCHEDULED":
        payload.update(rescheduleUid=reschedule_uid, rescheduleId=90)
    if trigger == "BOOKING_CANCELLED":
        payload.update(cancellationReason="Something came up", rescheduledToUid=None)
    return {"triggerEvent": trigger, "createdAt": "2026-11-20T09:12:02.020Z", "payload": payload}


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def signed_headers(
    provider: str, body: bytes, *, secret: str, at: int | None = None
) -> dict[str, str]:
    """The signature header `provider` would send with `body` (Calendly: at `at`, or now)."""
    if provider == "calendly":
        stamp = int(time.time()) if at is None else at
        return {"Calendly-Webhook-Signature": calendly_sign(body=body, secret=secret, at=stamp)}
    return {"X-Cal-Signature-256": calcom_sign(body=body, secret=secret)}
