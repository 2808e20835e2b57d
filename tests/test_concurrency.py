"""Staff at work at the same time (PostgreSQL, where transactions run side by side; SQLite
writes one at a time). Each test runs two transactions on connections of their own, one step
at a time: a step that must wait for the other is waited for until the database says it is
waiting on a lock (or it has finished), never for a guessed time.

What must hold: neither sees a deadlock or a database error, and the search's tables equal a
derivation from scratch afterwards."""

import json
import threading
import time

import psycopg
import pytest
from django.db import connection, transaction
from django.forms import modelform_factory

from agreements.forms import AgreementForm
from agreements.models import Agreement, AgreementType
from agreements.search_index import SearchDocument, SearchLink, totals_kept
from backoffice.interchange import import_lines
from backoffice.merging import MergeError, merge_institutions
from labs.admin import LabForm
from labs.models import Lab
from registry import locks
from registry.forms import InstitutionForm
from registry.models import Institution
from tests.factories import AgreementFactory, InstitutionFactory, PartyFactory
from tests.test_search_index import assert_kept_tables_are_fresh

pytestmark = [
    pytest.mark.skipif(not totals_kept(), reason="SQLite writes one transaction at a time"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def connect():
    """A connection of its own to the test database (not in autocommit: a transaction)."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )


class Background(threading.Thread):
    """`work()` run in a thread of its own; its result or error kept for the test."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error, self.pid = work, None, None, None
        self.started_pid = threading.Event()

    def run(self):
        try:
            self.result = self.work(self)
        except Exception as error:  # noqa: BLE001 - kept for the test to report
            self.error = error
        finally:
            self.started_pid.set()

    def begin(self, pid):
        self.pid = pid
        self.started_pid.set()

    def wait_until_blocked(self):
        """Return once this thread's statement waits on a lock, or the thread is done."""
        self.started_pid.wait(10)
        with connect() as watcher:
            for _ in range(2000):
                if not self.is_alive():
                    return
                row = watcher.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [self.pid]
                ).fetchone()
                if row and row[0] == "Lock":
                    return
                time.sleep(0.005)  # polling for a state, not waiting for a guessed time
        raise AssertionError("the other transaction neither waited nor finished")

    def finish(self):
        self.join(30)
        assert not self.is_alive()
        if self.error:
            raise self.error
        return self.result


def in_django_thread(work):
    """`work(thread)` on Django's connection of a thread of its own (closed after)."""

    def run(thread):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                thread.begin(cursor.fetchone()[0])
            return work(thread)
        finally:
            connection.close()

    return Background(run)


def commit_once_waited_for(editor, other, *statement):
    """`other` (a thread not yet started) run until it waits on a lock `editor` (a
    connection) holds; then `editor` runs `statement`, if any, and commits, and `other` is
    let finish."""
    other.start()
    other.wait_until_blocked()
    try:
        if statement:
            editor.execute(*statement)
        editor.commit()
    finally:
        editor.close()
        other.join(30)
    return other.finish()


# A party referring to an agreement and an institution, added by the editor's connection.
ADD_PARTY = (
    "INSERT INTO agreements_party (agreement_id, institution_id, position) VALUES (%s, %s, 5)"
)


def test_an_institution_saved_while_an_agreement_naming_it_is_saved_is_no_deadlock():
    """An editor changes an institution's kind (the form locks its row, then the search's
    triggers queue for the writers' lock) while another, already holding that lock, adds the
    institution as a party: adding a reference must not wait for the institution's lock."""
    institution = InstitutionFactory(kind="university")
    PartyFactory(institution=institution, agreement__status="published")
    agreement = AgreementFactory(status="published")
    PartyFactory(agreement=agreement)
    InstitutionInstitutionForm = modelform_factory(
        Institution, form=InstitutionForm, fields=["name", "slug", "kind", "country"]
    )
    editor = connect()
    # A publisher withdrawing the agreement: its links are refreshed (the writers' lock).
    editor.execute("UPDATE agreements_agreement SET status = 'draft' WHERE id = %s", [agreement.pk])

    def save_institution(thread):
        with transaction.atomic():
            stored = Institution.objects.get(pk=institution.pk)
            form = InstitutionInstitutionForm(
                data={
                    "name": stored.name,
                    "slug": stored.slug,
                    "kind": "company",
                    "country": stored.country,
                    "loaded_version": stored.updated_at.isoformat(),
                },
                instance=stored,
            )
            assert form.is_valid(), form.errors
            form.save()

    other = in_django_thread(save_institution)
    commit_once_waited_for(editor, other, ADD_PARTY, [agreement.pk, institution.pk])
    assert Institution.objects.get(pk=institution.pk).kind == "company"
    assert_kept_tables_are_fresh()


def test_an_agreement_published_while_a_party_is_added_to_it_is_no_deadlock(publisher):
    """A publisher publishes an agreement (the move locks its row, then its links queue for
    the writers' lock) while an editor, already holding that lock, adds a row referring to it."""
    agreement = AgreementFactory(status="review")
    PartyFactory(agreement=agreement)
    other_agreement = AgreementFactory(status="published")
    PartyFactory(agreement=other_agreement)
    institution = InstitutionFactory()
    editor = connect()
    editor.execute(
        "UPDATE agreements_agreement SET status = 'draft' WHERE id = %s", [other_agreement.pk]
    )

    def publish(thread):
        with transaction.atomic():
            agreement.publish(by=publisher)

    other = in_django_thread(publish)
    commit_once_waited_for(editor, other, ADD_PARTY, [agreement.pk, institution.pk])
    agreement.refresh_from_db()
    assert agreement.status == "published"
    assert_kept_tables_are_fresh()


def in_psycopg_thread(*statements):
    """`statements` run in one transaction on a connection of its own, in a thread, then
    committed."""

    def run(thread):
        with connect() as other:
            thread.begin(other.info.backend_pid)
            for sql, params in statements:
                other.execute(sql, params)
            other.commit()

    return Background(run)


def test_an_institution_renamed_while_an_agreement_naming_it_is_saved(seeds):
    """Both refresh the agreement's search document: neither is refused (a duplicate key of
    the documents, a 500), and the document has both changes."""
    ecnu = Institution.objects.get(slug="ecnu")
    agreement = ecnu.parties.first().agreement
    editor = connect()
    editor.execute(
        "UPDATE agreements_agreement SET title = 'Zhongshan accord' WHERE id = %s",
        [agreement.pk],
    )
    other = in_psycopg_thread(
        ("UPDATE registry_institution SET name = 'Beilu Normal' WHERE id = %s", [ecnu.pk])
    )
    commit_once_waited_for(editor, other)
    document = SearchDocument.objects.get(agreement=agreement).document
    assert "ZHONGSHAN ACCORD" in document and "BEILU NORMAL" in document
    assert_kept_tables_are_fresh()


def test_an_institutions_kind_changed_while_a_party_naming_it_is_added(seeds):
    """The party's agreement is counted under the kind the institution has in the end, not
    the kind it had when the party was added (the totals drifted from a recount)."""
    ecnu = Institution.objects.get(slug="ecnu")
    agreement = AgreementFactory(status="published")
    PartyFactory(agreement=agreement)
    editor = connect()
    editor.execute(
        "INSERT INTO agreements_party (agreement_id, institution_id, position) VALUES (%s, %s, 2)",
        [agreement.pk, ecnu.pk],
    )
    other = in_psycopg_thread(
        ("UPDATE registry_institution SET kind = 'government' WHERE id = %s", [ecnu.pk])
    )
    commit_once_waited_for(editor, other)
    assert SearchLink.objects.filter(agreement_id=agreement.pk, facet="k", value="government")
    assert_kept_tables_are_fresh()


def import_line(key, *parties):
    return json.dumps(
        {
            "key": key,
            "title": f"Agreement {key}",
            "agreement_type": "cooperation agreement",
            "parties": [{"institution": {"name": name, "kind": "company"}} for name in parties],
        }
    )


def test_two_imports_at_once_naming_the_same_new_institution_both_import():
    """The second import waits for the first, then finds the institution it made: no
    duplicate key (a 500 on the admin's import page), no second institution."""
    imported, release = threading.Event(), threading.Event()

    def first_import(thread):
        with transaction.atomic():  # held open until the test lets it commit
            report = import_lines([import_line("first", "Qubit Works", "Tianjin University")])
            imported.set()
            release.wait(30)
        return report

    def second_import(thread):
        return import_lines([import_line("second", "Qubit Works", "Huawei Technologies")])

    first = in_django_thread(first_import)
    first.start()
    assert imported.wait(30)
    second = in_django_thread(second_import)
    second.start()
    second.wait_until_blocked()
    release.set()
    assert first.finish().errors == []
    assert second.finish().errors == []
    assert Institution.objects.filter(name="Qubit Works").count() == 1
    assert set(Agreement.objects.values_list("slug", flat=True)) >= {"first", "second"}
    assert_kept_tables_are_fresh()


@pytest.mark.parametrize("reverse", [False, True], ids=["same-way", "opposite-ways"])
def test_two_merges_of_one_pair_at_once(editor, reverse):
    """Two staff merge the same two institutions at once (the same way, or each into the
    other): the first merges, the second is told it was merged already, not a 500 (a
    record not found, or a deadlock)."""
    first_record, second_record = InstitutionFactory(), InstitutionFactory()
    PartyFactory(institution=second_record, agreement__status="published")
    merged, release = threading.Event(), threading.Event()

    def first_merge(thread):
        with transaction.atomic():  # held open until the test lets it commit
            merge_institutions(survivor=first_record, duplicate=second_record, by=editor)
            merged.set()
            release.wait(30)

    def second_merge(thread):
        survivor, duplicate = (
            (second_record, first_record) if reverse else (first_record, second_record)
        )
        with pytest.raises(MergeError) as refused:
            merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)
        return refused.value.messages

    first = in_django_thread(first_merge)
    first.start()
    assert merged.wait(30)
    second = in_django_thread(second_merge)
    second.start()
    second.wait_until_blocked()
    release.set()
    first.finish()
    assert "merged" in " ".join(second.finish())
    assert list(Institution.objects.filter(pk__in=[first_record.pk, second_record.pk])) == [
        first_record
    ]
    assert_kept_tables_are_fresh()


def cooperation_type():
    return AgreementType.objects.get(slug="cooperation").pk


@pytest.mark.parametrize(
    ("form_class", "data"),
    [
        (InstitutionForm, {"kind": "company", "country": "CN"}),
        (AgreementForm, {"agreement_type": cooperation_type}),
        (LabForm, {"status": "proposed"}),
    ],
)
def test_two_staff_adding_the_same_record_at_once(form_class, data):
    """Both forms are valid as each is read; the second to save is told the key is taken
    (the first's record named), rather than refused by the database (a 500)."""
    model = form_class._meta.model if hasattr(form_class, "_meta") else None
    model = (
        model or {InstitutionForm: Institution, AgreementForm: Agreement, LabForm: Lab}[form_class]
    )
    name = "title" if model is Agreement else "name"
    NewRecordForm = modelform_factory(model, form=form_class, fields=[name, "slug", *data])
    data = {key: value() if callable(value) else value for key, value in data.items()}
    data |= {name: "Qubit Works", "slug": "qubit-works"}
    saved, release = threading.Event(), threading.Event()

    def add_first(thread):
        with transaction.atomic():  # as the admin saves: held open until the test says
            form = NewRecordForm(data=data)
            assert form.is_valid(), form.errors
            form.save()
            saved.set()
            release.wait(30)

    def add_second(thread):
        with transaction.atomic():
            form = NewRecordForm(data={**data, name: "Qubit Works Ltd"})
            if form.is_valid():
                form.save()
            return form.errors

    first = in_django_thread(add_first)
    first.start()
    assert saved.wait(30)
    second = in_django_thread(add_second)
    second.start()
    second.wait_until_blocked()
    release.set()
    first.finish()
    errors = second.finish()
    assert "already has the key" in errors["slug"][0]
    assert list(model.objects.values_list(name, flat=True)) == ["Qubit Works"]


def parent_form(institution, parent):
    """`institution`'s form as the admin posts it, moving it under `parent`."""
    stored = Institution.objects.get(pk=institution.pk)
    data = {"name": stored.name, "slug": stored.slug, "kind": stored.kind}
    data |= {"parent": parent.pk, "loaded_version": stored.updated_at.isoformat()}
    form = modelform_factory(
        Institution, form=InstitutionForm, fields=["name", "slug", "kind", "parent"]
    )
    return form(data=data, instance=stored)


def errors_of_the_second_move(first, second):
    """Two staff moving institutions at once, each (institution, new parent): the first is
    saved and held open, as the admin saves, until the second waits for it; the second's
    form's errors."""
    saved, release = threading.Event(), threading.Event()

    def move_first(thread):
        with transaction.atomic():
            moved = parent_form(*first)
            assert moved.is_valid(), moved.errors
            moved.save()
            saved.set()
            release.wait(30)

    def move_second(thread):
        with transaction.atomic():
            moved = parent_form(*second)
            if moved.is_valid():
                moved.save()
            return moved.errors

    first_thread = in_django_thread(move_first)
    first_thread.start()
    assert saved.wait(30), first_thread.error
    second_thread = in_django_thread(move_second)
    second_thread.start()
    second_thread.wait_until_blocked()
    release.set()
    first_thread.finish()
    return second_thread.finish()


def test_two_staff_making_two_institutions_part_of_each_other_at_once():
    """Each form, read alone, finds no loop; the second to save waits for the first, then is
    told, rather than both saving a loop (which nothing then walks out of)."""
    telecom = InstitutionFactory(name="China Telecom", kind="company")
    branch = InstitutionFactory(name="China Telecom Tianjin Branch", kind="company")

    errors = errors_of_the_second_move((branch, telecom), (telecom, branch))

    assert errors["parent"] == ["An institution cannot be part of itself."]
    assert dict(Institution.objects.values_list("name", "parent__name")) == {
        "China Telecom": None,
        "China Telecom Tianjin Branch": "China Telecom",
    }


def test_two_staff_whose_moves_together_take_a_unit_out_of_what_it_signed_for():
    """The lab signed for Tianjin University. One editor moves it into the Brain Centre, within
    the university; another moves the Brain Centre out of it. Each, read alone, keeps the lab
    within the university; the second to save waits for the first, then is told."""
    tju = InstitutionFactory(name="Tianjin University")
    ecnu = InstitutionFactory(name="East China Normal University")
    college = InstitutionFactory(name="College of Intelligence and Computing", parent=tju)
    centre = InstitutionFactory(name="Brain Centre", parent=tju)
    lab = InstitutionFactory(name="Brain-inspired Computing Lab", parent=college)
    PartyFactory(agreement=AgreementFactory(title="Brain lab"), institution=tju, unit=lab)

    errors = errors_of_the_second_move((lab, centre), (centre, ecnu))

    assert "Brain-inspired Computing Lab signed for Tianjin University in" in errors["parent"][0]
    assert dict(Institution.objects.values_list("name", "parent__name")) == {
        "Tianjin University": None,
        "East China Normal University": None,
        "College of Intelligence and Computing": "Tianjin University",
        "Brain Centre": "Tianjin University",
        "Brain-inspired Computing Lab": "Brain Centre",
    }


def test_an_institution_moved_while_a_merge_or_import_holds_the_tree_is_no_deadlock():
    """A merge or an import takes the tree's lock before any row, then may write an
    institution's row. A move of that institution queues for the tree's lock before its form
    locks the row, so it waits for the writer rather than hold the row the writer needs
    (which, each waiting on the other, was a deadlock)."""
    telecom = InstitutionFactory(name="China Telecom", kind="company")
    branch = InstitutionFactory(name="China Telecom Tianjin Branch", kind="company")
    writer = connect()
    writer.execute("SELECT pg_advisory_xact_lock(%s)", [locks.INSTITUTION_TREE])

    def move_branch(thread):
        with transaction.atomic():
            moved = parent_form(branch, telecom)
            if moved.is_valid():
                moved.save()
            return moved.errors

    errors = commit_once_waited_for(
        writer,
        in_django_thread(move_branch),
        "UPDATE registry_institution SET city = 'Tianjin' WHERE id = %s",
        [branch.pk],
    )
    assert errors == {}
    assert Institution.objects.get(pk=branch.pk).parent == telecom
