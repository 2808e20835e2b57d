"""The admin's list of agreements sorted by last change (Agreement.Meta.indexes)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("agreements", "0011_admin_order_index")]

    operations = [
        migrations.AddIndex(
            model_name="agreement",
            index=models.Index(fields=["-updated_at", "-id"], name="agreement_updated_idx"),
        ),
    ]
