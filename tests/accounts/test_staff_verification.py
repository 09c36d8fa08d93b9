"""Staff pages outside the admin (ops dashboard, reports, exports) need a code-verified
session too, as /admin/ does."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/ops/",
    "/ops/programs/",
    "/ops/exports/engagements.csv",
    "/ops/exports/sessions.csv",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_staff_session_not_verified_by_code_is_sent_to_sign_in(
    client: Client, staff: User, path: str
) -> None:
    client.force_login(staff)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_code_verified_staff_session_is_let_in(client: Client, staff: User, path: str) -> None:
    login_verified(client, staff)
    assert client.get(path).status_code == 200
