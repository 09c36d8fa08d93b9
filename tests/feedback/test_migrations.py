"""The feedback models moved out of engagements without moving a row.

engagements/0002 and feedback/0001 change only Django's model state (the
tables keep their names, constraints and rows) and move the two content types,
so permissions follow the models. Both directions are run on the test database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from feedback.models import ClosingSurvey, SessionRating
from tests.factories import SessionFactory

ENGAGEMENTS_BEFORE = ("engagements", "0001_initial")
BEFORE: list[tuple[str, str | None]] = [ENGAGEMENTS_BEFORE, ("feedback", None)]
AFTER: list[tuple[str, str | None]] = [
    ("engagements", "0002_feedback_models_move_to_feedback"),
    ("feedback", "0001_initial"),
]
MOVED = ("sessionrating", "closingsurvey")


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    # The executor's graph reflects the migrations just applied or unapplied.
    executor.loader.build_graph()
    ContentType.objects.clear_cache()
    return executor


def content_types() -> dict[str, tuple[int, str]]:
    rows = ContentType.objects.filter(model__in=MOVED).values_list("model", "pk", "app_label")
    return {model: (pk, app_label) for model, pk, app_label in rows}


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """Whatever happens in the test, leave the database fully migrated."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_and_carries_the_content_types_both_ways(
    back_to_latest: None,
) -> None:
    session = SessionFactory()
    SessionRating.objects.create(session=session, score=4)
    ClosingSurvey.objects.create(engagement=session.engagement, recommend_score=9)
    # Content types exist once something asked for them (post_migrate or get_for_model).
    ContentType.objects.get_for_models(SessionRating, ClosingSurvey)
    moved = content_types()
    assert {label for _, label in moved.values()} == {"feedback"}
    permission = Permission.objects.get(codename="change_sessionrating")

    executor = migrate(BEFORE)
    old = executor.loader.project_state(ENGAGEMENTS_BEFORE).apps
    assert old.get_model("engagements", "SessionRating").objects.get().score == 4
    assert old.get_model("engagements", "ClosingSurvey").objects.get().recommend_score == 9
    # The same rows, now labelled engagements again: ids and permissions untouched.
    assert content_types() == {model: (pk, "engagements") for model, (pk, _) in moved.items()}
    assert Permission.objects.get(pk=permission.pk).content_type_id == moved["sessionrating"][0]

    migrate(AFTER)
    assert SessionRating.objects.get().score == 4
    assert ClosingSurvey.objects.get().recommend_score == 9
    assert content_types() == moved
    assert ContentType.objects.get_for_model(SessionRating).app_label == "feedback"
    permission.refresh_from_db()
    assert permission.content_type.app_label == "feedback"
    # The database constraints came through the round trip.
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionRating.objects.filter(session=session).update(score=6)
