# ruff: noqa: S608 - every statement here is built from this file's own constants
"""Faster refreshes of the search index of 0008 (agreements/search_index.py).

- A bulk write may put off the refresh to its end (search_index.refreshed_once): the
  triggers then note the agreements they touch instead of refreshing them, and one refresh
  of all of them follows. An import of 100,000 agreements refreshed in 200 batches spent 20
  of its 24 minutes in the triggers.
- The search documents are worked out by set (a join and GROUP BY per kind of name) rather
  than by subqueries per agreement, the same texts twenty times faster.
- The totals count pairs of parties, over all published agreements and over each
  institution's (PAIRS_COUNTED).
- The trigram index on summaries (0006) goes: the search matches summaries in the search
  document, and nothing else searches them, but every new agreement paid for it.
"""

import importlib

from django.db import migrations

previous = importlib.import_module("agreements.migrations.0008_search_index")
EXPORT_COLUMNS = previous.EXPORT_COLUMNS


def document_select(restrict, *, organisations=False):
    """(agreement_id, title, summary, document, *EXPORT_COLUMNS) of the agreements
    `restrict` allows, as 0008's document_select gives them on PostgreSQL, but worked out for
    all of them together (a join and GROUP BY per kind of name) rather than by subqueries
    per agreement: 0.9 s rather than 19 s for 3,000 agreements. With `organisations` (0018),
    the names of the institutions its people acted for too."""
    newline = "E'\\n'"
    acted_for = (
        """
        UNION
        SELECT x.agreement_id, x.organisation_id
        FROM agreements_participation x JOIN chosen c ON c.id = x.agreement_id
        WHERE x.organisation_id IS NOT NULL"""
        if organisations
        else ""
    )
    export = {
        "parties": "SELECT p.agreement_id, string_agg(i.name, '; ' ORDER BY p.position, p.id) "
        "FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id "
        "JOIN registry_institution i ON i.id = p.institution_id GROUP BY p.agreement_id",
        "units": "SELECT p.agreement_id, string_agg(i.name, '; ' ORDER BY p.position, p.id) "
        "FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id "
        "JOIN registry_institution i ON i.id = p.unit_id GROUP BY p.agreement_id",
        **{
            column: "SELECT x.agreement_id, string_agg(pe.name, '; ' ORDER BY x.position, x.id) "
            "FROM agreements_participation x JOIN chosen c ON c.id = x.agreement_id "
            f"JOIN people_person pe ON pe.id = x.person_id WHERE x.role = '{role}' "
            "GROUP BY x.agreement_id"
            for column, role in (("signatories", "signatory"), ("witnesses", "witness"))
        },
        "focus_areas": "SELECT l.agreement_id, "
        "string_agg(f.name, '; ' ORDER BY f.name COLLATE \"C\") "
        "FROM agreements_agreement_focus_areas l JOIN chosen c ON c.id = l.agreement_id "
        "JOIN registry_focusarea f ON f.id = l.focusarea_id GROUP BY l.agreement_id",
        "labs": "SELECT l.agreement_id, "
        "string_agg(b.name, '; ' ORDER BY b.name COLLATE \"C\") "
        "FROM labs_labagreement l JOIN chosen c ON c.id = l.agreement_id "
        "JOIN labs_lab b ON b.id = l.lab_id GROUP BY l.agreement_id",
        "sources": "SELECT s.agreement_id, string_agg(s.url, '; ' ORDER BY s.position, s.id) "
        "FROM agreements_source s JOIN chosen c ON c.id = s.agreement_id WHERE s.url <> '' "
        "GROUP BY s.agreement_id",
    }
    ctes = ",\n".join(f"x_{name} (agreement_id, v) AS ({sql})" for name, sql in export.items())
    joins = "\n".join(
        f"LEFT JOIN x_{name} ON x_{name}.agreement_id = a.id" for name in EXPORT_COLUMNS
    )
    columns = ", ".join(f"COALESCE(x_{name}.v, '')" for name in EXPORT_COLUMNS)
    return f"""
    WITH chosen (id) AS (SELECT id FROM agreements_agreement WHERE TRUE {restrict}),
    inst (agreement_id, institution_id) AS (
        SELECT p.agreement_id, p.institution_id
        FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
        UNION
        SELECT p.agreement_id, p.unit_id
        FROM agreements_party p JOIN chosen c ON c.id = p.agreement_id
        WHERE p.unit_id IS NOT NULL{acted_for}
    ), person (agreement_id, person_id) AS (
        SELECT DISTINCT x.agreement_id, x.person_id
        FROM agreements_participation x JOIN chosen c ON c.id = x.agreement_id
    ), lab (agreement_id, lab_id) AS (
        SELECT DISTINCT l.agreement_id, l.lab_id
        FROM labs_labagreement l JOIN chosen c ON c.id = l.agreement_id
    ), names (agreement_id, n) AS (
        SELECT s.agreement_id, v.n FROM inst s
        JOIN registry_institution i ON i.id = s.institution_id,
        LATERAL (VALUES (i.name), (i.native_name), (i.acronym)) AS v (n)
        UNION ALL
        SELECT s.agreement_id, al.name FROM inst s
        JOIN registry_institutionalias al ON al.institution_id = s.institution_id
        UNION ALL
        SELECT s.agreement_id, v.n FROM person s JOIN people_person pe ON pe.id = s.person_id,
        LATERAL (VALUES (pe.name), (pe.native_name)) AS v (n)
        UNION ALL
        SELECT s.agreement_id, pa.name FROM person s
        JOIN people_personalias pa ON pa.person_id = s.person_id
        UNION ALL
        SELECT s.agreement_id, lb.name FROM lab s JOIN labs_lab lb ON lb.id = s.lab_id
        UNION ALL
        SELECT f.agreement_id, fa.name FROM agreements_agreement_focus_areas f
        JOIN chosen c ON c.id = f.agreement_id JOIN registry_focusarea fa ON fa.id = f.focusarea_id
    ), joined (agreement_id, names) AS (
        SELECT agreement_id, string_agg(n, {newline} ORDER BY n) FROM names WHERE n <> ''
        GROUP BY agreement_id
    ),
    {ctes}
    SELECT a.id, UPPER(a.title), UPPER(a.summary), UPPER(
        a.title || {newline} || a.summary || {newline} || a.place || {newline} ||
        COALESCE(joined.names, '')), {columns}
    FROM agreements_agreement a JOIN chosen c ON c.id = a.id
    LEFT JOIN joined ON joined.agreement_id = a.id
    {joins}
    """


# The totals count pairs of parties too ('q', "a b" with a < b as text), over all published
# agreements and over each institution's: the partnership network of the unfiltered search,
# of the search for one institution and of its page reads them ready-made rather than joining
# the links of its 30 largest parties (50 to 100 ms at 100,000 agreements).
OLD_COUNTED = """
            WHERE left(scope, 1) = 'i' AND left(link, 1) IN ('p', 'k', 'c', 'f', 't', 'y', 'l')
        )"""
PAIRS_COUNTED = """
            WHERE left(scope, 1) = 'i' AND left(link, 1) IN ('p', 'k', 'c', 'f', 't', 'y', 'l')
            UNION ALL
            SELECT 0::bigint, 'q' || substr(a, 2) || ' ' || substr(b, 2), n
            FROM sides, unnest(linked) AS a, unnest(linked) AS b
            WHERE left(a, 1) = 'p' AND left(b, 1) = 'p' AND a < b
            UNION ALL
            SELECT CAST(substr(scope, 2) AS bigint), 'q' || substr(a, 2) || ' ' || substr(b, 2), n
            FROM sides, unnest(linked) AS scope, unnest(linked) AS a, unnest(linked) AS b
            WHERE left(scope, 1) = 'i' AND left(a, 1) = 'p' AND left(b, 1) = 'p' AND a < b
        )"""
PAIRS_NOW = """
WITH pairs (agreement_id, value) AS (
    SELECT a.agreement_id, a.value || ' ' || b.value
    FROM agreements_searchlink a JOIN agreements_searchlink b ON b.agreement_id = a.agreement_id
    WHERE a.facet = 'p' AND b.facet = 'p' AND a.value < b.value
)
INSERT INTO agreements_searchtotal (scope, facet, value, n)
SELECT 0, 'q', value, COUNT(*) FROM pairs GROUP BY value
UNION ALL
SELECT CAST(s.value AS bigint), 'q', pairs.value, COUNT(*)
FROM pairs JOIN agreements_searchlink s ON s.agreement_id = pairs.agreement_id
WHERE s.facet = 'i' GROUP BY s.value, pairs.value;
"""
OLD_DOCUMENT = previous.document_select("postgresql", "AND a.id = ANY(ids)")
OLD_SEQSCAN = "\nSET enable_seqscan = off;\n"
assert OLD_DOCUMENT in previous.REFRESH and previous.REFRESH.endswith(OLD_SEQSCAN)
assert OLD_COUNTED in previous.REFRESH
# The refresh itself, now search_refresh_now: by sets, and planned as any query (a bulk
# refresh, after ANALYZE, reads whole tables); what the triggers call keeps index scans.
REFRESH_NOW = (
    previous.REFRESH.replace(
        "CREATE FUNCTION search_refresh(", "CREATE OR REPLACE FUNCTION search_refresh_now("
    )
    .replace(OLD_DOCUMENT, document_select("AND id = ANY(ids)"))
    .replace(OLD_COUNTED, PAIRS_COUNTED)
    .removesuffix(OLD_SEQSCAN)
    + "\n;"
)
DEFERRABLE = f"""
ALTER FUNCTION search_refresh(bigint[], boolean, boolean) RENAME TO search_refresh_now;
{REFRESH_NOW}
-- What the triggers call: the refresh, or, while a transaction has put it off, a note of the
-- agreements to refresh at its end (in the temporary table that transaction made).
CREATE FUNCTION search_refresh(ids bigint[], links boolean, document boolean)
RETURNS void AS $$
BEGIN
    IF current_setting('registry.search_deferred', true) = 'on' THEN
        INSERT INTO search_pending (agreement_id, links, document)
        SELECT DISTINCT unnest(ids), links, document;
    ELSE
        PERFORM search_refresh_now(ids, links, document);
    END IF;
END $$ LANGUAGE plpgsql
-- The refresh of a few agreements reads their rows by index; statistics lag behind a
-- table that a transaction fills from empty (a test, a first import), which would otherwise
-- lead the planner to scan whole tables (0008).
SET enable_seqscan = off;
DROP INDEX IF EXISTS agreement_summary_trgm_idx;
{PAIRS_NOW}
"""
REVERSE = f"""
DELETE FROM agreements_searchtotal WHERE facet = 'q';
CREATE INDEX IF NOT EXISTS agreement_summary_trgm_idx ON agreements_agreement
    USING gin (UPPER(summary) gin_trgm_ops);
DROP FUNCTION search_refresh(bigint[], boolean, boolean);
ALTER FUNCTION search_refresh_now(bigint[], boolean, boolean) RENAME TO search_refresh;
{previous.REFRESH.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")}
"""


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("agreements", "0008_search_index")]

    operations = [migrations.RunPython(run(DEFERRABLE), run(REVERSE))]
