from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from pytest_django import Settings

from accounts.checks import demo_mailer_check
from accounts.emails import build_email
from config.mail import CompactConsoleBackend, mailers_from_url
from tests.factories import UserFactory


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


def test_filemail_keeps_an_absolute_path(tmp_path: Path) -> None:
    options = mailers_from_url(f"filemail://{tmp_path}")["default"]["OPTIONS"]
    assert options["file_path"] == str(tmp_path)


def test_filemail_really_writes_the_message(tmp_path: Path, settings: Settings) -> None:
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


@pytest.mark.django_db
def test_the_quick_starts_console_mailer_prints_one_short_line_per_email(
    settings: Settings,
) -> None:
    assert mailers_from_url("compactconsolemail://")["default"] == {
        "BACKEND": "config.mail.CompactConsoleBackend",
        "OPTIONS": {},
    }
    settings.SITE_URL = "http://127.0.0.1:8000"
    ada = UserFactory(email="ada@example.com", full_name="Ada")
    stream = StringIO()
    code = build_email(
        template="login_code", recipient=ada, context={"code": "123456", "minutes": 10}
    )
    invitation = build_email(
        template="invitation",
        recipient=ada,
        context={"user": ada, "program": {"name": "Leaders"}},
    )

    question = mail.EmailMessage(
        subject="Has it happened?", body="Log it:\n\n    http://x.example/\n", to=["bo@example.com"]
    )

    sent = CompactConsoleBackend(stream=stream).send_messages([code, invitation, question])

    assert sent == 3
    assert stream.getvalue() == (
        "To ada@example.com: Your Coachdesk sign-in code: 123456\n"
        "To ada@example.com: You are invited to Leaders on Coachdesk: "
        "http://127.0.0.1:8000/login/\n"
        "To bo@example.com: Has it happened? http://x.example/\n"
    )


def test_deploy_check_refuses_the_quick_starts_console_mailer(settings: Settings) -> None:
    assert demo_mailer_check() == []
    settings.MAILERS = mailers_from_url("compactconsolemail://")
    assert [error.id for error in demo_mailer_check()] == ["accounts.E002"]
