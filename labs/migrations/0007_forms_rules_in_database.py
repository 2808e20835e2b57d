"""The rules the forms and the importer enforce, enforced by the database too, so that a
write past them (an update(), bulk_create, SQL) is refused as well. Rows whose fix is certain
are settled first; any other row breaking a rule stops the migration, named
(registry.constraint_checks)."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

import registry.dates
from registry.constraint_checks import (
    move_partial_dates_to_period_start,
    refuse_rows_breaking,
    restore_views,
    set_views_aside,
)


def settle_rows(apps, schema_editor):
    move_partial_dates_to_period_start(apps.get_model("labs", "Lab"), "established_on")


CONSTRAINTS = [
    migrations.AddConstraint(
        model_name="lab",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("established_on_precision__in", ["", "day", "month", "year"]),
                models.Q(
                    ("established_on__isnull", True),
                    ("established_on_precision", "day"),
                    models.Q(
                        ("established_on_precision", "month"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("established_on", "day"), 1
                        ),
                    ),
                    models.Q(
                        ("established_on_precision", "year"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("established_on", "day"), 1
                        ),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("established_on", "month"), 1
                        ),
                    ),
                    _connector="OR",
                ),
            ),
            name="lab_established_on_starts_its_period",
            violation_error_message="A date known to the month or year is stored as the first day of that period.",
        ),
    ),
    migrations.AddConstraint(
        model_name="lab",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="lab_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="lab",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="lab_slug_not_blank",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0023_forms_rules_in_database"),
        ("labs", "0006_names_that_show"),
        ("registry", "0008_forms_rules_in_database"),
    ]

    operations = [
        migrations.RunPython(settle_rows, migrations.RunPython.noop),
        migrations.RunPython(refuse_rows_breaking("labs", CONSTRAINTS), migrations.RunPython.noop),
        migrations.RunPython(set_views_aside, restore_views),
        *CONSTRAINTS,
        migrations.RunPython(restore_views, set_views_aside),
    ]
