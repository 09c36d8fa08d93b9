"""Every kind of email goes through the worker: the change that causes it only
queues it (in its own transaction), and nothing reaches the outbox until the
worker runs."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests import factories
from tests.coaches.conftest import pool
from tests.nudges.helpers import NOW, TODAY, invited
from tests.signin import login_verified

pytestmark = pytest.mark.django_db


def test_each_kind_of_email_is_queued_and_sent_only_by_the_worker(
    client: Client,
    tmp_path: Path,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    program = factories.ProgramFactory(name="Leaders 2026")
    # An invitation (the participant import).
    people = tmp_path / "people.csv"
    people.write_text("email,full_name\nada@example.com,Ada Lovelace\n")
    call_command("import_participants", program.name, str(people), stdout=StringIO())
    # Coach-selected notices, to both people.
    engagement = factories.EngagementFactory(program=program)
    (coach,) = pool(program, 1)
    login_verified(client, engagement.participant)
    client.post(reverse("select_coach", args=[coach.public_id]))
    # A reminder (the daily nudge run).
    with time_machine.travel(NOW, tick=False):
        invited(factories.ProgramFactory(), days_ago=10)
        call_command("run_nudges", "--force", "--today", TODAY.isoformat(), stdout=StringIO())
    # A sign-in code.
    Client().post("/login/", {"email": engagement.participant.email})

    assert mailoutbox == []
    assert DBTaskResult.objects.count() == 5
    assert run_worker() == 5
    subjects = sorted(m.subject for m in mailoutbox)
    assert len(subjects) == 5
    assert sum("sign-in code" in s for s in subjects) == 1
    assert sum("invited" in s for s in subjects) == 1
    assert sum("Choose your coach" in s for s in subjects) == 1
    assert sum("chose you as their coach" in s for s in subjects) == 1
    assert sum("is your coach" in s for s in subjects) == 1
    assert run_worker() == 0 and len(mailoutbox) == 5
