"""A signatory's party must belong to the signatory's own agreement. The rule spans two
tables, which a CHECK constraint cannot see, so a trigger enforces it on both databases."""

from django.db import migrations

MESSAGE = "the party a signatory signed for must belong to the same agreement"

SQLITE = [
    f"""
    CREATE TRIGGER participation_party_same_agreement_{event.lower()}
    BEFORE {event} ON agreements_participation
    FOR EACH ROW WHEN NEW.party_id IS NOT NULL AND NEW.agreement_id IS NOT
        (SELECT agreement_id FROM agreements_party WHERE id = NEW.party_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """
    for event in ("INSERT", "UPDATE")
] + [
    f"""
    CREATE TRIGGER party_keeps_its_signatories
    BEFORE UPDATE OF agreement_id ON agreements_party
    FOR EACH ROW WHEN EXISTS
        (SELECT 1 FROM agreements_participation WHERE party_id = NEW.id
         AND agreement_id IS NOT NEW.agreement_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """
]
SQLITE_REVERSE = [
    "DROP TRIGGER participation_party_same_agreement_insert;",
    "DROP TRIGGER participation_party_same_agreement_update;",
    "DROP TRIGGER party_keeps_its_signatories;",
]

POSTGRESQL = [
    f"""
    CREATE FUNCTION participation_party_same_agreement() RETURNS trigger AS $$
    BEGIN
        IF NEW.party_id IS NOT NULL AND NEW.agreement_id IS DISTINCT FROM
                (SELECT agreement_id FROM agreements_party WHERE id = NEW.party_id) THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER participation_party_same_agreement
    BEFORE INSERT OR UPDATE ON agreements_participation
    FOR EACH ROW EXECUTE FUNCTION participation_party_same_agreement();

    CREATE FUNCTION party_keeps_its_signatories() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM agreements_participation WHERE party_id = NEW.id
                   AND agreement_id IS DISTINCT FROM NEW.agreement_id) THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER party_keeps_its_signatories
    BEFORE UPDATE OF agreement_id ON agreements_party
    FOR EACH ROW EXECUTE FUNCTION party_keeps_its_signatories();
    """
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER participation_party_same_agreement ON agreements_participation;",
    "DROP FUNCTION participation_party_same_agreement();",
    "DROP TRIGGER party_keeps_its_signatories ON agreements_party;",
    "DROP FUNCTION party_keeps_its_signatories();",
]


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in statements.get(vendor, ()):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
