from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client
from pytest_django import Settings

from config.observability import JsonFormatter, RequestIdFilter, request_id_var


@pytest.mark.django_db
def test_every_response_carries_a_generated_request_id(client: Client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept_when_the_proxy_sets_it(
    client: Client, settings: Settings
) -> None:
    settings.TRUST_REQUEST_ID_HEADER = True
    response = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    assert response["X-Request-ID"] == "lb-1234abcd"


@pytest.mark.django_db
def test_a_clients_request_id_is_replaced_unless_the_setting_trusts_the_proxy(
    client: Client,
) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    assert response["X-Request-ID"] != "lb-1234abcd"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["short", "x" * 65, "has space in it", "<script>alert</script>"])
def test_an_insane_incoming_request_id_is_replaced(
    client: Client, settings: Settings, bad: str
) -> None:
    settings.TRUST_REQUEST_ID_HEADER = True
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert response["X-Request-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def _format(message: str, *args: object) -> dict:
    record = logging.LogRecord("coachdesk", logging.INFO, __file__, 1, message, args, None)
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_log_lines_are_json_with_the_request_id() -> None:
    token = request_id_var.set("req-abcdef12")
    try:
        entry = _format("selected coach %s", "c-1")
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "req-abcdef12"
    assert entry["message"] == "selected coach c-1"
    assert entry["level"] == "INFO"


def test_log_lines_never_contain_an_email_address() -> None:
    entry = _format("code sent to %s", "Jane.Doe+x@Example.co.uk")
    assert "@" not in json.dumps(entry)
    assert "[email]" in entry["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?status__exact=%00", "?q=a%00b", "?%00=1"])
def test_a_nul_in_the_query_string_is_a_400_not_a_500(client: Client, query: str) -> None:
    response = client.get(f"/admin/engagements/engagement/{query}")
    assert response.status_code == 400
    assert b"NUL" in response.content
