"""Fields and parts named in words the interface translates, as the admin shows them. No change
to the database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_person_name_index"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="historicalpersonalias",
            options={
                "get_latest_by": ("history_date", "history_id"),
                "ordering": ("-history_date", "-history_id"),
                "verbose_name": "historical other name",
                "verbose_name_plural": "historical other names",
            },
        ),
        migrations.AlterModelOptions(
            name="personalias",
            options={
                "ordering": ["name"],
                "verbose_name": "other name",
                "verbose_name_plural": "other names",
            },
        ),
        migrations.AlterField(
            model_name="historicalpersonalias",
            name="name",
            field=models.CharField(max_length=200, verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="personalias",
            name="name",
            field=models.CharField(max_length=200, verbose_name="name"),
        ),
    ]
