"""The search's derived relations (agreements/search_index.py, migration 0008) stay true
whatever writes: a search and its facets follow every change of an agreement, its parties,
focus areas, labs and people, and of the names, kinds, countries and nesting of institutions,
made through models, bulk_create or raw SQL. On PostgreSQL, where they are tables kept by
triggers, they equal a derivation from scratch after every kind of write."""

import csv
import importlib
import io

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from agreements import search_index
from agreements.facets import search_summary
from agreements.filters import AgreementFilter
from agreements.models import Agreement, Party, Source
from agreements.public import searchable_focus_areas
from agreements.search_index import (
    SearchDocument,
    SearchLink,
    SearchTotal,
    party_pairs,
    refreshed_once,
    totals_kept,
)
from backoffice.merging import merge_institutions
from labs.models import LabAgreement
from people.models import Person
from registry.models import Institution, InstitutionAlias
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabFactory,
    ParticipationFactory,
    PartyFactory,
)
from tests.test_admin import (
    add_agreement_url,
    assert_saved,
    change_url,
    form_data,
    new_agreement_data,
    set_row,
)

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("agreements.migrations.0008_search_index")


def summary(query=""):
    data = QueryDict(query)
    filterset = AgreementFilter(data, queryset=Agreement.objects.published())
    assert filterset.is_valid(), filterset.errors
    return filterset, search_summary(filterset, data)


def results(query):
    data = QueryDict(query)
    filterset = AgreementFilter(data, queryset=Agreement.objects.published())
    filterset.is_valid()
    return set(filterset.qs.values_list("slug", flat=True))


def assert_facets_true(query=""):
    """Every facet value counts what its link would show; the total is the results'."""
    _filterset, found = summary(query)
    assert found["count"] == len(results(query))
    for facet in found["facets"]:
        for value in facet.values:
            alone = QueryDict(query, mutable=True)
            if facet.name == "year":
                alone.setlist("signed_from", [value.value])
                alone.setlist("signed_to", [value.value])
            else:
                alone.setlist(facet.name, [value.value])
            assert value.count == len(results(alone.urlencode())), (query, facet.name, value)
    if totals_kept():
        assert_kept_tables_are_fresh()


def facet(query, name):
    _filterset, found = summary(query)
    return {v.value: v.count for f in found["facets"] if f.name == name for v in f.values}


def derived(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(cursor.fetchall())


def assert_kept_tables_are_fresh():
    """PostgreSQL: the tables the triggers keep equal their derivation from scratch."""
    links = derived(MIGRATION.link_select("postgresql", ""))
    kept = SearchLink.objects.values_list("agreement_id", "facet", "value")
    assert set(kept) ^ set(links) == set()
    documents = derived(MIGRATION.document_select("postgresql", "", organisations=True))
    columns = ["agreement_id", "title", "summary", "document", *MIGRATION.EXPORT_COLUMNS]
    kept = SearchDocument.objects.values_list(*columns)
    assert set(kept) ^ set(documents) == set()
    expected = {}
    by_agreement = {}
    for agreement, code, value in links:
        by_agreement.setdefault(agreement, []).append((code, value))
    for rows in by_agreement.values():
        for code, value in rows:
            expected[0, code, value] = expected.get((0, code, value), 0) + 1
        parties = [value for code, value in rows if code == "p"]
        scopes = [0, *(int(value) for code, value in rows if code == "i")]
        for pair in (f"{a} {b}" for a in parties for b in parties if a < b):
            for scope in scopes:
                expected[scope, "q", pair] = expected.get((scope, "q", pair), 0) + 1
        for scope_code, scope in rows:
            if scope_code != "i":
                continue
            for code, value in rows:
                if code in "pkcftyl":
                    key = (int(scope), code, value)
                    expected[key] = expected.get(key, 0) + 1
    totals = SearchTotal.objects.filter(n__gt=0).values_list("scope", "facet", "value", "n")
    assert {(s, f, v): n for s, f, v, n in totals} == expected
    assert not SearchTotal.objects.filter(n__lt=0).exists()


def test_facets_count_what_each_link_shows(seeds):
    for query in ["", "institution=huawei", "q=Huawei", "kind=company&focus_area=5g"]:
        assert_facets_true(query)


def test_search_follows_an_institutions_country_and_name(seeds):
    ecnu = Institution.objects.get(slug="ecnu")
    ecnu.country = "FR"
    ecnu.save()
    assert results("country=FR") == {"ecnu-huawei-2019", "iflytek-2021"}
    assert facet("", "country")["FR"] == 2
    ecnu.name = "Zhongshan Beilu Normal"
    ecnu.save()
    assert results("q=Beilu") == {"ecnu-huawei-2019", "iflytek-2021"}
    assert results("q=east+china+normal") == set()
    assert_facets_true("country=FR")


def test_search_follows_parties_added_moved_and_removed(seeds):
    newcomer = InstitutionFactory(name="Quokka Robotics", slug="quokka", kind="research_institute")
    agreement = Agreement.objects.get(slug="iflytek-2021")
    party = PartyFactory(agreement=agreement, institution=newcomer)
    assert results("institution=quokka") == {"iflytek-2021"}
    assert results("q=Quokka") == {"iflytek-2021"}
    assert facet("", "kind")["research_institute"] == 1
    party.agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    party.save()
    assert results("institution=quokka") == {"ecnu-huawei-2019"}
    party.delete()
    # No published agreement names it now: to the search it is as unknown as a misspelt key
    # (its filter is refused, and the search is left unfiltered).
    assert results("institution=quokka") == results("")
    assert "research_institute" not in facet("", "kind")
    assert_facets_true()


def test_search_follows_nesting_and_aliases(seeds):
    # Huawei Shanghai signed for Huawei in ECNU–Huawei; moved under China Telecom, its
    # agreement counts for China Telecom too, and for Huawei still (Huawei is a party).
    shanghai = Institution.objects.get(slug="huawei-shanghai")
    shanghai.parent = Institution.objects.get(slug="china-telecom")
    shanghai.save()
    assert results("institution=china-telecom") == {
        "ecnu-huawei-2019",
        "tju-china-telecom-huawei-2020",
    }
    assert facet("", "institution")["china-telecom"] == 2
    InstitutionAlias.objects.create(institution=shanghai, name="Pudong Branch")
    assert results("q=Pudong") == {"ecnu-huawei-2019"}
    InstitutionAlias.objects.filter(name="Pudong Branch").delete()
    assert results("q=Pudong") == set()
    assert_facets_true("institution=china-telecom")


def test_search_follows_focus_areas_labs_people_and_status(seeds):
    agreement = Agreement.objects.get(slug="iflytek-2021")
    area = FocusAreaFactory(name="Tidal energy", slug="tidal")
    agreement.focus_areas.add(area)
    assert results("focus_area=tidal") == {"iflytek-2021"}
    area.name = "Wave power"
    area.save()
    assert results("q=wave") == {"iflytek-2021"}
    agreement.focus_areas.remove(area)
    assert results("q=wave") == set()
    # In no published agreement, it is as unknown to the search as a misspelt one.
    assert not searchable_focus_areas().filter(slug="tidal").exists()
    assert facet("", "has_lab").get("true") == 2
    LabAgreement.objects.create(
        lab=LabFactory(name="Ocean Lab"), agreement=agreement, outcome="founded"
    )
    assert facet("", "has_lab") == {"true": 3}
    assert results("q=Ocean") == {"iflytek-2021"}
    person = Person.objects.filter(participations__agreement__slug="ecnu-huawei-2019").first()
    person.name = "Marguerite Yourcenar"
    person.save()
    assert results("q=Yourcenar") == {"ecnu-huawei-2019"}
    # Any status but published is out of sight, however it is written.
    agreement.status = "review"
    agreement.save()
    assert "iflytek-2021" not in results("")
    assert facet("", "has_lab") == {"true": 2}
    assert_facets_true()
    Agreement.objects.filter(pk=agreement.pk).update(status="published")
    assert "iflytek-2021" in results("")
    assert_facets_true("q=iflytek")


def test_search_follows_the_institutions_people_acted_for(seeds):
    # A witness's municipal government is no party, but its name finds the agreement.
    city = InstitutionFactory(name="Quanzhou Municipal Government", kind="government")
    participation = ParticipationFactory(
        agreement=Agreement.objects.get(slug="iflytek-2021"), organisation=city
    )
    assert results("q=Quanzhou") == {"iflytek-2021"}
    city.name = "Quanzhou People's Government"
    city.save()
    assert results("q=People's+Government") == {"iflytek-2021"}
    InstitutionAlias.objects.create(institution=city, name="Licheng Office")
    assert results("q=Licheng") == {"iflytek-2021"}
    # Searched, not filtered: the institution facet counts parties only.
    assert str(city.pk) not in facet("", "institution")
    assert_facets_true("q=Licheng")
    participation.organisation = None
    participation.save()
    assert results("q=Quanzhou") == set()
    assert results("q=Licheng") == set()


def bulk_agreements(count, name="once"):
    """`count` published agreements, made with bulk_create: "{name}-0" ("{Name} 0") on."""
    kind = Agreement.objects.get(slug="iflytek-2021").agreement_type
    return Agreement.objects.bulk_create(
        Agreement(
            slug=f"{name}-{n}",
            title=f"{name.title()} {n}",
            agreement_type=kind,
            status="published",
            published_at="2020-01-01T00:00Z",
            first_published_at="2020-01-01T00:00Z",
        )
        for n in range(count)
    )


def test_bulk_writes_and_raw_sql_keep_the_search_true(seeds):
    made = bulk_agreements(5, "bulk")
    huawei = Institution.objects.get(slug="huawei")
    Party.objects.bulk_create(Party(agreement=a, institution=huawei) for a in made)
    assert len(results("institution=huawei")) == 7
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_institution SET kind = 'government' WHERE slug = 'huawei'")
        cursor.execute("DELETE FROM agreements_party WHERE agreement_id = %s", [made[0].pk])
    assert len(results("institution=huawei")) == 6
    assert facet("", "kind")["government"] == 6
    assert_facets_true("kind=government")
    Agreement.objects.filter(slug__startswith="bulk-").delete()
    assert_facets_true()


def test_a_draft_is_in_no_link_or_total(seeds):
    draft = AgreementFactory(status="draft", title="Secret handshake")
    PartyFactory(agreement=draft, institution=Institution.objects.get(slug="huawei"))
    assert not SearchLink.objects.filter(agreement_id=draft.pk).exists()
    assert facet("", "institution")["huawei"] == 2
    # Its text is searchable only within drafts' own filters: the public search sees none.
    assert results("q=Secret") == set()


def test_search_terms_with_like_wildcards_match_literally(seeds):
    assert results("q=%25") == set()
    assert results("q=_") == set()
    assert results("q=Huawei") == {"ecnu-huawei-2019", "tju-china-telecom-huawei-2020"}


def csv_rows(client, query=""):
    response = client.get(f"/agreements/export.csv?{query}")
    body = b"".join(response.streaming_content).decode()
    return {row["key"]: row for row in csv.DictReader(io.StringIO(body))}


def test_csv_download_follows_names_sources_and_order(client, seeds):
    agreement = Agreement.objects.get(slug="iflytek-2021")
    for name in ["Zeta rays", "alpha waves", "Émile optics"]:
        agreement.focus_areas.add(FocusAreaFactory(name=name, slug=name[:4].lower()))
    Source.objects.create(agreement=agreement, url="https://example.org/a", position=2)
    Source.objects.create(agreement=agreement, url="https://example.org/b", position=1)
    Institution.objects.filter(slug="iflytek").update(name="iFLYTEK Co.")
    row = csv_rows(client, "q=iflytek")["iflytek-2021"]
    names = [n.name for n in agreement.focus_areas.all()]
    # Code point order, as Python sorts, on every database.
    assert row["focus_areas"] == "; ".join(sorted(names))
    assert row["sources"].endswith("https://example.org/b; https://example.org/a")
    assert "iFLYTEK Co." in row["parties"].split("; ")


@pytest.mark.skipif(not totals_kept(), reason="PostgreSQL keeps the index in tables")
def test_a_bulk_write_refreshes_the_index_once_at_its_end(seeds):
    huawei = Institution.objects.get(slug="huawei")
    with transaction.atomic(), refreshed_once():
        made = bulk_agreements(3)
        Party.objects.bulk_create(Party(agreement=a, institution=huawei) for a in made)
        Institution.objects.filter(slug="ecnu").update(name="Zhongshan Beilu Normal")
        # Put off: nothing of it is in the index yet.
        assert not SearchDocument.objects.filter(agreement_id=made[0].pk).exists()
        assert results("q=Beilu") == set()
    assert results("institution=huawei") >= {"once-0", "once-1", "once-2"}
    assert results("q=Beilu") == {"ecnu-huawei-2019", "iflytek-2021"}
    assert_facets_true("institution=huawei")
    # Afterwards, a write refreshes the index at once again.
    Agreement.objects.filter(slug="once-0").update(title="Refreshed at once")
    assert results("q=Refreshed") == {"once-0"}
    assert_kept_tables_are_fresh()


def text_index():
    """The trigram index's object id and whether a search for a term reads it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [search_index.TEXT_INDEX])
        (oid,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT agreement_id FROM agreements_searchdocument "
            "WHERE document LIKE '%%BULKY%%'"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    return oid, search_index.TEXT_INDEX in plan


@pytest.mark.skipif(not totals_kept(), reason="PostgreSQL keeps the index in tables")
def test_a_bulk_write_of_most_documents_builds_the_text_index_again(seeds, monkeypatch):
    monkeypatch.setattr(search_index, "BULK", 2)
    stored = SearchDocument.objects.count()
    assert stored >= 3
    with transaction.atomic():
        before, used = text_index()
        assert used
        # Fewer new documents than the table holds: the index takes them one by one.
        with refreshed_once():
            bulk_agreements(stored - 1, name="small")
        assert text_index() == (before, True)
        # At least as many: it is dropped and made again, with the same definition.
        with refreshed_once():
            bulk_agreements(SearchDocument.objects.count(), name="bulky")
        after, used = text_index()
        assert after != before and used
    assert results("q=bulky") == {f"bulky-{n}" for n in range(2 * stored - 1)}
    assert results("q=small") == {f"small-{n}" for n in range(stored - 1)}
    assert_kept_tables_are_fresh()


@pytest.mark.skipif(not totals_kept(), reason="PostgreSQL keeps the index in tables")
def test_a_bulk_write_keeps_the_text_index_while_another_reads_the_documents(seeds, monkeypatch):
    import psycopg

    monkeypatch.setattr(search_index, "BULK", 2)
    monkeypatch.setattr(search_index, "LOCK_WAIT", "100ms")
    settings = connection.settings_dict
    reader = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )
    try:
        # A search in progress elsewhere: its transaction holds the table until it ends.
        reader.execute("SELECT count(*) FROM agreements_searchdocument").fetchone()
        with transaction.atomic():
            before, _used = text_index()
            with refreshed_once():
                bulk_agreements(2 * SearchDocument.objects.count(), name="bulky")
            # Not rebuilt, waited for no longer than told; the documents are added to it.
            assert text_index() == (before, True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                assert cursor.fetchone() == ("0",)
    finally:
        reader.close()
    assert "bulky-0" in results("q=bulky")
    assert_kept_tables_are_fresh()


def test_a_bulk_write_rolled_back_leaves_the_index_as_it_was(seeds):
    before = facet("", "institution")
    with transaction.atomic(), refreshed_once():
        bulk_agreements(2)
        transaction.set_rollback(True)
    assert facet("", "institution") == before
    with pytest.raises(RuntimeError), transaction.atomic(), refreshed_once():
        bulk_agreements(2)
        raise RuntimeError("interrupted")
    assert facet("", "institution") == before
    assert results("q=Once") == set()
    # Later writes are refreshed at once: the deferral went with the transaction.
    bulk_agreements(1)
    assert results("q=Once") == {"once-0"}
    assert_facets_true()


def test_the_unfiltered_networks_pairs_are_those_of_the_links(seeds):
    huawei = Institution.objects.get(slug="huawei")
    extra = AgreementFactory(status="published")
    PartyFactory(agreement=extra, institution=huawei)
    PartyFactory(agreement=extra, institution=Institution.objects.get(slug="ecnu"))
    draft = AgreementFactory(status="draft")
    PartyFactory(agreement=draft, institution=huawei)
    PartyFactory(agreement=draft, institution=Institution.objects.get(slug="tju"))
    parties = Institution.objects.values_list("pk", flat=True)
    every = Agreement.objects.published().values("pk")
    # All published agreements, or one institution's: read from the totals on PostgreSQL;
    # among given agreements, counted from the links.
    assert party_pairs(parties, scope=0) == party_pairs(parties, every)
    ecnu = Institution.objects.get(slug="ecnu")
    assert party_pairs(parties, scope=0)[tuple(sorted((huawei.pk, ecnu.pk)))] == 2
    for institution in Institution.objects.all():
        linked = SearchLink.objects.filter(facet="i", value=str(institution.pk))
        linked = linked.values("agreement_id")
        assert party_pairs(parties, linked, scope=institution.pk) == party_pairs(parties, linked)
    assert party_pairs(parties, every) != {}


@pytest.mark.skipif(not totals_kept(), reason="PostgreSQL keeps the documents in a table")
def test_a_long_search_document_stays_whole_in_its_row(seeds):
    # A row over 2 kB (the summary is in it twice), which PostgreSQL would by default compress
    # or move out to TOAST, and every search then read from there (migration agreements/0010).
    agreement = AgreementFactory(status="published", summary="smart city " * 150)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT octet_length(document), pg_column_size(document) "
            "FROM agreements_searchdocument WHERE agreement_id = %s",
            [agreement.pk],
        )
        length, stored = cursor.fetchone()
    assert length > 1500
    assert stored >= length  # neither compressed nor a TOAST pointer
    assert agreement.slug in results("q=smart+city")


def documents_written():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_inserted('agreements_searchdocument'::regclass)"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("kind", ["institution", "person"])
def test_a_save_in_the_admin_writes_each_document_it_changes_once(editor_client, kind):
    """A record that thousands of agreements name, saved with three other names and a native
    name, rewrote each of their documents four times (once for each row the form wrote)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps the documents by triggers (SQLite reads views)")
    agreements = [AgreementFactory(status="published", slug=f"deal-{n}") for n in range(3)]
    if kind == "institution":
        record = InstitutionFactory(name="Huawei")
        for agreement in agreements:
            PartyFactory(agreement=agreement, institution=record)
    else:
        record = Person.objects.create(name="Zhang Yong", slug="zhang-yong")
        for agreement in agreements:
            ParticipationFactory(agreement=agreement, person=record)
    data = form_data(editor_client.get(change_url(record)))
    for index, name in enumerate(["Hua Wei", "Daniel Z", "HW Tech"]):
        set_row(data, "aliases", index, name=name)
    data["native_name"] = "华为张勇"
    before = documents_written()

    assert editor_client.post(change_url(record), data).status_code == 302

    assert documents_written() - before == len(agreements)
    slugs = {agreement.slug for agreement in agreements}
    assert results("q=Daniel+Z") == results("q=华为张勇") == slugs


def test_an_agreement_saved_in_the_admin_with_its_parts_is_written_once(editor_client):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps the documents by triggers (SQLite reads views)")
    data = new_agreement_data(editor_client)
    for index in range(3):
        set_row(data, "parties", index, institution=InstitutionFactory().pk)
    for index in range(2):
        set_row(data, "sources", index, url=f"https://example.org/{index}")
    before = documents_written()

    assert_saved(editor_client.post(add_agreement_url(), data))

    assert documents_written() - before == 1


def test_a_merge_writes_each_document_it_changes_once(editor):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps the documents by triggers (SQLite reads views)")
    survivor, duplicate = InstitutionFactory(name="Huawei"), InstitutionFactory(name="Hua Wei")
    InstitutionAlias.objects.create(institution=duplicate, name="HW")
    agreements = [AgreementFactory(status="published") for _n in range(4)]
    for agreement in agreements[:3]:
        PartyFactory(agreement=agreement, institution=survivor)
    PartyFactory(agreement=agreements[3], institution=duplicate)
    before = documents_written()

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    assert documents_written() - before == len(agreements)
    assert results("q=HW") == {agreement.slug for agreement in agreements}


def test_a_small_deferred_refresh_does_not_count_every_document():
    """Counting them (a third of a second at 100,000) is for deciding on a bulk rebuild."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps the documents by triggers (SQLite reads views)")
    agreement = AgreementFactory(status="published")
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), refreshed_once():
        PartyFactory(agreement=agreement)
    assert not [q["sql"] for q in queries if "FROM agreements_searchdocument" in q["sql"]]
    assert SearchDocument.objects.get(agreement=agreement).parties
