"""Fields and parts named in words the interface translates, as the admin shows them. No change
to the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0016_translated_names"),
        ("labs", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="historicallabagreement",
            options={
                "get_latest_by": ("history_date", "history_id"),
                "ordering": ("-history_date", "-history_id"),
                "verbose_name": "historical lab's agreement",
                "verbose_name_plural": "historical lab's agreements",
            },
        ),
        migrations.AlterModelOptions(
            name="labagreement",
            options={"verbose_name": "lab's agreement"},
        ),
        migrations.AlterField(
            model_name="historicallabagreement",
            name="agreement",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="agreements.agreement",
                verbose_name="agreement",
            ),
        ),
        migrations.AlterField(
            model_name="historicallabagreement",
            name="lab",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="labs.lab",
                verbose_name="lab",
            ),
        ),
        migrations.AlterField(
            model_name="historicallabagreement",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("proposed", "planned under this agreement"),
                    ("founded", "founded under this agreement"),
                    ("extended", "extended under this agreement"),
                ],
                max_length=10,
                verbose_name="outcome",
            ),
        ),
        migrations.AlterField(
            model_name="labagreement",
            name="agreement",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                to="agreements.agreement",
                verbose_name="agreement",
            ),
        ),
        migrations.AlterField(
            model_name="labagreement",
            name="lab",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, to="labs.lab", verbose_name="lab"
            ),
        ),
        migrations.AlterField(
            model_name="labagreement",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("proposed", "planned under this agreement"),
                    ("founded", "founded under this agreement"),
                    ("extended", "extended under this agreement"),
                ],
                max_length=10,
                verbose_name="outcome",
            ),
        ),
    ]
