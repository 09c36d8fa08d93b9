from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from pytest_django import Settings

from accounts.checks import site_url_check

ROOT = Path(__file__).resolve().parents[2]


def _check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in env_overrides}
    env.update({k: v for k, v in env_overrides.items() if v is not None})
    env = {k: v for k, v in env.items() if env_overrides.get(k, "") != "<unset>"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_refuses_to_start() -> None:
    result = _check({"SECRET_KEY": "<unset>"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_missing_email_url_refuses_to_start() -> None:
    result = _check({"EMAIL_URL": "<unset>"})
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr


def test_production_configuration_passes_the_deploy_check() -> None:
    result = _check(
        {
            "DEBUG": "<unset>",
            "SECURE_SSL_REDIRECT": "<unset>",
            "STATIC_MANIFEST": "<unset>",
            "SECRET_KEY": "x" * 20 + "-production-shaped-secret-key-0123456789abcdefgh",
            "ALLOWED_HOSTS": "coachdesk.example.com",
            "SITE_URL": "https://coachdesk.example.com",
            "DATABASE_URL": "postgres://coachdesk@127.0.0.1:5432/coachdesk",
            "CACHE_URL": "redis://127.0.0.1:6379/0",
            "EMAIL_URL": "smtp+tls://u:p@smtp.example.com:587",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr


def test_deploy_check_refuses_a_console_mailer_and_local_cache() -> None:
    result = _check(
        {
            "DEBUG": "<unset>",
            "SECURE_SSL_REDIRECT": "<unset>",
            "SECRET_KEY": "x" * 20 + "-production-shaped-secret-key-0123456789abcdefgh",
            "ALLOWED_HOSTS": "coachdesk.example.com",
            "DATABASE_URL": "postgres://coachdesk@127.0.0.1:5432/coachdesk",
            "CACHE_URL": "locmemcache://",
            "EMAIL_URL": "consolemail://",
        },
        "--deploy",
    )
    assert result.returncode != 0
    assert "mail.E001" in result.stderr
    assert "django_ratelimit.E003" in result.stderr


def test_quick_start_on_postgresql_runs_with_the_local_cache() -> None:
    # `DATABASE_URL=postgres://... make demo`: DEBUG on, one runserver process.
    result = _check(
        {
            "DEBUG": "true",
            "DATABASE_URL": "postgres://coachdesk@127.0.0.1:5432/coachdesk",
            "CACHE_URL": "<unset>",
        }
    )
    assert result.returncode == 0, result.stderr


def test_production_on_postgresql_refuses_the_local_cache() -> None:
    result = _check(
        {
            "DEBUG": "false",
            "DATABASE_URL": "postgres://coachdesk@127.0.0.1:5432/coachdesk",
            "CACHE_URL": "locmemcache://",
        }
    )
    assert result.returncode != 0
    assert "django_ratelimit.E003" in result.stderr


@pytest.mark.parametrize("value", ["2", "-5", "abc"])
def test_a_min_group_size_below_3_or_not_a_number_refuses_to_start(value: str) -> None:
    result = _check({"MIN_GROUP_SIZE": value})
    assert result.returncode != 0
    assert "MIN_GROUP_SIZE must be a whole number of at least 3" in result.stderr


@pytest.mark.parametrize("value", ["3"])
def test_a_min_group_size_of_3_or_more_starts(value: str) -> None:
    result = _check({"MIN_GROUP_SIZE": value})
    assert result.returncode == 0, result.stderr


def _setting(name: str, env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_overrides, "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_message_ids_take_the_domain_of_the_sending_address() -> None:
    sender = {"DEFAULT_FROM_EMAIL": "Northwind coaching <coaching@mail.northwind.example>"}
    result = _setting("EMAIL_MESSAGE_ID_DOMAIN", sender)
    assert result.stdout.strip() == "mail.northwind.example", result.stderr

    own = _setting("EMAIL_MESSAGE_ID_DOMAIN", {**sender, "EMAIL_MESSAGE_ID_DOMAIN": "cd.example"})
    assert own.stdout.strip() == "cd.example", own.stderr


def test_a_sending_address_without_a_domain_refuses_to_start() -> None:
    result = _check({"DEFAULT_FROM_EMAIL": "Coachdesk"})
    assert result.returncode != 0
    assert "DEFAULT_FROM_EMAIL must be an address" in result.stderr


PRODUCTION = {
    "DEBUG": "<unset>",
    "SECURE_SSL_REDIRECT": "<unset>",
    "STATIC_MANIFEST": "<unset>",
    "SECRET_KEY": "x" * 20 + "-production-shaped-secret-key-0123456789abcdefgh",
    "ALLOWED_HOSTS": "coachdesk.example.com",
    "DATABASE_URL": "postgres://coachdesk@127.0.0.1:5432/coachdesk",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://u:p@smtp.example.com:587",
}


@pytest.mark.parametrize("site_url", ["<unset>", "http://coachdesk.example.com"])
def test_deploy_check_fails_when_links_in_emails_would_not_reach_the_site(site_url: str) -> None:
    result = _check({**PRODUCTION, "SITE_URL": site_url}, "--deploy")
    assert result.returncode != 0
    assert "accounts.E001" in result.stderr
    assert "Set SITE_URL to the site's public https address" in result.stderr


@pytest.mark.parametrize(
    ("debug", "site_url", "refused"),
    [
        (False, "https://coachdesk.example.com", False),
        (False, "https://coachdesk.example.com/app", False),
        (False, "http://127.0.0.1:8000", True),
        (False, "http://coachdesk.example.com", True),
        (False, "", True),
        (False, "https://", True),
        (False, "coachdesk.example.com", True),
        (False, "https://coachdesk.example.com?x=1", True),
        (True, "http://127.0.0.1:8000", False),  # the quick start
    ],
)
def test_site_url_check(settings: Settings, debug: bool, site_url: str, refused: bool) -> None:
    settings.DEBUG = debug
    settings.SITE_URL = site_url

    errors = site_url_check()

    assert [e.id for e in errors] == (["accounts.E001"] if refused else [])
    assert all(e.level == checks.ERROR for e in errors)
