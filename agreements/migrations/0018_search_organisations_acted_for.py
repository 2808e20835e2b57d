# ruff: noqa: S608 - every statement here is built from the search migrations' own constants
"""The search matches the names of the institutions an agreement's people acted for, not only
those of its parties: a municipal government whose officials witnessed a signing is found by
its name (DESIGN.md: "A witness may belong to an institution that is not a party").

On PostgreSQL the refresh (0009) reads them, and the triggers follow them: a participation's
organisation changed, and a name or alias of an institution someone acted for. On SQLite the
search documents are a view (0008), made again. A later migration that makes the SQLite views
again must make these (SQLITE below), not 0008's."""

import importlib

from django.db import migrations

first = importlib.import_module("agreements.migrations.0008_search_index")
deferred = importlib.import_module("agreements.migrations.0009_deferred_search_refresh")


def refresh_now(organisations):
    old = deferred.document_select("AND id = ANY(ids)")
    new = deferred.document_select("AND id = ANY(ids)", organisations=organisations)
    assert old in deferred.REFRESH_NOW
    return deferred.REFRESH_NOW.replace(old, new)


ACTED_FOR = "SELECT agreement_id FROM agreements_participation WHERE organisation_id IN ({ids})"


def sources(organisations):
    """0008's triggers that change: (table, link columns, document columns, affected, events)."""
    participation = first.SOURCES["agreements_participation"]
    institution = first.SOURCES["registry_institution"]
    alias = first.SOURCES["registry_institutionalias"]
    if organisations:
        participation = (
            participation[0],
            [*participation[1], "organisation_id"],
            *participation[2:],
        )
        institution = (
            *institution[:2],
            institution[2] + " UNION " + ACTED_FOR.format(ids="SELECT id FROM below"),
            institution[3],
        )
        alias = (
            *alias[:2],
            alias[2] + " UNION " + ACTED_FOR.format(ids="SELECT institution_id FROM R"),
            alias[3],
        )
    return {
        "agreements_participation": participation,
        "registry_institution": institution,
        "registry_institutionalias": alias,
    }


def triggers(organisations):
    return [
        f"DROP TRIGGER search_{table}_{event.lower()} ON {table}; "
        f"DROP FUNCTION search_{table}_{event.lower()}();"
        + first.trigger_sql(table, link_columns, document_columns, affected, event)
        for table, (link_columns, document_columns, affected, events) in sources(
            organisations
        ).items()
        for event in events
    ]


def postgresql(organisations):
    return [
        refresh_now(organisations),
        *triggers(organisations),
        # The documents of every agreement whose people acted for anyone.
        "SELECT search_refresh_now(ARRAY(SELECT DISTINCT agreement_id "
        "FROM agreements_participation WHERE organisation_id IS NOT NULL), false, true)",
    ]


def sqlite(organisations):
    document = first.document_select("sqlite", "", organisations=organisations)
    return [
        "DROP VIEW agreements_searchdocument",
        "CREATE VIEW agreements_searchdocument (agreement_id, title, summary, document, "
        + ", ".join(first.EXPORT_COLUMNS)
        + ") AS "
        + document,
    ]


SQLITE = first.SQLITE[:1] + sqlite(organisations=True)[1:]


class Migration(migrations.Migration):
    dependencies = [("agreements", "0017_translated_model_names")]

    operations = [
        migrations.RunPython(
            first.run({"postgresql": postgresql(True), "sqlite": sqlite(True)}),
            first.run({"postgresql": postgresql(False), "sqlite": sqlite(False)}),
        )
    ]
