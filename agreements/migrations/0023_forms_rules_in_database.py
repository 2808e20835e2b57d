"""The rules the forms and the importer enforce, enforced by the database too, so that a
write past them (an update(), bulk_create, SQL) is refused as well. Rows whose fix is certain
are settled first; any other row breaking a rule stops the migration, named
(registry.constraint_checks)."""

import django.db.models.expressions
import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models

import registry.dates
from registry.constraint_checks import (
    move_partial_dates_to_period_start,
    refuse_rows_breaking,
    restore_views,
    set_views_aside,
)


def settle_rows(apps, schema_editor):
    Agreement = apps.get_model("agreements", "Agreement")
    move_partial_dates_to_period_start(Agreement, "signed_on", "starts_on", "ends_on")
    move_partial_dates_to_period_start(apps.get_model("agreements", "Source"), "published_on")


CONSTRAINTS = [
    migrations.RemoveConstraint(
        model_name="agreement",
        name="agreement_term_ends_after_start",
    ),
    migrations.AddConstraint(
        model_name="agreement",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("starts_on__isnull", True),
                ("ends_on__isnull", True),
                models.Q(("ends_on__gte", models.F("starts_on")), ("ends_on_precision", "day")),
                models.Q(
                    ("ends_on_precision", "month"),
                    django.db.models.lookups.GreaterThanOrEqual(
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                registry.dates.DatePart("ends_on", "year"), "*", models.Value(12)
                            ),
                            "+",
                            registry.dates.DatePart("ends_on", "month"),
                        ),
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                registry.dates.DatePart("starts_on", "year"), "*", models.Value(12)
                            ),
                            "+",
                            registry.dates.DatePart("starts_on", "month"),
                        ),
                    ),
                ),
                models.Q(
                    ("ends_on_precision", "year"),
                    django.db.models.lookups.GreaterThanOrEqual(
                        registry.dates.DatePart("ends_on", "year"),
                        registry.dates.DatePart("starts_on", "year"),
                    ),
                ),
                _connector="OR",
            ),
            name="agreement_term_ends_after_start",
            violation_error_message="The term cannot end before it starts.",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreement",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("signed_on_precision__in", ["", "day", "month", "year"]),
                models.Q(
                    ("signed_on__isnull", True),
                    ("signed_on_precision", "day"),
                    models.Q(
                        ("signed_on_precision", "month"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("signed_on", "day"), 1
                        ),
                    ),
                    models.Q(
                        ("signed_on_precision", "year"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("signed_on", "day"), 1
                        ),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("signed_on", "month"), 1
                        ),
                    ),
                    _connector="OR",
                ),
            ),
            name="agreement_signed_on_starts_its_period",
            violation_error_message="A date known to the month or year is stored as the first day of that period.",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreement",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("starts_on_precision__in", ["", "day", "month", "year"]),
                models.Q(
                    ("starts_on__isnull", True),
                    ("starts_on_precision", "day"),
                    models.Q(
                        ("starts_on_precision", "month"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("starts_on", "day"), 1
                        ),
                    ),
                    models.Q(
                        ("starts_on_precision", "year"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("starts_on", "day"), 1
                        ),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("starts_on", "month"), 1
                        ),
                    ),
                    _connector="OR",
                ),
            ),
            name="agreement_starts_on_starts_its_period",
            violation_error_message="A date known to the month or year is stored as the first day of that period.",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreement",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("ends_on_precision__in", ["", "day", "month", "year"]),
                models.Q(
                    ("ends_on__isnull", True),
                    ("ends_on_precision", "day"),
                    models.Q(
                        ("ends_on_precision", "month"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("ends_on", "day"), 1
                        ),
                    ),
                    models.Q(
                        ("ends_on_precision", "year"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("ends_on", "day"), 1
                        ),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("ends_on", "month"), 1
                        ),
                    ),
                    _connector="OR",
                ),
            ),
            name="agreement_ends_on_starts_its_period",
            violation_error_message="A date known to the month or year is stored as the first day of that period.",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreement",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("title"), ""),
                _negated=True,
            ),
            name="agreement_title_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreement",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="agreement_slug_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreementtype",
        constraint=models.UniqueConstraint(
            django.db.models.functions.text.Lower("name"),
            name="agreement_type_name_unique_ci",
            violation_error_message="An agreement type with this name already exists.",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreementtype",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("name"), ""),
                _negated=True,
            ),
            name="agreement_type_name_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="agreementtype",
        constraint=models.CheckConstraint(
            condition=models.Q(
                django.db.models.lookups.Exact(django.db.models.functions.text.Trim("slug"), ""),
                _negated=True,
            ),
            name="agreement_type_slug_not_blank",
        ),
    ),
    migrations.AddConstraint(
        model_name="source",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("published_on_precision__in", ["", "day", "month", "year"]),
                models.Q(
                    ("published_on__isnull", True),
                    ("published_on_precision", "day"),
                    models.Q(
                        ("published_on_precision", "month"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("published_on", "day"), 1
                        ),
                    ),
                    models.Q(
                        ("published_on_precision", "year"),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("published_on", "day"), 1
                        ),
                        django.db.models.lookups.Exact(
                            registry.dates.DatePart("published_on", "month"), 1
                        ),
                    ),
                    _connector="OR",
                ),
            ),
            name="source_published_on_starts_its_period",
            violation_error_message="A date known to the month or year is stored as the first day of that period.",
        ),
    ),
    migrations.AddConstraint(
        model_name="source",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("url", ""),
                ("url__istartswith", "http://"),
                ("url__istartswith", "https://"),
                ("url__istartswith", "ftp://"),
                ("url__istartswith", "ftps://"),
                _connector="OR",
            ),
            name="source_url_web_address",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0022_names_that_show"),
        ("registry", "0008_forms_rules_in_database"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(settle_rows, migrations.RunPython.noop),
        migrations.RunPython(
            refuse_rows_breaking("agreements", CONSTRAINTS), migrations.RunPython.noop
        ),
        migrations.RunPython(set_views_aside, restore_views),
        *CONSTRAINTS,
        migrations.RunPython(restore_views, set_views_aside),
    ]
