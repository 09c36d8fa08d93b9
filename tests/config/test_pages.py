from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_home_page_renders_with_landmarks_and_security_headers(client) -> None:  # noqa: ANN001
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    for landmark in ("<header", "<nav", "<main", "<footer", 'lang="en"'):
        assert landmark in body
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
