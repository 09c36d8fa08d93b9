"""The receivers refuse what is not a signed, fresh, readable delivery, and write nothing."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduling.models import BookingReference, ScheduledSession
from tests.scheduling.payloads import body_of, calcom, calendly, deliver, invitee_uri

START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
EMAIL = "pia@client.example"


def _calendly(n: int = 1) -> dict[str, Any]:
    return calendly("invitee.created", invitee=invitee_uri(n), start=START, email=EMAIL)


def _calcom() -> dict[str, Any]:
    return calcom("BOOKING_CREATED", uid="bkg-uid-1", start=START, email=EMAIL)


def _nothing_written() -> None:
    assert not ScheduledSession.objects.exists()
    assert not BookingReference.objects.exists()


SAMPLES = {"calendly": _calendly, "calcom": _calcom}


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_a_signed_delivery_is_recorded(
    client: Any, endpoint: Any, engagement: Any, provider: str
) -> None:
    response = deliver(client, provider, endpoint, SAMPLES[provider]())
    assert response.status_code == 200
    booking = ScheduledSession.objects.get()
    assert booking.engagement == engagement
    assert booking.starts_at == START
    assert booking.ends_at == START + timedelta(minutes=60)
    assert booking.provider == provider


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_a_tampered_body_is_refused(
    client: Any, endpoint: Any, engagement: Any, provider: str
) -> None:
    body = body_of(SAMPLES[provider]())
    if provider == "calendly":
        from scheduling.webhooks import calendly_sign

        header = {
            "Calendly-Webhook-Signature": calendly_sign(
                body=body, secret=endpoint.signing_secret, at=int(time.time())
            )
        }
    else:
        from scheduling.webhooks import calcom_sign

        header = {"X-Cal-Signature-256": calcom_sign(body=body, secret=endpoint.signing_secret)}
    tampered = body.replace(b"2026-12-10T09", b"2026-12-11T09")
    url = f"/hooks/{provider}/{endpoint.token}/"
    response = client.post(url, tampered, content_type="application/json", headers=header)
    assert response.status_code == 401
    _nothing_written()


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_a_wrong_key_is_refused(client: Any, endpoint: Any, engagement: Any, provider: str) -> None:
    response = deliver(client, provider, endpoint, SAMPLES[provider](), secret="not-the-secret")
    assert response.status_code == 401
    _nothing_written()


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_a_missing_signature_is_refused(client: Any, endpoint: Any, provider: str) -> None:
    url = f"/hooks/{provider}/{endpoint.token}/"
    response = client.post(url, body_of(SAMPLES[provider]()), content_type="application/json")
    assert response.status_code == 401
    _nothing_written()


def test_a_calendly_signature_older_than_three_minutes_is_refused(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    stale = int(time.time()) - 181
    assert deliver(client, "calendly", endpoint, _calendly(), at=stale).status_code == 401
    _nothing_written()
    fresh = int(time.time()) - 170
    assert deliver(client, "calendly", endpoint, _calendly(), at=fresh).status_code == 200


def test_a_calendly_signature_from_the_future_is_refused(client: Any, endpoint: Any) -> None:
    assert (
        deliver(client, "calendly", endpoint, _calendly(), at=int(time.time()) + 600).status_code
        == 401
    )
    _nothing_written()


def test_a_malformed_calendly_header_is_refused(client: Any, endpoint: Any) -> None:
    for header in ["", "t=abc,v1=00", "v1=deadbeef", "t=123", "garbage"]:
        response = client.post(
            f"/hooks/calendly/{endpoint.token}/",
            body_of(_calendly()),
            content_type="application/json",
            headers={"Calendly-Webhook-Signature": header},
        )
        assert response.status_code == 401, header
    _nothing_written()


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_an_unknown_token_is_a_404_and_logged_without_payload_or_token(
    client: Any, endpoint: Any, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = "x" * 32
    with caplog.at_level(logging.INFO):
        response = deliver(client, provider, endpoint, SAMPLES[provider](), token=token)
    assert response.status_code == 404
    _nothing_written()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "booking delivery refused" in logged
    assert token not in logged
    assert EMAIL not in logged


def test_a_refusal_log_line_holds_neither_payload_nor_token(
    client: Any, endpoint: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        deliver(client, "calcom", endpoint, _calcom(), secret="wrong")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "reason=signature does not match" in logged
    assert endpoint.token not in logged and EMAIL not in logged and "bkg-uid-1" not in logged


BAD_BODIES: list[tuple[str, bytes]] = [
    ("not json", b"{not json"),
    ("a list", b"[]"),
    ("not utf-8", b"\xff\xfe"),
]


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
@pytest.mark.parametrize(("label", "body"), BAD_BODIES)
def test_malformed_json_is_a_400(
    client: Any, endpoint: Any, provider: str, label: str, body: bytes
) -> None:
    assert deliver(client, provider, endpoint, body).status_code == 400
    _nothing_written()


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


def _set(data: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    "broken",
    [
        lambda: _without(_calendly(), "payload"),
        lambda: _without(_calendly(), "payload", "uri"),
        lambda: _without(_calendly(), "payload", "email"),
        lambda: _without(_calendly(), "payload", "scheduled_event"),
        lambda: _set(_calendly(), "tomorrow at ten", "payload", "scheduled_event", "start_time"),
        lambda: _set(
            _calendly(), "2026-12-10T09:00:00", "payload", "scheduled_event", "start_time"
        ),
        lambda: _set(_calendly(), "2026-12-10T08:00:00Z", "payload", "scheduled_event", "end_time"),
        lambda: _set(_calendly(), "not an address", "payload", "email"),
        lambda: _set(_calendly(), 42, "payload", "uri"),
    ],
)
def test_calendly_missing_fields_and_bad_times_are_a_400(
    client: Any, endpoint: Any, broken: Any
) -> None:
    assert deliver(client, "calendly", endpoint, broken()).status_code == 400
    _nothing_written()


@pytest.mark.parametrize(
    "broken",
    [
        lambda: _without(_calcom(), "payload", "uid"),
        lambda: _set(_calcom(), [], "payload", "attendees"),
        lambda: _set(_calcom(), "soon", "payload", "startTime"),
        lambda: _without(_calcom(), "payload", "endTime"),
    ],
)
def test_calcom_missing_fields_and_bad_times_are_a_400(
    client: Any, endpoint: Any, broken: Any
) -> None:
    assert deliver(client, "calcom", endpoint, broken()).status_code == 400
    _nothing_written()


@pytest.mark.parametrize(
    ("provider", "data"),
    [
        ("calendly", {"event": "routing_form_submission.created", "payload": {}}),
        ("calcom", {"triggerEvent": "PING", "createdAt": "2026-11-20T09:12:02Z", "payload": {}}),
        ("calcom", {"triggerEvent": "MEETING_ENDED", "payload": {}}),
    ],
)
def test_other_events_are_acknowledged_and_ignored(
    client: Any, endpoint: Any, provider: str, data: Any
) -> None:
    assert deliver(client, provider, endpoint, data).status_code == 200
    _nothing_written()


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_a_body_over_256_kb_is_a_413(client: Any, endpoint: Any, provider: str) -> None:
    data = SAMPLES[provider]()
    data["padding"] = "x" * (256 * 1024)
    response = deliver(client, provider, endpoint, data)
    assert response.status_code == 413
    assert "at most 256 KB" in response.content.decode()  # its own limit, not the 5 MB
    _nothing_written()


def test_only_post_is_accepted(client: Any, endpoint: Any) -> None:
    response = client.get(f"/hooks/calendly/{endpoint.token}/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_burst_is_rate_limited_per_coach_token_and_the_rest_get_through(
    client: Any, endpoint: Any, engagement: Any, settings: Any
) -> None:
    from django.core.cache import cache

    from scheduling.models import BookingEndpoint
    from tests.factories import CoachFactory

    cache.clear()
    settings.BOOKING_HOOK_RATE = "3/m"
    answers = [deliver(client, "calendly", endpoint, _calendly(n)).status_code for n in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert ScheduledSession.objects.count() == 3
    other = BookingEndpoint.objects.create(coach=CoachFactory())
    assert deliver(client, "calendly", other, _calendly(9)).status_code == 200
    cache.clear()
