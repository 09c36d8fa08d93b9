"""What the providers send, checked and read into one shape (docs/architecture.md, "Bookings").

Calendly signs `Calendly-Webhook-Signature: t=<unix time>,v1=<hex>`, the
HMAC-SHA256 of "<t>.<raw body>" with the signing key; Cal.com signs
`X-Cal-Signature-256: <hex>`, the HMAC-SHA256 of the raw body with the secret.
Both are compared in constant time, on the raw bytes, before the body is parsed.

Payload fields follow the providers' documented webhook bodies:
- Calendly: {"event": "invitee.created" | "invitee.canceled", "created_at", "payload":
  {"uri" (the invitee, our booking id), "email", "name", "rescheduled", "old_invitee",
  "new_invitee", "scheduled_event": {"start_time", "end_time", ...}, ...}}.
  A reschedule is a cancel of the old invitee (rescheduled: true, new_invitee) and a
  create of the new one (old_invitee).
- Cal.com: {"triggerEvent": "BOOKING_CREATED" | "BOOKING_RESCHEDULED" |
  "BOOKING_CANCELLED", "createdAt", "payload": {"uid", "startTime", "endTime",
  "attendees": [{"email", "name", "timeZone"}], "rescheduleUid" (on a reschedule, the
  booking it replaces), "rescheduledToUid" (on a cancel caused by a reschedule), ...}}.
Other events (Calendly's routing forms, Cal.com's PING, MEETING_ENDED...) are
acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from scheduling.models import Provider

# Calendly: a signature older than this is a replay (the 3 minutes); a
# timestamp as far in the future is refused too.
CALENDLY_TOLERANCE = timedelta(minutes=3)
# The longest booking we take: anything longer is not a coaching session.
LONGEST_BOOKING = timedelta(hours=24)
MAX_ID_LENGTH = 255


class HookRefused(Exception):
    """A delivery we do not act on; `status` is the answer, `reason` goes to the log."""

    status = 400

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class BadSignature(HookRefused):
    status = 401


class BadPayload(HookRefused):
    status = 400


@dataclass(frozen=True)
class BookingEvent:
    """One delivery, provider-neutral. `previous`: the booking this one replaces (the new
    half of a reschedule); `replaced_by`: the booking that replaces this one."""

    provider: str
    name: str
    cancelled: bool
    reference: str
    starts_at: datetime
    ends_at: datetime
    email: str
    attendee_name: str = ""
    previous: str = ""
    replaced_by: str = ""


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def calendly_verify(*, header: str, body: bytes, secret: str, now: datetime) -> None:
    """Raise BadSignature unless `header` signs `body` with `secret`, within 3 minutes."""
    parts = dict(
        (key.strip(), value.strip())
        for key, _, value in (item.partition("=") for item in header.split(","))
    )
    timestamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not signature:
        raise BadSignature("missing or malformed signature header")
    expected = _hmac_hex(secret, timestamp.encode() + b"." + body)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise BadSignature("signature does not match")
    age = now.timestamp() - int(timestamp)
    if abs(age) > CALENDLY_TOLERANCE.total_seconds():
        raise BadSignature("stale timestamp" if age > 0 else "timestamp in the future")


def calcom_verify(*, header: str, body: bytes, secret: str) -> None:
    """Raise BadSignature unless `header` is the hex HMAC-SHA256 of `body` with `secret`."""
    if not header:
        raise BadSignature("missing signature header")
    expected = _hmac_hex(secret, body)
    if not hmac.compare_digest(expected.encode(), header.strip().lower().encode()):
        raise BadSignature("signature does not match")


def calendly_sign(*, body: bytes, secret: str, at: int) -> str:
    """The header Calendly would send: for tests, the demo and the bench."""
    return f"t={at},v1={_hmac_hex(secret, str(at).encode() + b'.' + body)}"


def calcom_sign(*, body: bytes, secret: str) -> str:
    """The header Cal.com would send: for tests, the demo and the bench."""
    return _hmac_hex(secret, body)


# --- Reading the body -------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadPayload("body is not JSON") from None
    if not isinstance(data, dict):
        raise BadPayload("body is not a JSON object")
    return data


def _object(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise BadPayload(f"missing object {key}")
    return value


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadPayload(f"missing text {key}")
    if len(value) > MAX_ID_LENGTH:
        raise BadPayload(f"{key} is too long")
    return value.strip()


def _email(data: dict[str, Any], key: str) -> str:
    value = _text(data, key)
    try:
        validate_email(value)
    except ValidationError:
        raise BadPayload(f"{key} is not an email address") from None
    return value


def _time(data: dict[str, Any], key: str) -> datetime:
    value = _text(data, key)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadPayload(f"{key} is not a date and time") from None
    if moment.tzinfo is None:
        raise BadPayload(f"{key} has no time zone")
    return moment


def _times(data: dict[str, Any], start: str, end: str) -> tuple[datetime, datetime]:
    starts_at, ends_at = _time(data, start), _time(data, end)
    if not timedelta(0) < ends_at - starts_at <= LONGEST_BOOKING:
        raise BadPayload("the booking's end is not after its start, or it lasts over a day")
    return starts_at, ends_at


CALENDLY_EVENTS = {"invitee.created": False, "invitee.canceled": True}


def calendly_event(body: bytes) -> BookingEvent | None:
    """The booking event in a Calendly delivery; None for events we do not follow."""
    data = _json_object(body)
    name = _text(data, "event")
    if name not in CALENDLY_EVENTS:
        return None
    cancelled = CALENDLY_EVENTS[name]
    payload = _object(data, "payload")
    starts_at, ends_at = _times(_object(payload, "scheduled_event"), "start_time", "end_time")
    rescheduled = payload.get("rescheduled") is True
    return BookingEvent(
        provider=Provider.CALENDLY,
        name=name,
        cancelled=cancelled,
        reference=_text(payload, "uri"),
        starts_at=starts_at,
        ends_at=ends_at,
        email=_email(payload, "email"),
        attendee_name=_text(payload, "name", required=False),
        previous="" if cancelled else _text(payload, "old_invitee", required=False),
        replaced_by=_text(payload, "new_invitee", required=False)
        if cancelled and rescheduled
        else "",
    )


CALCOM_EVENTS = {"BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"}


def calcom_event(body: bytes) -> BookingEvent | None:
    """The booking event in a Cal.com delivery; None for events we do not follow."""
    data = _json_object(body)
    name = _text(data, "triggerEvent")
    if name not in CALCOM_EVENTS:
        return None
    payload = _object(data, "payload")
    attendees = payload.get("attendees")
    if not isinstance(attendees, list) or not attendees or not isinstance(attendees[0], dict):
        raise BadPayload("missing attendees")
    starts_at, ends_at = _times(payload, "startTime", "endTime")
    cancelled = name == "BOOKING_CANCELLED"
    previous = ""
    if name == "BOOKING_RESCHEDULED":
        # The booking it replaces; without it, the new booking is still kept (as a
        # booking of its own) rather than refused and lost after the retries.
        previous = _text(payload, "rescheduleUid", required=False)
    return BookingEvent(
        provider=Provider.CALCOM,
        name=name,
        cancelled=cancelled,
        reference=_text(payload, "uid"),
        starts_at=starts_at,
        ends_at=ends_at,
        email=_email(attendees[0], "email"),
        attendee_name=_text(attendees[0], "name", required=False),
        previous=previous,
        replaced_by=_text(payload, "rescheduledToUid", required=False) if cancelled else "",
    )
