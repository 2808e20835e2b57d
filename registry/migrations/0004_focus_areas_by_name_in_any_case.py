"""Focus areas in the order their names are read, whatever their case. No change to the
tables."""

import django.db.models.functions.text
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_ror_and_wikidata_ids"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="focusarea",
            options={"ordering": [django.db.models.functions.text.Lower("name")]},
        ),
    ]
