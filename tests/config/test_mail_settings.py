from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from config.mail import mailers_from_url


def test_smtp_with_starttls_maps_credentials_and_port() -> None:
    default = mailers_from_url("smtp+tls://mailer:s%40cret@smtp.example.com:587")["default"]
    assert default["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert default["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 587,
        "username": "mailer",
        "password": "s@cret",
        "use_ssl": False,
        "use_tls": True,
        "timeout": 10,
    }


def test_smtps_means_implicit_tls_on_465() -> None:
    options = mailers_from_url("smtps://u:p@smtp.example.com")["default"]["OPTIONS"]
    assert options["use_ssl"] is True
    assert options["use_tls"] is False
    assert options["port"] == 465


def test_filemail_keeps_an_absolute_path(tmp_path) -> None:  # noqa: ANN001
    options = mailers_from_url(f"filemail://{tmp_path}")["default"]["OPTIONS"]
    assert options["file_path"] == str(tmp_path)


def test_filemail_really_writes_the_message(tmp_path, settings) -> None:  # noqa: ANN001
    settings.MAILERS = mailers_from_url(f"filemail://{tmp_path}")
    mail.send_mail("Hello", "Body text", "from@example.com", ["to@example.com"])
    written = list(tmp_path.iterdir())
    assert len(written) == 1
    assert "Body text" in written[0].read_text()


@pytest.mark.parametrize(
    "url", ["consolemail://", "locmemmail://", "dummymail://", "smtp://h.example.com"]
)
def test_known_schemes_produce_a_default_mailer(url: str) -> None:
    assert "default" in mailers_from_url(url)


@pytest.mark.parametrize("url", ["gopher://x", "smtp://", "filemail://"])
def test_bad_email_urls_stop_start_up_with_a_reason(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        mailers_from_url(url)
