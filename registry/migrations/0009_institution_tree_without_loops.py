"""An institution is never part of itself however deep (A part of B part of A): the forms and
the importer refuse such a parent, and now the database does too, for a write past them or
two moves at once that each found no loop in what the other had not yet committed. A loop
already stored stops the migration, named."""

from django.db import migrations

from registry.locks import INSTITUTION_TREE

MESSAGE = "an institution cannot be part of itself or of one of its own units"

# The parents walked up from the new one: the row itself among them closes a loop.
LOOP = """
    NEW.id IN (
        WITH RECURSIVE up (id) AS (
            SELECT NEW.parent_id
            UNION
            SELECT i.parent_id FROM registry_institution i JOIN up ON i.id = up.id
            WHERE i.parent_id IS NOT NULL
        ) SELECT id FROM up
    )
"""

SQLITE_EVENTS = {"insert": "INSERT", "update": "UPDATE OF parent_id"}
SQLITE = [
    f"""
    CREATE TRIGGER institution_not_within_itself_{name}
    BEFORE {event} ON registry_institution
    FOR EACH ROW WHEN NEW.parent_id IS NOT NULL AND {LOOP}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """
    for name, event in SQLITE_EVENTS.items()
]
SQLITE_REVERSE = [f"DROP TRIGGER institution_not_within_itself_{name};" for name in SQLITE_EVENTS]

# A move waits for any other move to commit, then looks (a statement of its own, so it sees
# what the other committed); SQLite writes one transaction at a time. After the row is
# written, not before: a BEFORE trigger on UPDATE locks the row first, for a save (which sets
# the slug, a key) as strongly as a change of key, and a party then added elsewhere waited
# on it (tests/test_concurrency.py). The row itself is then among those walked: the walk
# reaching it is a loop all the same.
POSTGRESQL = [
    f"""
    CREATE FUNCTION institution_not_within_itself() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            PERFORM pg_advisory_xact_lock({INSTITUTION_TREE});
        END IF;
        IF {LOOP} THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER institution_not_within_itself_insert
    AFTER INSERT ON registry_institution
    FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL)
    EXECUTE FUNCTION institution_not_within_itself();
    CREATE TRIGGER institution_not_within_itself_update
    AFTER UPDATE OF parent_id ON registry_institution
    FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL AND NEW.parent_id IS DISTINCT FROM OLD.parent_id)
    EXECUTE FUNCTION institution_not_within_itself();
    """
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER institution_not_within_itself_insert ON registry_institution;",
    "DROP TRIGGER institution_not_within_itself_update ON registry_institution;",
    "DROP FUNCTION institution_not_within_itself();",
]


def refuse_loops(apps, schema_editor):
    Institution = apps.get_model("registry", "Institution")
    parent = dict(Institution._base_manager.values_list("pk", "parent_id"))
    in_loops = set()
    for start in parent:
        seen, pk = [], start
        while pk is not None and pk not in seen:
            seen.append(pk)
            pk = parent.get(pk)
        if pk is not None:  # came back to one already walked: the loop from there
            in_loops.update(seen[seen.index(pk) :])
    if in_loops:
        raise RuntimeError(
            "Some institutions are part of themselves through their parents; give one of "
            "each loop another parent (in the admin) and migrate again. Nothing was changed.\n"
            f"registry_institution rows {', '.join(map(str, sorted(in_loops)))}"
        )


def run(statements):
    def apply(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_forms_rules_in_database")]

    operations = [
        migrations.RunPython(refuse_loops, migrations.RunPython.noop),
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
