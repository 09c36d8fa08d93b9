# SessionRating and ClosingSurvey now belong to the feedback app
# (feedback/migrations/0001_initial.py takes them over). Only Django's model
# state changes: the tables, their names, constraints and rows stay as they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('engagements', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ClosingSurvey'),
                migrations.DeleteModel(name='SessionRating'),
            ],
            database_operations=[],
        ),
    ]
