"""Agreements of one date and title keep one order, their keys', newest first: pages of a
search never repeat or skip one. No change to the tables: PostgreSQL reads the first page from
0011's index, which ends in the key already."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0013_term_end_known_to_the_day"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="agreement",
            options={
                "ordering": [
                    models.OrderBy(models.F("signed_on"), descending=True, nulls_last=True),
                    "title",
                    "-pk",
                ],
                "permissions": [("publish_agreement", "Can publish and withdraw agreements")],
            },
        ),
    ]
