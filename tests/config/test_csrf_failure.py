from __future__ import annotations

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_missing_csrf_token_gets_a_friendly_403_page_and_changes_nothing() -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/login/", {"email": "someone@example.com"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form has expired" in body
    assert "Nothing was sent." in body
    assert "CSRF verification failed" not in body  # not Django's technical page
    assert '<main id="main"' in body  # the site's own layout
    assert DBTaskResult.objects.count() == 0 and AuditEvent.objects.count() == 0
