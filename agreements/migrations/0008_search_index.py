# ruff: noqa: S608 - every statement here is built from this file's own constants
"""What the public search reads at 100,000 agreements (README, "Performance and scaling").

Three relations, derived from the agreements, parties, participations, focus areas and labs,
and the names of institutions, people, labs and focus areas:

- `agreements_searchdocument`: one row per agreement (draft or not) with every text the search
  matches (title, summary, place; every stored name of its parties and their signing units;
  of its people; its labs; its focus areas), one per line, so that a search term is one
  `LIKE` on one column (a trigram index on PostgreSQL) instead of a union over eight tables.
- `agreements_searchlink`: one row per published agreement and facet value: institutions
  ('i', parties and signing units *with all their ancestors*), party institutions ('p'),
  their kinds ('k') and countries ('c'), focus areas ('f'), type ('t'), year ('y') and
  whether it has a lab ('l'). A facet is then one `COUNT(*) ... GROUP BY`, no DISTINCT.
- `agreements_searchtotal` (PostgreSQL): those links counted over every published agreement
  (scope 0) and over the agreements of each institution (scope = its id), so that the
  unfiltered search and the search for one institution read their facets ready-made.

On SQLite the first two are views over the tables they derive from (the data is small), and
the totals are not kept: the code counts the links there (agreements/facets.py).

On PostgreSQL they are tables kept true by triggers on every table they derive from, so that
every write path (the admin, the importer's bulk_create, merges, scripts, raw SQL) keeps them
true without calling anything. The triggers are per statement: a bulk insert of 2,000 rows
refreshes its agreements once. Writers that refresh take one transaction-level advisory lock
first, so that concurrent updates of the same totals queue instead of deadlocking.
"""

import django.db.models.deletion
from django.db import migrations, models

import agreements.search_index

LINK_FACETS_SCOPED = "('p', 'k', 'c', 'f', 't', 'y', 'l')"


def link_select(vendor, restrict):
    """(agreement_id, facet, value) of the published agreements `restrict` allows."""
    if vendor == "postgresql":
        year = "CAST(CAST(EXTRACT(YEAR FROM c.signed_on) AS INTEGER) AS TEXT)"
    else:
        year = "CAST(CAST(substr(c.signed_on, 1, 4) AS INTEGER) AS TEXT)"
    return f"""
    WITH RECURSIVE chosen (id, agreement_type_id, signed_on) AS (
        SELECT id, agreement_type_id, signed_on FROM agreements_agreement
        WHERE status = 'published' {restrict}
    ), named (agreement_id, institution_id) AS (
        SELECT p.agreement_id, p.institution_id
        FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
        UNION
        SELECT p.agreement_id, p.unit_id
        FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
        WHERE p.unit_id IS NOT NULL
    ), reach (node, ancestor) AS (
        SELECT DISTINCT institution_id, institution_id FROM named
        UNION
        SELECT reach.node, up.parent_id
        FROM reach JOIN registry_institution up ON up.id = reach.ancestor
        WHERE up.parent_id IS NOT NULL
    )
    SELECT DISTINCT n.agreement_id, 'i', CAST(r.ancestor AS TEXT)
    FROM named n JOIN reach r ON r.node = n.institution_id
    UNION ALL
    SELECT p.agreement_id, 'p', CAST(p.institution_id AS TEXT)
    FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
    UNION ALL
    SELECT DISTINCT p.agreement_id, 'k', i.kind
    FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
    JOIN registry_institution i ON i.id = p.institution_id
    UNION ALL
    SELECT DISTINCT p.agreement_id, 'c', i.country
    FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
    JOIN registry_institution i ON i.id = p.institution_id
    WHERE i.country <> ''
    UNION ALL
    SELECT f.agreement_id, 'f', CAST(f.focusarea_id AS TEXT)
    FROM agreements_agreement_focus_areas f JOIN chosen c ON c.id = f.agreement_id
    UNION ALL
    SELECT c.id, 't', CAST(c.agreement_type_id AS TEXT) FROM chosen c
    UNION ALL
    SELECT c.id, 'y', {year} FROM chosen c WHERE c.signed_on IS NOT NULL
    UNION ALL
    SELECT c.id, 'l', CASE WHEN EXISTS (
        SELECT 1 FROM labs_labagreement l WHERE l.agreement_id = c.id
    ) THEN 'true' ELSE 'false' END FROM chosen c
    """


def document_select(vendor, restrict, *, organisations=False):
    """(agreement_id, title, summary, document) of every agreement `restrict` allows:
    `document` has every text the search matches, one a line (a search term has no line
    break, so it never spans two). In upper case on PostgreSQL, so that a search compares
    them as they are (agreements/search_index.py, Matches). With `organisations` (0018), the
    names of the institutions its people acted for too."""
    if vendor == "postgresql":
        newline, join, case = "E'\\n'", "string_agg(names.n, E'\\n' ORDER BY names.n)", "UPPER"
    else:
        newline, join, case = "char(10)", "group_concat(names.n, char(10))", ""
    institutions = (
        "SELECT institution_id FROM agreements_party WHERE agreement_id = a.id "
        "UNION SELECT unit_id FROM agreements_party WHERE agreement_id = a.id"
    )
    if organisations:
        institutions += (
            " UNION SELECT organisation_id FROM agreements_participation WHERE agreement_id = a.id"
        )
    people = "SELECT person_id FROM agreements_participation WHERE agreement_id = a.id"
    return f"""
    SELECT a.id, {case}(a.title), {case}(a.summary), {case}(
        a.title || {newline} || a.summary || {newline} || a.place || {newline} ||
        COALESCE((SELECT {join} FROM (
            SELECT i.name AS n FROM registry_institution i WHERE i.id IN ({institutions})
            UNION ALL
            SELECT i.native_name FROM registry_institution i WHERE i.id IN ({institutions})
            UNION ALL
            SELECT i.acronym FROM registry_institution i WHERE i.id IN ({institutions})
            UNION ALL
            SELECT al.name FROM registry_institutionalias al
            WHERE al.institution_id IN ({institutions})
            UNION ALL
            SELECT pe.name FROM people_person pe WHERE pe.id IN ({people})
            UNION ALL
            SELECT pe.native_name FROM people_person pe WHERE pe.id IN ({people})
            UNION ALL
            SELECT pa.name FROM people_personalias pa WHERE pa.person_id IN ({people})
            UNION ALL
            SELECT lb.name FROM labs_lab lb WHERE lb.id IN (
                SELECT lab_id FROM labs_labagreement WHERE agreement_id = a.id)
            UNION ALL
            SELECT fa.name FROM registry_focusarea fa WHERE fa.id IN (
                SELECT focusarea_id FROM agreements_agreement_focus_areas
                WHERE agreement_id = a.id)
        ) AS names WHERE names.n <> ''), '')),
        {export_columns(vendor)}
    FROM agreements_agreement a WHERE TRUE {restrict}
    """


EXPORT_COLUMNS = ["parties", "units", "signatories", "witnesses", "focus_areas", "labs", "sources"]


def export_columns(vendor):
    """The CSV download's columns that list related rows, each its names joined by "; " in
    the order agreements/exports.py gives them (focus areas and labs by code point). Kept on
    PostgreSQL only (empty on SQLite, which cannot order what it aggregates: the export joins
    them there)."""
    if vendor != "postgresql":
        return ", ".join(["''"] * len(EXPORT_COLUMNS))
    joined = [
        "SELECT string_agg(i.name, '; ' ORDER BY p.position, p.id) FROM agreements_party p "
        "JOIN registry_institution i ON i.id = p.institution_id WHERE p.agreement_id = a.id",
        "SELECT string_agg(i.name, '; ' ORDER BY p.position, p.id) FROM agreements_party p "
        "JOIN registry_institution i ON i.id = p.unit_id WHERE p.agreement_id = a.id",
        *(
            "SELECT string_agg(pe.name, '; ' ORDER BY x.position, x.id) "
            "FROM agreements_participation x JOIN people_person pe ON pe.id = x.person_id "
            f"WHERE x.agreement_id = a.id AND x.role = '{role}'"
            for role in ("signatory", "witness")
        ),
        "SELECT string_agg(f.name, '; ' ORDER BY f.name COLLATE \"C\") "
        "FROM agreements_agreement_focus_areas l "
        "JOIN registry_focusarea f ON f.id = l.focusarea_id WHERE l.agreement_id = a.id",
        "SELECT string_agg(b.name, '; ' ORDER BY b.name COLLATE \"C\") "
        "FROM labs_labagreement l JOIN labs_lab b ON b.id = l.lab_id WHERE l.agreement_id = a.id",
        "SELECT string_agg(s.url, '; ' ORDER BY s.position, s.id) FROM agreements_source s "
        "WHERE s.agreement_id = a.id AND s.url <> ''",
    ]
    return ", ".join(f"COALESCE(({sql}), '')" for sql in joined)


SQLITE = [
    "CREATE VIEW agreements_searchlink (agreement_id, facet, value) AS "
    + link_select("sqlite", ""),
    "CREATE VIEW agreements_searchdocument (agreement_id, title, summary, document, "
    + ", ".join(EXPORT_COLUMNS)
    + ") AS "
    + document_select("sqlite", ""),
]
SQLITE_REVERSE = ["DROP VIEW agreements_searchlink", "DROP VIEW agreements_searchdocument"]

REFRESH = f"""
CREATE FUNCTION search_refresh(ids bigint[], links boolean, document boolean)
RETURNS void AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    IF links THEN
        -- One writer at a time updates the totals: concurrent transactions touching the
        -- same counts queue here rather than deadlock on the counts' rows.
        PERFORM pg_advisory_xact_lock(5318008);
        -- The links as they are and as they should be, one array per agreement; only the
        -- agreements whose links changed are written, and the totals move by the net
        -- change. No join here depends on the planner's row estimates, which lag behind a
        -- table filled in the same transaction (a self-join planned as a nested loop over
        -- thousands of rows took minutes).
        WITH fresh (agreement_id, facet, value) AS (
            {link_select("postgresql", "AND id = ANY(ids)")}
        ), fresh_links AS (
            SELECT agreement_id, array_agg(facet || value ORDER BY facet, value) AS linked
            FROM fresh GROUP BY agreement_id
        ), old_links AS (
            SELECT agreement_id, array_agg(facet || value ORDER BY facet, value) AS linked
            FROM agreements_searchlink WHERE agreement_id = ANY(ids) GROUP BY agreement_id
        ), diff AS (
            SELECT agreement_id, f.linked AS new_links, o.linked AS old_links
            FROM fresh_links f FULL JOIN old_links o USING (agreement_id)
            WHERE f.linked IS DISTINCT FROM o.linked
        ), removed AS (
            SELECT agreement_id, link FROM diff, unnest(old_links) AS link
            WHERE new_links IS NULL OR NOT link = ANY(new_links)
        ), gone AS (
            DELETE FROM agreements_searchlink l USING removed r
            WHERE l.agreement_id = r.agreement_id AND l.facet = left(r.link, 1)
            AND l.value = substr(r.link, 2)
        ), made AS (
            INSERT INTO agreements_searchlink (agreement_id, facet, value)
            SELECT agreement_id, left(link, 1), substr(link, 2)
            FROM diff, unnest(new_links) AS link
            WHERE old_links IS NULL OR NOT link = ANY(old_links)
        ), sides (n, linked) AS (
            SELECT 1, new_links FROM diff WHERE new_links IS NOT NULL
            UNION ALL
            SELECT -1, old_links FROM diff WHERE old_links IS NOT NULL
        ), counted (scope, link, n) AS (
            SELECT 0::bigint, link, n FROM sides, unnest(linked) AS link
            UNION ALL
            SELECT CAST(substr(scope, 2) AS bigint), link, n
            FROM sides, unnest(linked) AS scope, unnest(linked) AS link
            WHERE left(scope, 1) = 'i' AND left(link, 1) IN {LINK_FACETS_SCOPED}
        )
        INSERT INTO agreements_searchtotal (scope, facet, value, n)
        SELECT scope, left(link, 1), substr(link, 2), SUM(n) FROM counted GROUP BY scope, link
        HAVING SUM(n) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (scope, facet, value)
        DO UPDATE SET n = agreements_searchtotal.n + EXCLUDED.n;
    END IF;
    IF document THEN
        DELETE FROM agreements_searchdocument WHERE agreement_id = ANY(ids);
        INSERT INTO agreements_searchdocument (agreement_id, title, summary, document,
            parties, units, signatories, witnesses, focus_areas, labs, sources)
        {document_select("postgresql", "AND a.id = ANY(ids)")};
    END IF;
END $$ LANGUAGE plpgsql
-- A refresh reads the rows of some agreements by their indexes. Statistics lag behind a
-- table that a transaction fills from empty (a test, a first import); this keeps the
-- planner from then choosing to scan whole tables.
SET enable_seqscan = off;
"""

# table: (columns the links derive from, columns the search document derives from, the
# agreements a set of its rows `R` touches, events). An update refreshes the links of the
# rows whose link columns changed and the documents of those whose document columns did.
PARTIES_OF = (
    "SELECT agreement_id FROM agreements_party WHERE institution_id IN ({ids}) "
    "UNION SELECT agreement_id FROM agreements_party WHERE unit_id IN ({ids})"
)
OWN = "SELECT agreement_id FROM R"
ALL_EVENTS = ["INSERT", "UPDATE", "DELETE"]
SOURCES = {
    "agreements_agreement": (
        ["status", "agreement_type_id", "signed_on"],
        ["title", "summary", "place"],
        "SELECT id FROM R",
        ALL_EVENTS,
    ),
    "agreements_party": (
        ["agreement_id", "institution_id", "unit_id"],
        ["agreement_id", "institution_id", "unit_id", "position"],
        OWN,
        ALL_EVENTS,
    ),
    "agreements_participation": (
        [],
        ["agreement_id", "person_id", "role", "position"],
        OWN,
        ALL_EVENTS,
    ),
    "agreements_source": ([], ["agreement_id", "url", "position"], OWN, ALL_EVENTS),
    "agreements_agreement_focus_areas": (
        ["agreement_id", "focusarea_id"],
        ["agreement_id", "focusarea_id"],
        OWN,
        ALL_EVENTS,
    ),
    "labs_labagreement": (["agreement_id", "lab_id"], ["agreement_id", "lab_id"], OWN, ALL_EVENTS),
    # A unit moved to another parent changes the ancestors of its own units too.
    "registry_institution": (
        ["kind", "country", "parent_id"],
        ["name", "native_name", "acronym"],
        "WITH RECURSIVE below (id) AS (SELECT id FROM R UNION "
        "SELECT i.id FROM registry_institution i JOIN below ON i.parent_id = below.id) "
        + PARTIES_OF.format(ids="SELECT id FROM below"),
        ["UPDATE"],
    ),
    "registry_institutionalias": (
        [],
        ["institution_id", "name"],
        PARTIES_OF.format(ids="SELECT institution_id FROM R"),
        ALL_EVENTS,
    ),
    "registry_focusarea": (
        [],
        ["name"],
        "SELECT agreement_id FROM agreements_agreement_focus_areas "
        "WHERE focusarea_id IN (SELECT id FROM R)",
        ["UPDATE"],
    ),
    "people_person": (
        [],
        ["name", "native_name"],
        "SELECT agreement_id FROM agreements_participation WHERE person_id IN (SELECT id FROM R)",
        ["UPDATE"],
    ),
    "people_personalias": (
        [],
        ["person_id", "name"],
        "SELECT agreement_id FROM agreements_participation "
        "WHERE person_id IN (SELECT person_id FROM R)",
        ALL_EVENTS,
    ),
    "labs_lab": (
        [],
        ["name"],
        "SELECT agreement_id FROM labs_labagreement WHERE lab_id IN (SELECT id FROM R)",
        ["UPDATE"],
    ),
}


def refresh_call(rows, affected, links, document):
    return f"""
        PERFORM search_refresh(ARRAY(
            WITH R AS ({rows})
            SELECT DISTINCT agreement_id FROM ({affected}) AS touched (agreement_id)
        ), {str(links).lower()}, {str(document).lower()});"""


def trigger_sql(table, link_columns, document_columns, affected, event):
    name = f"search_{table}_{event.lower()}"
    if event == "UPDATE":
        calls = []
        for columns, links in ((link_columns, True), (document_columns, False)):
            if not columns:
                continue
            changed = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in columns)
            rows = (
                f"SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {changed} "
                f"UNION ALL SELECT o.* FROM new_rows n JOIN old_rows o ON o.id = n.id "
                f"WHERE {changed}"
            )
            calls.append(refresh_call(rows, affected, links, not links))
        body = "".join(calls)
        referencing = "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows"
    else:
        transition = "new_rows" if event == "INSERT" else "old_rows"
        body = refresh_call(
            f"SELECT * FROM {transition}", affected, bool(link_columns), bool(document_columns)
        )
        kind = "NEW" if event == "INSERT" else "OLD"
        referencing = f"REFERENCING {kind} TABLE AS {transition}"
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger AS $$
    BEGIN{body}
        RETURN NULL;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER {name} AFTER {event} ON {table} {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();
    """


POSTGRESQL = [
    """
    CREATE TABLE agreements_searchlink (
        agreement_id bigint NOT NULL,
        facet char(1) NOT NULL,
        value varchar(100) NOT NULL,
        PRIMARY KEY (agreement_id, facet, value)
    );
    -- The facets of a filtered search: its agreements' links, counted by value.
    CREATE INDEX searchlink_value_idx ON agreements_searchlink (facet, value, agreement_id);
    CREATE TABLE agreements_searchtotal (
        scope bigint NOT NULL,
        facet char(1) NOT NULL,
        value varchar(100) NOT NULL,
        n integer NOT NULL,
        PRIMARY KEY (scope, facet, value)
    );
    CREATE TABLE agreements_searchdocument (
        agreement_id bigint PRIMARY KEY,
        title text NOT NULL,
        summary text NOT NULL,
        document text NOT NULL,
        parties text NOT NULL, units text NOT NULL, signatories text NOT NULL,
        witnesses text NOT NULL, focus_areas text NOT NULL, labs text NOT NULL,
        sources text NOT NULL
    );
    -- "Which agreements are published" without reading the (wide) agreements: the
    -- semi-joins of published() (participations, labs, people of an institution).
    CREATE INDEX agreement_published_id_idx ON agreements_agreement (id)
        WHERE status = 'published';
    -- The people of an institution: its participations, read from the index alone.
    CREATE INDEX participation_organisation_idx ON agreements_participation (organisation_id)
        INCLUDE (agreement_id, person_id);
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    -- A search term is a LIKE on the document, in upper case as the document is.
    CREATE INDEX searchdocument_trgm_idx ON agreements_searchdocument
        USING gin (document gin_trgm_ops);
    """,
    REFRESH,
    *(
        trigger_sql(table, link_columns, document_columns, affected, event)
        for table, (link_columns, document_columns, affected, events) in SOURCES.items()
        for event in events
    ),
    # The test runner's flush empties the tables with TRUNCATE, which fires no row or
    # statement trigger of the kinds above.
    """
    CREATE FUNCTION search_truncated() RETURNS trigger AS $$
    BEGIN
        DELETE FROM agreements_searchlink;
        DELETE FROM agreements_searchtotal;
        DELETE FROM agreements_searchdocument;
        RETURN NULL;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER search_truncated AFTER TRUNCATE ON agreements_agreement
    FOR EACH STATEMENT EXECUTE FUNCTION search_truncated();
    """,
    "SELECT search_refresh(ARRAY(SELECT id FROM agreements_agreement), true, true)",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER search_truncated ON agreements_agreement",
    "DROP FUNCTION search_truncated()",
    *(
        f"DROP TRIGGER IF EXISTS search_{table}_{event.lower()} ON {table}; "
        f"DROP FUNCTION IF EXISTS search_{table}_{event.lower()}()"
        for table, (*_columns, _affected, events) in SOURCES.items()
        for event in events
    ),
    "DROP FUNCTION search_refresh(bigint[], boolean, boolean)",
    "DROP INDEX IF EXISTS agreement_published_id_idx",
    "DROP INDEX IF EXISTS participation_organisation_idx",
    "DROP TABLE agreements_searchlink, agreements_searchtotal, agreements_searchdocument",
]


def run(statements):
    def apply(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0007_review_workflow"),
        ("labs", "0001_initial"),
        ("people", "0001_initial"),
        ("registry", "0002_constraint_messages"),
    ]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
        # The models over them (agreements/search_index.py): state only, managed = False.
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "agreement",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="agreements.agreement",
                    ),
                ),
                ("title", agreements.search_index.SearchText()),
                ("summary", agreements.search_index.SearchText()),
                ("document", agreements.search_index.SearchText()),
                ("parties", models.TextField()),
                ("units", models.TextField()),
                ("signatories", models.TextField()),
                ("witnesses", models.TextField()),
                ("focus_areas", models.TextField()),
                ("labs", models.TextField()),
                ("sources", models.TextField()),
            ],
            options={"db_table": "agreements_searchdocument", "managed": False},
        ),
        migrations.CreateModel(
            name="SearchLink",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "agreement_id",
                        "facet",
                        "value",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("agreement_id", models.BigIntegerField()),
                ("facet", models.CharField(max_length=1)),
                ("value", models.CharField(max_length=100)),
            ],
            options={"db_table": "agreements_searchlink", "managed": False},
        ),
        migrations.CreateModel(
            name="SearchTotal",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "scope",
                        "facet",
                        "value",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("scope", models.BigIntegerField()),
                ("facet", models.CharField(max_length=1)),
                ("value", models.CharField(max_length=100)),
                ("n", models.IntegerField()),
            ],
            options={"db_table": "agreements_searchtotal", "managed": False},
        ),
    ]
