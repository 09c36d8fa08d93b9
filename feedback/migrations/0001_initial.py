# Takes over SessionRating and ClosingSurvey from engagements
# (engagements/migrations/0002_feedback_models_move_to_feedback.py) without
# touching the database: the tables keep their names (db_table), their
# constraints and their rows. Their content types move to app_label "feedback"
# so that permissions and the admin's history follow the models.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED_MODELS = ('sessionrating', 'closingsurvey')


def _move_content_types(apps, schema_editor, source, target):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MOVED_MODELS:
        # A row already under the target label (left by an earlier run) wins;
        # the other one is stale and `remove_stale_contenttypes` offers to remove it.
        if content_types.filter(app_label=target, model=model).exists():
            continue
        content_types.filter(app_label=source, model=model).update(app_label=target)
    # get_for_model() caches by label: forget the old ones.
    ContentType.objects.clear_cache()


def content_types_to_feedback(apps, schema_editor):
    _move_content_types(apps, schema_editor, 'engagements', 'feedback')


def content_types_to_engagements(apps, schema_editor):
    _move_content_types(apps, schema_editor, 'feedback', 'engagements')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('engagements', '0002_feedback_models_move_to_feedback'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ClosingSurvey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('recommend_score', models.PositiveSmallIntegerField()),
                        ('what_changed', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('engagement', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='closing_survey', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_closingsurvey',
                        'constraints': [models.CheckConstraint(condition=models.Q(('recommend_score__gte', 0), ('recommend_score__lte', 10)), name='survey_recommend_0_to_10')],
                    },
                ),
                migrations.CreateModel(
                    name='SessionRating',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('score', models.PositiveSmallIntegerField()),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('session', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='rating', to='engagements.coachingsession')),
                    ],
                    options={
                        'db_table': 'engagements_sessionrating',
                        'constraints': [models.CheckConstraint(condition=models.Q(('score__gte', 1), ('score__lte', 5)), name='rating_score_1_to_5')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_feedback, content_types_to_engagements),
    ]
