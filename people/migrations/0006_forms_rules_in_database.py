"""The rules the forms and the importer enforce, enforced by the database too, so that a
write past them (an update(), bulk_create, SQL) is refused as well. Rows whose fix is certain
are settled first; any other row breaking a rule stops the migration, named
(registry.constraint_checks)."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

from registry.constraint_checks import (
    clear_spaces_only,
    refuse_rows_breaking,
    restore_views,
    set_views_aside,
)


def settle_rows(apps, schema_editor):
    clear_spaces_only(apps.get_model("people", "Person"), "native_name")


CONSTRAINTS = [
    migrations.AddConstraint(
        model_name="person",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="person_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="person",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="person_slug_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="person",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("native_name", ""),
                models.Q(
                    django.db.models.lookups.Exact(
                        django.db.models.functions.text.Trim("native_name"), ""
                    ),
                    _negated=True,
                ),
                _connector="OR",
            ),
            name="person_native_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="personalias",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="person_alias_name_not_blank",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_names_that_show"),
    ]

    operations = [
        migrations.RunPython(settle_rows, migrations.RunPython.noop),
        migrations.RunPython(
            refuse_rows_breaking("people", CONSTRAINTS), migrations.RunPython.noop
        ),
        migrations.RunPython(set_views_aside, restore_views),
        *CONSTRAINTS,
        migrations.RunPython(restore_views, set_views_aside),
    ]
