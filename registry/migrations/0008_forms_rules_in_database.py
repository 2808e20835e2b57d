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
    Institution = apps.get_model("registry", "Institution")
    clear_spaces_only(Institution, "native_name", "acronym")


CONSTRAINTS = [
    migrations.AddConstraint(
        model_name="focusarea",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="focus_area_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="focusarea",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="focus_area_slug_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="focusareagroup",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="focus_area_group_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="focusareagroup",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="focus_area_group_slug_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="institution",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="institution_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="institution",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="institution_slug_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="institution",
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
            name="institution_native_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="institution",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("acronym", ""),
                models.Q(
                    django.db.models.lookups.Exact(
                        django.db.models.functions.text.Trim("acronym"), ""
                    ),
                    _negated=True,
                ),
                _connector="OR",
            ),
            name="institution_acronym_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="institution",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("kind__in", ["university", "company", "government", "research_institute", "other"])
            ),
            name="institution_kind_valid",
        ),
    ),
    migrations.AddConstraint(
        model_name="institution",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("website", ""),
                ("website__istartswith", "http://"),
                ("website__istartswith", "https://"),
                ("website__istartswith", "ftp://"),
                ("website__istartswith", "ftps://"),
                _connector="OR",
            ),
            name="institution_website_web_address",
        ),
    ),
    migrations.AddConstraint(
        model_name="institutionalias",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="institution_alias_name_not_blank",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_names_that_show"),
    ]

    operations = [
        migrations.RunPython(settle_rows, migrations.RunPython.noop),
        migrations.RunPython(
            refuse_rows_breaking("registry", CONSTRAINTS), migrations.RunPython.noop
        ),
        migrations.RunPython(set_views_aside, restore_views),
        *CONSTRAINTS,
        migrations.RunPython(restore_views, set_views_aside),
    ]
