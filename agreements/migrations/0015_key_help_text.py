"""The key's help text gives its convention (no change to the database)."""

from django.db import migrations, models

HELP_TEXT = (
    "Stable identifier, used in the agreement's address and as its key in import files:"
    " lower-case letters, digits and hyphens, by convention the main parties' short names"
    " and the year signed (ecnu-huawei-2019). Changed after publication, it changes the"
    " public address."
)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0014_agreement_order_ends_in_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="agreement",
            name="slug",
            field=models.SlugField(
                help_text=HELP_TEXT, max_length=100, unique=True, verbose_name="key"
            ),
        ),
        migrations.AlterField(
            model_name="historicalagreement",
            name="slug",
            field=models.SlugField(help_text=HELP_TEXT, max_length=100, verbose_name="key"),
        ),
    ]
