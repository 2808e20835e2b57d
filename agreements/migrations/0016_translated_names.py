"""The parts of an agreement (parties, people, sources, photos, relations) and their fields
named in words the interface translates, as its admin form and History page show them. No
change to the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0015_key_help_text"),
        ("people", "0002_person_name_index"),
        ("registry", "0004_focus_areas_by_name_in_any_case"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="agreementrelation",
            options={"ordering": ["type", "target__slug"], "verbose_name": "relation"},
        ),
        migrations.AlterModelOptions(
            name="historicalagreementrelation",
            options={
                "get_latest_by": ("history_date", "history_id"),
                "ordering": ("-history_date", "-history_id"),
                "verbose_name": "historical relation",
                "verbose_name_plural": "historical relations",
            },
        ),
        migrations.AlterModelOptions(
            name="participation",
            options={"ordering": ["position", "pk"], "verbose_name": "participation"},
        ),
        migrations.AlterModelOptions(
            name="party",
            options={
                "ordering": ["position", "pk"],
                "verbose_name": "party",
                "verbose_name_plural": "parties",
            },
        ),
        migrations.AlterModelOptions(
            name="photo",
            options={"ordering": ["position", "pk"], "verbose_name": "photo"},
        ),
        migrations.AlterModelOptions(
            name="source",
            options={"ordering": ["position", "pk"], "verbose_name": "source"},
        ),
        migrations.AlterField(
            model_name="agreementrelation",
            name="target",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="incoming_relations",
                to="agreements.agreement",
                verbose_name="other agreement",
            ),
        ),
        migrations.AlterField(
            model_name="agreementrelation",
            name="type",
            field=models.CharField(
                choices=[
                    ("follows", "follows"),
                    ("renews", "renews"),
                    ("amends", "amends"),
                    ("supersedes", "supersedes"),
                    ("implements", "implements"),
                ],
                max_length=12,
                verbose_name="type",
            ),
        ),
        migrations.AlterField(
            model_name="historicalagreementrelation",
            name="target",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="agreements.agreement",
                verbose_name="other agreement",
            ),
        ),
        migrations.AlterField(
            model_name="historicalagreementrelation",
            name="type",
            field=models.CharField(
                choices=[
                    ("follows", "follows"),
                    ("renews", "renews"),
                    ("amends", "amends"),
                    ("supersedes", "supersedes"),
                    ("implements", "implements"),
                ],
                max_length=12,
                verbose_name="type",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipation",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Where the person worked at the time; need not be a party.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="registry.institution",
                verbose_name="organisation",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipation",
            name="person",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="people.person",
                verbose_name="person",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipation",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="historicalparticipation",
            name="role",
            field=models.CharField(
                choices=[
                    ("signatory", "signatory"),
                    ("witness", "witness"),
                    ("attendee", "attendee"),
                ],
                max_length=10,
                verbose_name="role",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipation",
            name="title",
            field=models.CharField(
                blank=True,
                help_text="The title the person held at the time.",
                max_length=300,
                verbose_name="title",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparty",
            name="institution",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="registry.institution",
                verbose_name="institution",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparty",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="historicalparty",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The part of the institution that signed, if the source names one.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="registry.institution",
                verbose_name="unit",
            ),
        ),
        migrations.AlterField(
            model_name="historicalphoto",
            name="caption",
            field=models.CharField(blank=True, max_length=500, verbose_name="caption"),
        ),
        migrations.AlterField(
            model_name="historicalphoto",
            name="credit",
            field=models.CharField(blank=True, max_length=200, verbose_name="credit"),
        ),
        migrations.AlterField(
            model_name="historicalphoto",
            name="image",
            field=models.TextField(blank=True, max_length=100, verbose_name="image"),
        ),
        migrations.AlterField(
            model_name="historicalphoto",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="note",
            field=models.TextField(
                blank=True,
                help_text="What this source says that others do not, or contradicts.",
                verbose_name="note",
            ),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="published_on",
            field=models.DateField(blank=True, null=True, verbose_name="published on"),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="publisher",
            field=models.CharField(blank=True, max_length=200, verbose_name="publisher"),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="title",
            field=models.CharField(blank=True, max_length=300, verbose_name="title"),
        ),
        migrations.AlterField(
            model_name="participation",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                help_text="Where the person worked at the time; need not be a party.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="participations",
                to="registry.institution",
                verbose_name="organisation",
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="participations",
                to="people.person",
                verbose_name="person",
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="participation",
            name="role",
            field=models.CharField(
                choices=[
                    ("signatory", "signatory"),
                    ("witness", "witness"),
                    ("attendee", "attendee"),
                ],
                max_length=10,
                verbose_name="role",
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="title",
            field=models.CharField(
                blank=True,
                help_text="The title the person held at the time.",
                max_length=300,
                verbose_name="title",
            ),
        ),
        migrations.AlterField(
            model_name="party",
            name="institution",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="parties",
                to="registry.institution",
                verbose_name="institution",
            ),
        ),
        migrations.AlterField(
            model_name="party",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="party",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                help_text="The part of the institution that signed, if the source names one.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="parties_as_unit",
                to="registry.institution",
                verbose_name="unit",
            ),
        ),
        migrations.AlterField(
            model_name="photo",
            name="caption",
            field=models.CharField(blank=True, max_length=500, verbose_name="caption"),
        ),
        migrations.AlterField(
            model_name="photo",
            name="credit",
            field=models.CharField(blank=True, max_length=200, verbose_name="credit"),
        ),
        migrations.AlterField(
            model_name="photo",
            name="image",
            field=models.ImageField(blank=True, upload_to="photos/", verbose_name="image"),
        ),
        migrations.AlterField(
            model_name="photo",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="source",
            name="note",
            field=models.TextField(
                blank=True,
                help_text="What this source says that others do not, or contradicts.",
                verbose_name="note",
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AlterField(
            model_name="source",
            name="published_on",
            field=models.DateField(blank=True, null=True, verbose_name="published on"),
        ),
        migrations.AlterField(
            model_name="source",
            name="publisher",
            field=models.CharField(blank=True, max_length=200, verbose_name="publisher"),
        ),
        migrations.AlterField(
            model_name="source",
            name="title",
            field=models.CharField(blank=True, max_length=300, verbose_name="title"),
        ),
    ]
