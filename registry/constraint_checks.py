"""For the migrations that add constraints: settle the rows whose fix is certain, then stop,
naming them, if any row still breaks a constraint about to be added. A site whose data was
written past the forms learns which rows to correct, rather than meeting an IntegrityError
half-way through an upgrade; nothing is changed until they are corrected (each migration is
one transaction)."""

from django.db import migrations, models
from django.db.models.functions import Trim
from django.db.models.lookups import Exact

from registry.dates import DatePrecision, truncate

SHOWN = 10  # rows named per constraint


def clear_spaces_only(model, *fields):
    """An optional text of spaces alone shows as much as an empty one: make it empty."""
    for field in fields:
        records = model._base_manager.filter(Exact(Trim(field), "")).exclude(**{field: ""})
        records.update(**{field: ""})


def move_partial_dates_to_period_start(model, *fields):
    """A date known to the month or year is the first day of its period (registry.dates
    .truncate); its day or month beyond the precision was never shown or exported."""
    for field in fields:
        precision = f"{field}_precision"
        records = model._base_manager.filter(
            **{
                f"{field}__isnull": False,
                f"{precision}__in": [DatePrecision.MONTH, DatePrecision.YEAR],
            }
        ).only(field, precision)
        moved = []
        for record in records.iterator():
            date = getattr(record, field)
            if date != (start := truncate(date, getattr(record, precision))):
                setattr(record, field, start)
                moved.append(record)
        model._base_manager.bulk_update(moved, [field], batch_size=500)


def rows_breaking(model, constraint):
    """A description of the rows (at most SHOWN) that break `constraint`, or None."""
    records = model._base_manager.order_by("pk")
    if isinstance(constraint, models.CheckConstraint):
        ids = list(records.exclude(constraint.condition).values_list("pk", flat=True)[: SHOWN + 1])
    else:  # a UniqueConstraint of a name in any case: the ids of each clash
        (expression,) = constraint.expressions
        clashes = (
            records.values(key=expression)
            .annotate(n=models.Count("pk"))
            .filter(n__gt=1)
            .values("key")
        )
        ids = list(
            records.alias(key=expression)
            .filter(key__in=clashes)
            .values_list("pk", flat=True)[: SHOWN + 1]
        )
    if not ids:
        return None
    listed = ", ".join(map(str, ids[:SHOWN])) + (" …" if len(ids) > SHOWN else "")
    return f"{model._meta.db_table} rows {listed} break {constraint.name}"


def refuse_rows_breaking(app_label, operations):
    """A RunPython function that stops the migration, naming the rows, if any row breaks a
    constraint `operations` add."""

    def check(apps, schema_editor):
        problems = [
            problem
            for operation in operations
            if isinstance(operation, migrations.AddConstraint)
            and (
                problem := rows_breaking(
                    apps.get_model(app_label, operation.model_name), operation.constraint
                )
            )
        ]
        if problems:
            raise RuntimeError(
                "Some rows break rules the forms enforce and the database is about to "
                "enforce too; correct them (in the admin, or by the ids given) and migrate "
                "again. Nothing was changed.\n" + "\n".join(problems)
            )

    return check


# SQLite adds a check by making the table again, and refuses to while a view names the table
# (the search's views, agreements 0008, name most tables): the views are set aside meanwhile,
# as they are, whichever app's migration this is.
_views_set_aside = {}


def set_views_aside(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
        views = cursor.fetchall()
        for name, _sql in views:
            cursor.execute(f'DROP VIEW "{name}"')
    _views_set_aside[connection.alias] = views


def restore_views(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for _name, sql in _views_set_aside.pop(connection.alias, []):
            cursor.execute(sql)
