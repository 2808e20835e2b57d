"""Writing the rows an import adds in bulk: a batch of lines at a time, a few queries per
table rather than a few per row.

Rows get their primary keys when they are made, before they are written (`Ids`), so that a
record one line adds can be named by the next line at once, as the importer's in-memory indexes
require. Every row is written as `bulk_create` writes it (with `COPY` on PostgreSQL:
`bulk_write`), so database constraints and triggers hold as for any other write, and with its
history row, as `save()` would have made.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, connections, models, router, transaction
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

from agreements.models import (
    Agreement,
    AgreementRelation,
    Participation,
    Party,
    Photo,
    Source,
    StatusChange,
)
from labs.models import Lab, LabAgreement, LabHost
from people.models import Person, PersonAlias
from registry.models import FocusArea, Institution, InstitutionAlias

# Records any agreement may name, written first, each with its history row.
SHARED = [Institution, InstitutionAlias, Person, PersonAlias, FocusArea, Lab, LabHost]
# The rows of an agreement, written before the agreement itself: foreign keys are checked at
# commit, and what triggers derive from an agreement's rows (the search index of
# agreements/migrations/0008) is then worked out once per agreement, when it is complete. A
# participation's party comes before it: the trigger of agreements/migrations/0002 reads it.
# These rows get no history row of their own: the agreement's, which dates its creation and
# names who imported it, stands for them, as they are made with it (their later changes are
# recorded as any other).
PARTS = [Party, Participation, Source, Photo, LabAgreement, AgreementRelation, StatusChange]
# Parts given as plain values of these fields rather than instances (Rows.add_values): most rows
# of an import, and making each an instance to read its values back cost a tenth of the
# import's time. A participation's key is left to its sequence: nothing names it.
VALUE_FIELDS = {
    Party: ["id", "agreement_id", "institution_id", "unit_id", "position"],
    Participation: [
        "agreement_id",
        "person_id",
        "role",
        "title",
        "organisation_id",
        "party_id",
        "position",
    ],
}
# Rows per INSERT statement.
INSERT_BATCH = 1000
# Fields whose value, when an int, a str or None, get_db_prep_save gives back unchanged on
# PostgreSQL: bulk_write passes those as they are (its time was half in those calls).
AS_IS = {
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.CharField,
    models.ForeignKey,
    models.IntegerField,
    models.OneToOneField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SlugField,
    models.SmallIntegerField,
    models.TextField,
    models.URLField,
}
PLAIN = (int, str, type(None))
# Primary keys reserved at a time from a PostgreSQL sequence.
RESERVE = 1000


class Ids:
    """Primary keys for rows not yet written. PostgreSQL hands them out from the table's own
    sequence, safe under concurrent writers; elsewhere (SQLite, a single writer) they count on
    from the highest key the table has ever used."""

    def __init__(self):
        self.free = defaultdict(list)
        self.next = {}
        self.vendor = connection.vendor

    def take(self, model):
        if self.vendor != "postgresql":
            if model not in self.next:
                self.next[model] = self.highest(model) + 1
            self.next[model] += 1
            return self.next[model] - 1
        if not self.free[model]:
            self.free[model] = sorted(reserved_keys(model, RESERVE), reverse=True)
        return self.free[model].pop()

    def highest(self, model):
        table, column = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            quote = connection.ops.quote_name
            cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")  # noqa: S608
            highest = cursor.fetchone()[0] or 0
            if connection.vendor == "sqlite":
                # AUTOINCREMENT never gives a key twice, even one whose row was deleted.
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                highest = max(highest, row[0] if row else 0)
        return highest


def reserved_keys(model, count):
    """`count` primary keys from the PostgreSQL sequence of `model`'s table. The sequence is
    looked up once, not for each key (a fourth of the time: 0.9 ms for 1,000 keys, not 3.5)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s))::regclass) "
            "FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def bulk_write(model, rows):
    """Write new `rows` (instances) of `model`, as `bulk_create` would, and return them.

    On PostgreSQL with `COPY`, the same triggers and constraints holding, rather than the
    INSERTs of a thousand rows that bulk_create compiles value by value: under a profiler, a
    10,000-line import spent 13 s writing rather than 26. Rows without a primary key get one
    from the table's sequence first."""
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(rows, batch_size=INSERT_BATCH)
    if missing := [row for row in rows if row.pk is None]:
        for row, key in zip(missing, reserved_keys(model, len(missing)), strict=True):
            row.pk = key
    database = router.db_for_write(model)
    target = connections[database]  # not the proxy `connection`: a lookup per value
    fields = model._meta.concrete_fields
    as_is = [type(field) in AS_IS for field in fields]

    def values(row):
        written = []
        for column, plain in zip(fields, as_is, strict=True):
            value = getattr(row, column.attname) if plain else None
            if not (plain and type(value) in PLAIN):
                # What bulk_create writes: auto_now dates set, then the value as the
                # database takes it.
                value = column.get_db_prep_save(column.pre_save(row, True), target)
            written.append(value)
        return written

    copy_rows(model, fields, (values(row) for row in rows))
    for row in rows:
        row._state.adding, row._state.db = False, database
    return rows


def copy_rows(model, fields, rows):
    """`COPY` into `model`'s table `rows`, each the database values of `fields` in order."""
    target = connections[router.db_for_write(model)]
    quote = target.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with (
        target.cursor() as cursor,
        target.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


@dataclass
class Group:
    """The rows one line adds: written with the rest of its batch, or alone when the batch is
    refused and the line that caused it must be found."""

    line: object
    rows: dict = field(default_factory=lambda: defaultdict(list))  # model -> instances
    values: dict = field(default_factory=lambda: defaultdict(list))  # model -> VALUE_FIELDS
    links: list = field(default_factory=list)  # (instance, m2m field name, [targets])


class Rows:
    """New rows waiting to be written, grouped by the line that adds them."""

    def __init__(self):
        self.ids = Ids()
        self.groups = []
        self.new = defaultdict(set)  # model -> primary keys of rows not written yet
        self.databases = {}  # model -> the database it is written to

    def start(self, line):
        self.groups.append(Group(line))

    def add(self, instance):
        """Give a new row its primary key and keep it for the next write."""
        model = type(instance)
        if instance.pk is None:
            instance.pk = self.ids.take(model)
        # Where it will be written: a stored row may be linked to it meanwhile (a lab that
        # exists gets a focus area this file adds), which Django allows within one database.
        if model not in self.databases:
            self.databases[model] = router.db_for_write(model)
        instance._state.db = self.databases[model]
        if not self.groups:
            self.start(None)
        self.groups[-1].rows[model].append(instance)
        self.new[model].add(instance.pk)
        return instance

    def add_values(self, model, values):
        """Keep a new row of `model` given as the values of VALUE_FIELDS[model], in order."""
        if not self.groups:
            self.start(None)
        self.groups[-1].values[model].append(values)

    def link(self, instance, name, targets):
        """Many-to-many links of a new row (its history records them too): the list `targets`
        as it is when the row is written."""
        self.groups[-1].links.append((instance, name, targets))

    def is_new(self, instance):
        """Whether a row is waiting here: then a change to it is made to the instance, which
        is written as it is when its batch is."""
        return instance.pk in self.new[type(instance)]

    def __len__(self):
        return len(self.groups)

    def take(self):
        """The waiting rows, for write_groups; from now on they count as written."""
        groups, self.groups, self.new = self.groups, [], defaultdict(set)
        return groups


def write_groups(groups):
    """Write the rows of these groups, with their history, in a savepoint: a database error
    is raised with none of them written."""
    if not groups:
        return
    with transaction.atomic():
        insert(groups)


def insert(groups):
    now = timezone.now()
    histories = {}

    def rows_of(model):
        return [row for group in groups for row in group.rows.get(model, ())]

    def create(model, rows, *, with_history):
        bulk_write(model, rows)
        if with_history and hasattr(model._meta, "simple_history_manager_attribute"):
            history = history_rows(model, rows, now)
            bulk_write(history[0]._meta.model, history)
            histories.update(
                ((model, row.pk), record) for row, record in zip(rows, history, strict=True)
            )

    links = defaultdict(list)
    for group in groups:
        for instance, name, targets in group.links:
            links[type(instance), name].append((instance, targets))
    for model in SHARED:
        if rows := rows_of(model):
            create(model, rows, with_history=True)
    lab_links = write_links(Lab, "focus_areas", links[Lab, "focus_areas"])
    write_link_history(Lab, "focus_areas", lab_links, histories)
    for model in PARTS:
        if rows := rows_of(model):
            create(model, rows, with_history=False)
        if values := [row for group in groups for row in group.values.get(model, ())]:
            write_values(model, VALUE_FIELDS[model], values)
    agreement_links = write_links(Agreement, "focus_areas", links[Agreement, "focus_areas"])
    if rows := rows_of(Agreement):
        create(Agreement, rows, with_history=True)
    write_link_history(Agreement, "focus_areas", agreement_links, histories)


def history_rows(model, rows, now):
    """The rows' "created" history records, as simple-history's bulk_history_create makes them
    (who: the signed-in user of the request, if any), but made from positional values, which
    takes a third of the time when there are a hundred thousand."""
    history_model = get_history_manager_for_model(model).model
    user = history_model.get_default_history_user(rows[0])
    made = {
        "history_id": None,
        "history_date": now,
        "history_change_reason": None,
        "history_type": "+",
        "history_user_id": user.pk if user else None,
    }
    tracked = {field.attname for field in history_model.tracked_fields}
    fields = [field.attname for field in history_model._meta.concrete_fields]
    if missing := set(fields) - tracked - made.keys():  # a field of a newer simple-history
        raise RuntimeError(f"history fields the importer does not fill: {missing}")
    return [
        history_model(*(getattr(row, name) if name in tracked else made[name] for name in fields))
        for row in rows
    ]


def write_values(model, names, rows):
    """Write new rows of `model` given as tuples of plain values (keys, texts) of the fields
    `names`, the others left to their database defaults (an automatic key: the next of its
    sequence). On PostgreSQL with `COPY` and no instance made: links and their history are
    most rows of an import, and making them instances took a tenth of its time in Python."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=INSERT_BATCH
        )
        return
    copy_rows(model, [model._meta.get_field(name) for name in names], rows)


def link_names(m2m):
    """The fields of a many-to-many link, as write_links gives its values."""
    return ["id", f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"]


def write_links(model, name, owners):
    """The through rows of a many-to-many field of new rows, (owner, [targets]) each: their
    values (link_names), as written."""
    m2m = model._meta.get_field(name)
    through = m2m.remote_field.through
    names = link_names(m2m)
    pairs = [(instance.pk, other.pk) for instance, targets in owners for other in targets]
    if not pairs:
        return []
    if connection.vendor == "postgresql":
        keys = reserved_keys(through, len(pairs))
        rows = [(key, *pair) for key, pair in zip(keys, pairs, strict=True)]
        write_values(through, names, rows)
        return rows
    # Elsewhere bulk_create gives the keys back.
    made = [through(**dict(zip(names[1:], pair, strict=True))) for pair in pairs]
    return [(row.pk, *pair) for row, pair in zip(bulk_write(through, made), pairs, strict=True)]


def write_link_history(model, name, rows, histories):
    """The links (values from write_links) in the history row of their owner: what
    `focus_areas.set()` on a saved row would record."""
    if not rows:
        return
    m2m = model._meta.get_field(name)
    history_model = apps.get_model(model._meta.app_label, f"Historical{model.__name__}_{name}")
    write_values(
        history_model,
        [*link_names(m2m), "history_id"],
        [(*row, histories[model, row[1]].pk) for row in rows],
    )
