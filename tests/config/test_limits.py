"""Request body limits (config/limits.py and the upload settings)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client, RequestFactory
from django.test.client import encode_multipart
from pytest_django import Settings

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the request body was read")

    readline = read


def post_declaring(client: Client, path: str, length: int, content_type: str) -> Any:
    """POST with a declared Content-Length and a body nobody may read."""
    environ: dict[str, Any] = {"wsgi.input": UnreadableBody()}
    return client.generic(
        "POST", path, CONTENT_LENGTH=str(length), CONTENT_TYPE=content_type, **environ
    )


def test_a_200_mb_multipart_body_to_sign_in_is_refused_unread(client: Client) -> None:
    response = post_declaring(client, "/login/", 200 * MB, "multipart/form-data; boundary=x")

    assert response.status_code == 413
    body = response.content.decode()
    assert "That is too large" in body and "at most 5 MB" in body
    assert 'class="site-header"' in body  # the site's own page, not a bare error
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_form_body_over_the_field_limit_is_refused_unread(client: Client) -> None:
    response = post_declaring(client, "/login/", 1 * MB + 1, "application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "at most 1 MB" in response.content.decode()  # the limit it was held to


def test_a_multipart_body_within_the_limit_reaches_the_view(client: Client) -> None:
    cache.clear()  # sign-in rate limits
    upload = SimpleUploadedFile("notes.txt", b"x" * (4 * MB))

    response = client.post("/login/", {"email": "someone@example.com", "file": upload})

    assert response.status_code == 302  # on to step 2, as without the file


def test_an_upload_within_the_limit_is_held_in_memory_never_on_disk() -> None:
    upload = SimpleUploadedFile("photo.jpg", b"x" * (5 * MB - 1024))
    body = encode_multipart("BoUnDaRy", {"photo": upload})
    request = RequestFactory().generic(
        "POST", "/", body, content_type="multipart/form-data; boundary=BoUnDaRy"
    )

    assert isinstance(request.FILES["photo"], InMemoryUploadedFile)


def test_without_the_limit_django_spools_a_large_file_part_to_disk(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the limit protects against: Django streams file parts of any size to a
    temporary file before the view runs, even on a page that takes no file."""
    cache.clear()
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "config.limits.RequestBodyLimitMiddleware"
    ]
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default
    spooled: list[str] = []
    new_file = TemporaryFileUploadHandler.new_file

    def spy(self: TemporaryFileUploadHandler, *args: Any, **kwargs: Any) -> None:
        spooled.append(args[0])
        new_file(self, *args, **kwargs)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", spy)
    upload = SimpleUploadedFile("big.bin", b"x" * (3 * MB))

    client.post("/login/", {"email": "someone@example.com", "file": upload})

    assert spooled == ["file"]
