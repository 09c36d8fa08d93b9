# Coaches and sponsors now see released figures only (feedback.ReleasedFeedback).
# Until this migration they saw live averages; release those that describe a
# group at least as large as the group size, so that figures people already saw
# do not vanish on deploy. Smaller groups show "not enough answers yet" until
# enough new answers arrive. Reversing drops the table with the previous migration.

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, Max, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

# kind, model, score field, path to the engagement, path to the coach
KINDS = (
    ("session_ratings", "SessionRating", "score", "session__engagement", "session__coach"),
    ("closing_surveys", "ClosingSurvey", "recommend_score", "engagement", "engagement__coach"),
)


def release_existing(apps, schema_editor):
    released = apps.get_model("feedback", "ReleasedFeedback")
    db = schema_editor.connection.alias
    now = timezone.now()
    rows = []
    for kind, model_name, score, engagement, coach in KINDS:
        answers = apps.get_model("feedback", model_name).objects.using(db)
        size = Coalesce(
            f"{engagement}__program__organization__min_group_size",
            Value(settings.MIN_GROUP_SIZE),
            output_field=models.IntegerField(),
        )
        for subject, path in (("coach", f"{coach}_id"), ("program", f"{engagement}__program_id")):
            groups = (
                answers.exclude(**{f"{path}__isnull": True})
                .values(path)
                .annotate(n=Count("pk"), total=Sum(score), size=Max(size))
                .order_by()
            )
            rows += [
                released(
                    kind=kind,
                    answers=group["n"],
                    total=group["total"],
                    released_at=now,
                    **{f"{subject}_id": group[path]},
                )
                for group in groups
                if group["n"] >= group["size"]
            ]
    released.objects.using(db).bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0002_released_feedback"),
    ]

    operations = [
        migrations.RunPython(release_existing, migrations.RunPython.noop),
    ]
