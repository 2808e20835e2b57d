"""What the public search reads instead of the tables it derives from (migration
agreements/0008_search_index, README "Performance and scaling").

Nothing in Python writes these: on PostgreSQL, triggers on every table they derive from keep
them true, whatever writes (the admin, the importer, a merge, a script); on SQLite they are
views. So they are read-only models, `managed = False`.
"""

from contextlib import contextmanager

from django.db import DatabaseError, connection, models, transaction
from django.db.models import lookups

from registry import locks

INSTITUTION = "i"  # a party, a signing unit, or an ancestor of one
PARTY = "p"  # a party itself, as the network chart counts them
KIND = "k"
COUNTRY = "c"
FOCUS_AREA = "f"
TYPE = "t"
YEAR = "y"
HAS_LAB = "l"
PAIR = "q"  # in the totals only: two parties, "a b" (a < b as text)


class Matches(lookups.IContains):
    """`document__matches=term`: the text holds `term`, whatever the case. PostgreSQL stores
    the search's texts in upper case already, so the (trigram-indexed) column is compared as
    it is: `document LIKE UPPER('%term%')`, where `icontains` would upper-case every row's
    text again; elsewhere it is `icontains`."""

    lookup_name = "matches"

    def get_rhs_op(self, connection, rhs):
        return connection.operators["icontains"] % rhs

    def as_sqlite(self, compiler, connection):
        """SQLite's LIKE ignores the case of ASCII letters only: "ZÜRICH" missed "Zürich",
        "SÃO PAULO" "São Paulo", which PostgreSQL's UPPER finds. So the term is matched as
        typed and in lower, upper and title case too, which covers a text whose other letters
        are of one case or begin its words (Москва for МОСКВА), as names are written."""
        lhs_sql, params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        match = f"{lhs_sql} {self.get_rhs_op(connection, rhs_sql)}"
        term = rhs_params[0] if len(rhs_params) == 1 else ""
        if not isinstance(term, str) or term.isascii():
            return match, [*params, *rhs_params]
        cases = dict.fromkeys([term, term.lower(), term.upper(), term.title()])
        return "(" + " OR ".join([match] * len(cases)) + ")", [
            value for case in cases for value in (*params, case)
        ]


class SearchText(models.TextField):
    """A text of the search document, upper case on PostgreSQL (see Matches)."""


SearchText.register_lookup(Matches)


class SearchDocument(models.Model):
    """Every text the search matches for one agreement (any status), one a line; its title
    and summary apart too, which rank the results; and what the CSV download lists of it."""

    agreement = models.OneToOneField(
        "agreements.Agreement",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="search_document",
    )
    title = SearchText()
    summary = SearchText()
    document = SearchText()
    # The CSV download's lists of related names, joined (PostgreSQL only; empty elsewhere).
    parties = models.TextField()
    units = models.TextField()
    signatories = models.TextField()
    witnesses = models.TextField()
    focus_areas = models.TextField()
    labs = models.TextField()
    sources = models.TextField()

    class Meta:
        managed = False
        db_table = "agreements_searchdocument"

    def __str__(self):
        return f"search document of agreement {self.agreement_id}"


class SearchLink(models.Model):
    """One facet value of one *published* agreement; each (agreement, facet, value) once."""

    pk = models.CompositePrimaryKey("agreement_id", "facet", "value")
    agreement_id = models.BigIntegerField()
    facet = models.CharField(max_length=1)
    value = models.CharField(max_length=100)

    class Meta:
        managed = False
        db_table = "agreements_searchlink"

    def __str__(self):
        return f"{self.agreement_id} {self.facet}={self.value}"


class SearchTotal(models.Model):
    """PostgreSQL only: the published agreements with a facet value, counted over all of them
    (scope 0) or over those of one institution and its units (scope = its id)."""

    pk = models.CompositePrimaryKey("scope", "facet", "value")
    scope = models.BigIntegerField()
    facet = models.CharField(max_length=1)
    value = models.CharField(max_length=100)
    n = models.IntegerField()

    class Meta:
        managed = False
        db_table = "agreements_searchtotal"

    def __str__(self):
        return f"{self.scope}: {self.facet}={self.value} ({self.n})"


def totals_kept():
    """Whether the database keeps SearchTotal (PostgreSQL); elsewhere links are counted."""
    return connection.vendor == "postgresql"


# Agreements from which a refresh put off to the end reads whole tables rather than indexes.
BULK = 1000
# The trigram index over the search documents' texts (migration 0008).
TEXT_INDEX = "searchdocument_trgm_idx"
# The transaction-level advisory lock on which writers of links and totals queue (0008).
WRITERS_LOCK = locks.SEARCH_WRITERS
# How long a bulk refresh waits to have the search documents alone before it rebuilds their
# index (search_index.dropped_index).
LOCK_WAIT = "5s"
# What the index derives from (migration 0008's triggers).
SOURCE_TABLES = [
    "agreements_agreement",
    "agreements_party",
    "agreements_participation",
    "agreements_source",
    "agreements_agreement_focus_areas",
    "labs_labagreement",
    "labs_lab",
    "registry_institution",
    "registry_institutionalias",
    "registry_focusarea",
    "people_person",
    "people_personalias",
    "agreements_searchlink",
    "agreements_searchdocument",
]


@contextmanager
def refreshed_once():
    """Within this block, the search index is refreshed once, at its end, for every agreement
    its writes touched, rather than after each statement (migration 0009): for bulk writes,
    an import or generated data, in a transaction. Rolled back, it refreshes nothing. Until
    the end, searches within the same transaction see the index as it was."""
    if connection.vendor != "postgresql":  # views there: nothing to refresh
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("refreshed_once() needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE search_pending (agreement_id bigint NOT NULL, "
            "links boolean NOT NULL, document boolean NOT NULL) ON COMMIT DROP"
        )
        cursor.execute("SET LOCAL registry.search_deferred = 'on'")
    yield
    if transaction.get_rollback():
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL registry.search_deferred = 'off'")
        cursor.execute(
            "SELECT count(DISTINCT agreement_id), count(DISTINCT agreement_id) FILTER "
            "(WHERE document) FROM search_pending"
        )
        pending, documents = cursor.fetchone()
        rebuild = False
        if pending >= BULK:
            # Planned on statistics that count this transaction's rows (ANALYZE does), with
            # room to sort and hash in memory, a refresh of thousands reads whole tables.
            cursor.execute("ANALYZE " + ", ".join(SOURCE_TABLES))
            cursor.execute("SET LOCAL work_mem = '64MB'")
            refresh = "search_refresh_now"
            # Counted only here: all the documents of 100,000 agreements take a third of a
            # second to count, which an admin's save of a few would pay for nothing.
            cursor.execute("SELECT count(*) FROM agreements_searchdocument")
            (stored,) = cursor.fetchone()
            rebuild = documents and documents >= stored
        else:
            refresh = "search_refresh"  # by index, as the triggers do
        rebuilt = None
        for column, links, document in (("links", True, False), ("document", False, True)):
            if document and rebuild:
                rebuilt = dropped_index(cursor, TEXT_INDEX)
            cursor.execute(
                f"SELECT {refresh}(ARRAY(SELECT DISTINCT agreement_id "  # noqa: S608
                f"FROM search_pending WHERE {column} ORDER BY 1), %s, %s)",
                [links, document],
            )
        if rebuilt:
            cursor.execute(rebuilt)
        cursor.execute("DROP TABLE search_pending")


def dropped_index(cursor, name):
    """Drop index `name` of the search documents and return the statement that makes it again,
    as it is defined now; None, leaving it, if the table cannot be had alone within LOCK_WAIT.

    For a refresh that writes at least as many documents as the table held (a first import):
    building the trigram index over all of them afterwards takes two thirds of the time of
    adding each to it (100,000 documents: 41 s rather than 61). Until the transaction ends,
    searches elsewhere then wait for it rather than read the table."""
    # Writers queue on this lock (migration 0008) before they change links or totals: held,
    # only a search or a writer of documents alone can be in the way, and either is waited
    # for LOCK_WAIT at most (a deadlock, too, only loses the rebuild).
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITERS_LOCK])
    cursor.execute("SELECT current_setting('lock_timeout')")
    (before,) = cursor.fetchone()
    table = connection.ops.quote_name(SearchDocument._meta.db_table)
    try:
        with transaction.atomic():
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    except DatabaseError:
        return None  # added one by one, as any other refresh does
    finally:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s",
        [name],
    )
    (definition,) = cursor.fetchone()
    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return definition


def party_pairs(institution_ids, agreements=None, *, scope=None):
    """{(a, b): agreements} for every two of `institution_ids` (a < b) that are parties to the
    same published agreements, among `agreements` (a queryset of agreement ids; None: all).
    One query: on PostgreSQL, of the totals when `scope` says that `agreements` are all
    published ones (0) or one institution's (its id); else on the links' (facet, value,
    agreement) index."""
    values = [str(pk) for pk in institution_ids]
    if len(values) < 2:
        return {}
    if scope is not None and totals_kept():
        wanted = [f"{a} {b}" for a in values for b in values if a < b]
        with connection.cursor() as cursor:
            # One array parameter: hundreds of pairs bound one by one cost more than the query.
            cursor.execute(
                "SELECT value, n FROM agreements_searchtotal WHERE scope = %s AND facet = %s "
                "AND value = ANY(%s) AND n > 0",
                [scope, PAIR, wanted],
            )
            return {tuple(sorted(int(pk) for pk in value.split())): n for value, n in cursor}
    marks = ", ".join(["%s"] * len(values))
    sql = f"""
        SELECT a.value, b.value, COUNT(*) FROM agreements_searchlink a
        JOIN agreements_searchlink b ON b.agreement_id = a.agreement_id
        WHERE a.facet = %s AND b.facet = %s AND a.value IN ({marks}) AND b.value IN ({marks})
        AND a.value < b.value
    """  # noqa: S608 - placeholders only
    params = [PARTY, PARTY, *values, *values]
    if agreements is not None:
        subquery, more = agreements.query.get_compiler(connection=connection).as_sql()
        sql += f" AND a.agreement_id IN ({subquery})"
        params += more
    with connection.cursor() as cursor:
        cursor.execute(sql + " GROUP BY a.value, b.value", params)
        rows = cursor.fetchall()
    pairs = {}
    for a, b, n in rows:
        a, b = sorted((int(a), int(b)))
        pairs[a, b] = n
    return pairs
