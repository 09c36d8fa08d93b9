"""Store each flag's program (its engagement's, which never changes) and index open
flags by program and kind, for the run and the dashboard (issue 16)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_programs(apps, schema_editor):
    NudgeFlag = apps.get_model("nudges", "NudgeFlag")
    Engagement = apps.get_model("engagements", "Engagement")
    program = Engagement.objects.filter(pk=OuterRef("engagement_id")).values("program_id")
    NudgeFlag.objects.update(program_id=Subquery(program))


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0003_organization_group_size_and_individual_progress"),
        ("nudges", "0004_flag_kind_unconfirmed_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="nudgeflag",
            name="program",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="engagements.program",
            ),
        ),
        migrations.RunPython(copy_programs, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="nudgeflag",
            name="program",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="engagements.program",
            ),
        ),
        migrations.AddIndex(
            model_name="nudgeflag",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=["program", "kind", "raised_at"],
                name="open_flag_program_kind",
            ),
        ),
    ]
