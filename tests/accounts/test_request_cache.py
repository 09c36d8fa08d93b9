"""A signed-in request reads its session, user and OTP device from the cache, and never
a stale one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings

from accounts.models import EmailCodeDevice, User
from accounts.services import reminders_switch, user_deactivate
from tests import factories
from tests.accounts.test_launch_day import _RedisDown
from tests.signin import login_verified

pytestmark = pytest.mark.django_db


def _tables_read(client: Client, path: str = "/") -> tuple[int, set[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    lookups = {
        "session": 'FROM "django_session" WHERE',
        "user": 'FROM "accounts_user" WHERE "accounts_user"."id" =',
    }
    return status, {name for name, lookup in lookups.items() if lookup in sql}


def test_a_signed_in_request_reads_neither_its_session_nor_its_user_from_the_database(
    client: Client, sign_in: Callable[..., Any]
) -> None:
    sign_in(factories.CoachFactory().user)
    client.get("/coach/")  # the first request after sign-in may fill the cache
    assert _tables_read(client, "/coach/") == (200, set())


def test_a_deactivated_user_is_signed_out_at_the_next_request_though_their_row_was_cached(
    client: Client, sign_in: Callable[..., Any], staff: User
) -> None:
    coach = factories.CoachFactory().user
    sign_in(coach)
    assert client.get("/coach/").status_code == 200
    user_deactivate(user=coach, actor=staff)
    response = client.get("/coach/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_changed_user_row_is_read_again_at_the_next_request(
    client: Client, sign_in: Callable[..., Any]
) -> None:
    coach = factories.CoachFactory(user__full_name="Ana Before").user
    sign_in(coach)
    assert client.get("/coach/").wsgi_request.user.full_name == "Ana Before"  # type: ignore[union-attr]
    coach.full_name = "Ana After"
    coach.save()
    assert client.get("/coach/").wsgi_request.user.full_name == "Ana After"  # type: ignore[union-attr]


def test_turning_reminders_off_is_seen_by_the_next_request(
    client: Client, sign_in: Callable[..., Any], participant: User
) -> None:
    sign_in(participant)
    client.get("/")
    reminders_switch(user=participant, enabled=False)
    assert client.get("/").wsgi_request.user.reminders_enabled is False  # type: ignore[union-attr]


def test_with_redis_down_a_signed_in_person_still_sees_their_pages(
    client: Client, settings: Settings, sign_in: Callable[..., Any]
) -> None:
    sign_in(factories.CoachFactory().user)
    settings.CACHES = _RedisDown.CACHES
    status, tables = _tables_read(client, "/coach/")
    assert status == 200
    assert tables == {"session", "user"}


def test_a_session_cookie_replayed_after_sign_out_is_anonymous(
    client: Client, sign_in: Callable[..., Any], participant: User
) -> None:
    sign_in(participant)
    client.get("/")  # the session and the user are now in the cache
    stolen = client.cookies["sessionid"].value
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = stolen
    assert not replay.get("/").wsgi_request.user.is_authenticated


def test_a_staff_request_reads_its_otp_device_from_the_cache_after_the_first(
    client: Client, staff: User
) -> None:
    login_verified(client, staff)
    assert client.get("/ops/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/ops/").status_code == 200
    assert not [q for q in queries.captured_queries if "otp" in q["sql"].lower()]


@pytest.mark.parametrize("revoke", ["unconfirm", "delete"])
def test_a_revoked_otp_device_unverifies_the_session_at_the_next_request(
    client: Client, staff: User, revoke: str
) -> None:
    login_verified(client, staff)
    assert client.get("/ops/").status_code == 200  # the device is now cached
    device = EmailCodeDevice.objects.get(user=staff)
    if revoke == "delete":
        device.delete()
    else:
        device.confirmed = False
        device.save()
    response = client.get("/ops/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
