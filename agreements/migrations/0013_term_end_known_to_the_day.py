"""The database checks that a term does not end before it starts only where its end is known
to the day: "from May 2020 to some time in 2020" is stored as 2020-05-01 and 2020-01-01, and
may be true. Agreement.clean() and the importer check every precision (PartialDate.last_day).

SQLite changes a constraint by making the table again, which its search views (0008) would
refuse while they name it: they are dropped first and made again after.

Reversed, the older constraint refuses every term that ends before it starts, which this one
allows: the reverse names those agreements rather than failing on the constraint alone."""

import importlib

from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError

search_index = importlib.import_module("agreements.migrations.0008_search_index")
DROP_VIEWS = search_index.run({"sqlite": search_index.SQLITE_REVERSE})
MAKE_VIEWS = search_index.run({"sqlite": search_index.SQLITE})


def refuse_terms_the_older_rule_forbids(apps, schema_editor):
    Agreement = apps.get_model("agreements", "Agreement")
    keys = list(
        Agreement.objects.filter(starts_on__isnull=False, ends_on__lt=models.F("starts_on"))
        .order_by("slug")
        .values_list("slug", flat=True)
    )
    if keys:
        raise IrreversibleError(
            "agreements 0013 cannot be reversed: the older rule refuses a term that ends before "
            "it starts, at any precision, and these agreements' terms do (at month or year "
            f"precision): {', '.join(keys[:20])}{' …' if len(keys) > 20 else ''}. Correct "
            "their terms first, or restore the backup taken before the upgrade."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0012_agreement_updated_index"),
    ]

    operations = [
        migrations.RunPython(DROP_VIEWS, MAKE_VIEWS),
        migrations.RemoveConstraint(
            model_name="agreement",
            name="agreement_term_ends_after_start",
        ),
        migrations.AddConstraint(
            model_name="agreement",
            constraint=models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | ~models.Q(ends_on_precision="day")
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="agreement_term_ends_after_start",
                violation_error_message="The term cannot end before it starts.",
            ),
        ),
        migrations.RunPython(MAKE_VIEWS, DROP_VIEWS),
        # Last, so that reversing checks first, before anything is undone.
        migrations.RunPython(migrations.RunPython.noop, refuse_terms_the_older_rule_forbids),
    ]
