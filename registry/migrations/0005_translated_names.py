"""Fields and parts named in words the interface translates, as the admin shows them. No change
to the database."""

import django.db.models.deletion
import django_countries.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_focus_areas_by_name_in_any_case"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="historicalinstitutionalias",
            options={
                "get_latest_by": ("history_date", "history_id"),
                "ordering": ("-history_date", "-history_id"),
                "verbose_name": "historical other name",
                "verbose_name_plural": "historical other names",
            },
        ),
        migrations.AlterModelOptions(
            name="institutionalias",
            options={
                "ordering": ["name"],
                "verbose_name": "other name",
                "verbose_name_plural": "other names",
            },
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="acronym",
            field=models.CharField(
                blank=True, help_text="ECNU", max_length=30, verbose_name="acronym"
            ),
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="city",
            field=models.CharField(blank=True, max_length=100, verbose_name="city"),
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="country",
            field=django_countries.fields.CountryField(
                blank=True, max_length=2, verbose_name="country"
            ),
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="kind",
            field=models.CharField(
                choices=[
                    ("university", "university"),
                    ("company", "company"),
                    ("government", "government body"),
                    ("research_institute", "research institute"),
                    ("other", "other"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="logo",
            field=models.TextField(blank=True, max_length=100, verbose_name="logo"),
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The larger institution this one is part of.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="registry.institution",
                verbose_name="part of",
            ),
        ),
        migrations.AlterField(
            model_name="historicalinstitution",
            name="website",
            field=models.URLField(blank=True, verbose_name="website"),
        ),
        migrations.AlterField(
            model_name="historicalinstitutionalias",
            name="name",
            field=models.CharField(max_length=200, verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="institution",
            name="acronym",
            field=models.CharField(
                blank=True, help_text="ECNU", max_length=30, verbose_name="acronym"
            ),
        ),
        migrations.AlterField(
            model_name="institution",
            name="city",
            field=models.CharField(blank=True, max_length=100, verbose_name="city"),
        ),
        migrations.AlterField(
            model_name="institution",
            name="country",
            field=django_countries.fields.CountryField(
                blank=True, max_length=2, verbose_name="country"
            ),
        ),
        migrations.AlterField(
            model_name="institution",
            name="kind",
            field=models.CharField(
                choices=[
                    ("university", "university"),
                    ("company", "company"),
                    ("government", "government body"),
                    ("research_institute", "research institute"),
                    ("other", "other"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="institution",
            name="logo",
            field=models.ImageField(blank=True, upload_to="logos/", verbose_name="logo"),
        ),
        migrations.AlterField(
            model_name="institution",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                help_text="The larger institution this one is part of.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="units",
                to="registry.institution",
                verbose_name="part of",
            ),
        ),
        migrations.AlterField(
            model_name="institution",
            name="website",
            field=models.URLField(blank=True, verbose_name="website"),
        ),
        migrations.AlterField(
            model_name="institutionalias",
            name="name",
            field=models.CharField(max_length=200, verbose_name="name"),
        ),
    ]
