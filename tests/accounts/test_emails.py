from __future__ import annotations

import copy

import pytest
from django.db import transaction

from accounts.emails import send_email

pytestmark = pytest.mark.django_db(transaction=True)


def _write_templates(tmp_path, settings) -> None:  # noqa: ANN001
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "hello_subject.txt").write_text("Hello {{ name }}\n")
    (folder / "hello.txt").write_text("Hi {{ name }}, see {{ site_url }}")
    (folder / "hello.html").write_text("<p>Hi {{ name }}</p>")
    # Assign a copy (not an in-place edit) so setting_changed resets the cached
    # template engines and the fixture restores the setting afterwards.
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


def test_email_has_subject_text_and_html_and_waits_for_commit(
    tmp_path, settings, mailoutbox
) -> None:  # noqa: ANN001, E501
    _write_templates(tmp_path, settings)
    with transaction.atomic():
        send_email(template="hello", to=["a@example.com"], context={"name": "Ada"})
        assert mailoutbox == []
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject == "Hello Ada"
    assert "Hi Ada, see http" in message.body
    assert message.alternatives[0].content == "<p>Hi Ada</p>"


def test_a_rolled_back_change_sends_nothing(tmp_path, settings, mailoutbox) -> None:  # noqa: ANN001
    _write_templates(tmp_path, settings)
    with pytest.raises(RuntimeError), transaction.atomic():
        send_email(template="hello", to=["a@example.com"], context={"name": "Ada"})
        raise RuntimeError("boom")
    assert mailoutbox == []
