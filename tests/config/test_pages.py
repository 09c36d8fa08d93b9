from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client


@pytest.mark.django_db
def test_home_page_renders_with_landmarks_and_security_headers(client: Client) -> None:
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    for landmark in ("<header", "<nav", "<main", "<footer", 'lang="en"'):
        assert landmark in body
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_every_page_links_the_favicon_and_has_a_description(client: Client) -> None:
    body = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    assert re.search(r'<meta name="description" content="Coachdesk runs [^"]+">', body)
    assert finders.find("favicon.svg")


@pytest.mark.django_db
def test_the_admin_links_the_favicon_too(admin_client_verified: Client) -> None:
    body = admin_client_verified.get("/admin/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    assert "Coachdesk back office" in body
