"""The interchange format: import and export of agreements as JSON Lines (interchange.md)."""

import datetime
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from PIL import Image

from agreements.models import Agreement, AgreementRelation, AgreementType, Participation, Photo
from backoffice.interchange import export_lines, import_lines, importing, writing
from labs.models import Lab, LabAgreement
from people.models import Person
from registry.images import process_image
from registry.models import FocusArea, Institution, InstitutionKind
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabFactory,
    LabHostFactory,
    ParticipationFactory,
    PartyFactory,
    PersonAliasFactory,
    PersonFactory,
    PhotoFactory,
    RelationFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

DEMO = Path(settings.BASE_DIR) / "demo" / "agreements.jsonl"


def export_all():
    return "".join(export_lines(Agreement.objects.all()))


def import_text(text, **options):
    return import_lines(text.splitlines(), **options)


def empty_the_database():
    """Remove all an import can add, as in a new registry (the migrations' vocabulary stays)."""
    Participation.objects.all().delete()  # signatories hold on to their parties
    Agreement.objects.all().delete()
    Lab.objects.all().delete()
    Person.objects.all().delete()
    FocusArea.objects.all().delete()
    Institution.objects.update(parent=None)
    Institution.objects.all().delete()


def row_counts():
    """Rows of every model of the registry's apps, history included."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("registry", "people", "agreements", "labs")
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed  # not the search index's tables, which the database keeps
    }


SHOWS_NOTHING = "Give a name that shows: this holds no letter, digit or symbol"


def agreement(**changes):
    """One valid line, changed as the test says."""
    record = {
        "key": "tju-huawei-2020",
        "title": "TJU and Huawei cooperation agreement",
        "agreement_type": "cooperation agreement",
        "parties": [
            {"institution": {"name": "Tianjin University", "acronym": "TJU", "kind": "university"}},
            {"institution": {"name": "Huawei Technologies", "kind": "company"}},
        ],
    }
    record.update(changes)
    return json.dumps(record, ensure_ascii=False)


def png(color="red"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return buffer.getvalue()


def build_registry():
    """Every kind of thing the format carries, at least once."""
    tju = InstitutionFactory(
        name="Tianjin University",
        slug="tju",
        native_name="天津大学",
        acronym="TJU",
        city="Tianjin",
        website="https://www.tju.edu.cn/",
        ror="012tb2g32",
        wikidata="Q1194369",
    )
    college = InstitutionFactory(name="College of Intelligence and Computing", parent=tju)
    huawei = InstitutionFactory(
        name="Huawei Technologies", kind=InstitutionKind.COMPANY, native_name="华为技术有限公司"
    )
    for alias in ("Huawei", "华为", "ファーウェイ", "Хуавэй"):
        InstitutionAliasFactory(institution=huawei, name=alias)
    telecom = InstitutionFactory(name="China Telecom", kind=InstitutionKind.COMPANY)
    branch = InstitutionFactory(
        name="China Telecom Tianjin Branch", kind=InstitutionKind.COMPANY, parent=telecom
    )
    government = InstitutionFactory(
        name="Tianjin Municipal Government", kind=InstitutionKind.GOVERNMENT, country=""
    )
    five_g, ai, iot = (FocusAreaFactory(name=name) for name in ("5G", "AI", "Internet of Things"))

    earlier = AgreementFactory(
        slug="tju-huawei-2018",
        title="TJU and Huawei framework agreement",
        agreement_type=AgreementType.objects.get(slug="framework"),
        status="published",
        signed_on=datetime.date(2018, 1, 1),
        signed_on_precision="year",
    )
    later = AgreementFactory(
        slug="tju-telecom-huawei-2021",
        title="TJU, China Telecom and Huawei strategic cooperation agreement",
        signed_on=datetime.date(2021, 5, 1),
        signed_on_precision="month",
        starts_on=datetime.date(2021, 6, 1),
        starts_on_precision="month",
        ends_on=datetime.date(2031, 1, 1),
        ends_on_precision="year",
        term_years=10,
        place="Tianjin",
        summary="Cooperation in 5G and AI.",
    )
    later.focus_areas.set([five_g, ai])
    PartyFactory(agreement=earlier, institution=tju)
    huawei_then = PartyFactory(agreement=earlier, institution=huawei, position=1)
    PartyFactory(agreement=later, institution=tju, unit=college)
    huawei_now = PartyFactory(agreement=later, institution=huawei, position=1)
    PartyFactory(agreement=later, institution=telecom, unit=branch, position=2)

    yuan = PersonFactory(name="Yuan Yingjin", slug="yuan-yingjin", native_name="元英进")
    PersonAliasFactory(person=yuan, name="Y. Yuan")
    ParticipationFactory(agreement=earlier, person=yuan, title="Dean", organisation=tju)
    ParticipationFactory(agreement=later, person=yuan, title="Vice President", organisation=tju)
    for position, name in enumerate(["Qi Pingchuan", "Xu Zhijun"], start=1):
        ParticipationFactory(
            agreement=later,
            person=PersonFactory(name=name),
            role="signatory",
            party=huawei_now,
            title="General Manager",
            organisation=huawei,
            position=position,
        )
    ParticipationFactory(agreement=earlier, role="signatory", party=huawei_then)
    ParticipationFactory(
        agreement=later,
        person=PersonFactory(name="Zhu Yubing"),
        title="Deputy Secretary General",
        organisation=government,
        position=3,
    )
    for position, slug in enumerate(["wang-yan", "wang-yan-2"], start=4):
        person = PersonFactory(name="Wang Yan", slug=slug)
        ParticipationFactory(agreement=later, person=person, role="attendee", position=position)

    proposed = LabFactory(name="Smart Campus Lab", description="Planned.")
    founded = LabFactory(
        name="Joint Innovation Laboratory for Digital Government – Smart City",
        status="established",
        established_on=datetime.date(2021, 5, 1),
        established_on_precision="month",
    )
    founded.focus_areas.set([five_g, iot])
    existing = LabFactory(
        name="Huawei ICT Academy at TJU",
        status="established",
        established_on=datetime.date(2015, 1, 1),
        established_on_precision="year",
    )
    for position, host in enumerate([tju, huawei, telecom]):
        LabHostFactory(lab=founded, institution=host, position=position)
    LabHostFactory(lab=existing, institution=tju)
    LabAgreementFactory(lab=existing, agreement=earlier, outcome="founded")
    LabAgreementFactory(lab=existing, agreement=later, outcome="extended")
    LabAgreementFactory(lab=founded, agreement=later, outcome="founded")
    LabAgreementFactory(lab=proposed, agreement=later, outcome="proposed")

    RelationFactory(source=later, target=earlier, type="follows")
    SourceFactory(
        agreement=later,
        url="https://news.tju.edu.cn/2021/1",
        publisher="Tianjin University",
        published_on=datetime.date(2021, 5, 20),
        published_on_precision="day",
        note="Says the term is ten years.",
    )
    SourceFactory(
        agreement=later,
        url="",
        title="Huawei press release",
        published_on=datetime.date(2021, 1, 1),
        published_on_precision="year",
        note="Says the term is eight years.",
        position=1,
    )
    PhotoFactory(agreement=later, image_url="https://news.tju.edu.cn/1.jpg", credit="TJU News")
    uploaded = process_image(io.BytesIO(png()))
    PhotoFactory(
        agreement=later,
        caption="Uploaded in the admin.",
        image=uploaded.image,
        thumbnail=uploaded.thumbnail,
        position=1,
    )
    PhotoFactory(agreement=later, caption="No image.", position=2)


# The demo data


def test_demo_file_imports_both_seed_agreements_published():
    report = import_lines(DEMO.read_bytes().splitlines(), base_dir=DEMO.parent)

    assert report.errors == []
    assert report.counts("agreements") == {"created": 2}
    ecnu = Agreement.objects.get(slug="ecnu-huawei-2019")
    assert (ecnu.signed.isoformat(), ecnu.status) == ("2019-07-03", "published")
    assert ecnu.published_at is not None and ecnu.published_by is None
    hao = ecnu.participations.get(person__name="Hao Guoqiang")
    assert (hao.party.institution.name, hao.party.unit.name) == (
        "Huawei Technologies",
        "Huawei Shanghai",
    )
    outcomes = dict(LabAgreement.objects.filter(agreement=ecnu).values_list("lab__name", "outcome"))
    assert sorted(outcomes.values()) == ["extended", "proposed", "proposed"]
    tju = Agreement.objects.get(slug="tju-china-telecom-huawei-2020")
    assert tju.parties.count() == 3 and tju.photos.count() == 3
    zhu = tju.participations.get(person__name="Zhu Yubing")
    assert zhu.role == "witness" and zhu.organisation.kind == "government"
    assert not tju.parties.filter(institution=zhu.organisation).exists()
    # Both lines name one Huawei and one vocabulary of focus areas.
    assert Institution.objects.filter(name="Huawei Technologies").count() == 1
    assert FocusArea.objects.filter(name="artificial intelligence").get().agreements.count() == 2


def test_demo_file_is_exactly_what_the_exporter_writes():
    import_lines(DEMO.read_bytes().splitlines())

    assert export_all() == DEMO.read_text(encoding="utf-8")


# Round trips


def test_demo_file_round_trips_through_an_empty_database_byte_for_byte():
    import_lines(DEMO.read_bytes().splitlines())
    exported = export_all()
    empty_the_database()

    assert import_text(exported).errors == []
    assert export_all() == exported


def test_everything_the_format_carries_round_trips_byte_for_byte(tmp_path):
    build_registry()
    exported = export_all()
    empty_the_database()

    report = import_text(exported, base_dir=tmp_path)

    assert report.errors == []
    assert export_all() == exported
    # Namesakes stay two people; the uploaded photo was read back from its file.
    assert Person.objects.filter(name="Wang Yan").count() == 2
    assert Photo.objects.get(caption="Uploaded in the admin.").thumbnail


def test_export_is_ordered_by_key_with_lists_in_their_stored_order():
    build_registry()

    records = [json.loads(line) for line in export_all().splitlines()]

    assert [record["key"] for record in records] == ["tju-huawei-2018", "tju-telecom-huawei-2021"]
    later = records[1]
    assert [party["institution"]["name"] for party in later["parties"]] == [
        "Tianjin University",
        "Huawei Technologies",
        "China Telecom",
    ]
    assert later["term"] == {"starts_on": "2021-06", "ends_on": "2031", "years": 10}
    assert later["signed_on"] == "2021-05"
    assert later["relations"] == [{"type": "follows", "key": "tju-huawei-2018"}]
    assert later["parties"][0]["unit"]["parent"]["name"] == "Tianjin University"
    assert later["participants"][1]["on_behalf_of"] == "Huawei Technologies"


def test_export_queries_do_not_grow_with_the_number_of_agreements(django_assert_max_num_queries):
    build_registry()
    with CaptureQueriesContext(connection) as two_agreements:
        export_all()
    for _ in range(18):
        party = PartyFactory(institution=Institution.objects.get(name="China Telecom"))
        ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
        RelationFactory(
            source=party.agreement, target=Agreement.objects.get(slug="tju-huawei-2018")
        )
        LabAgreementFactory(agreement=party.agreement, lab=Lab.objects.get(name="Smart Campus Lab"))

    with django_assert_max_num_queries(len(two_agreements)):
        assert len(export_all().splitlines()) == 20


def many_new_agreements(count, prefix):
    """Lines that each add an agreement with institutions and people of their own."""
    return [
        agreement(
            key=f"{prefix}-{number}",
            parties=[
                {"institution": {"name": f"{prefix} University {number}", "kind": "university"}},
                {"institution": {"name": f"{prefix} Company {number}", "kind": "company"}},
            ],
            participants=[
                {
                    "person": {
                        "name": f"{prefix} Signatory {number}",
                        "aliases": [f"{prefix} S. {number}"],
                    },
                    "role": "signatory",
                    "on_behalf_of": f"{prefix} Company {number}",
                },
                {"person": {"name": f"{prefix} Witness {number}"}, "role": "witness"},
            ],
            focus_areas=[f"{prefix} area {number}", "5G"],
            labs=[{"name": f"{prefix} Lab {number}", "focus_areas": ["5G"]}],
            sources=[{"url": f"https://example.com/{prefix}/{number}"}],
            status="published",
        )
        for number in range(count)
    ]


def test_import_queries_grow_with_batches_not_with_lines():
    import_lines(many_new_agreements(1, "first"))  # something of every kind is stored
    with CaptureQueriesContext(connection) as ten:
        assert import_lines(many_new_agreements(10, "ten")).errors == []
    with CaptureQueriesContext(connection) as hundred:
        assert import_lines(many_new_agreements(100, "hundred")).errors == []

    assert Agreement.objects.count() == 111
    # Ten times the lines, a few more queries: SQLite splits an INSERT at its limit of 999
    # parameters (PostgreSQL does not), so a few tables take two or three statements.
    assert len(hundred) <= len(ten) + 20


def test_importing_an_export_again_takes_queries_per_batch_not_per_line():
    import_lines(many_new_agreements(10, "ten") + many_new_agreements(100, "hundred"))
    exported = export_all().splitlines()
    ten = [line for line in exported if '"key": "ten-' in line]
    hundred = [line for line in exported if '"key": "hundred-' in line]
    before = row_counts()

    with CaptureQueriesContext(connection) as again_ten:
        assert import_lines(ten).counts("agreements") == {"unchanged": 10}
    with CaptureQueriesContext(connection) as again_hundred:
        report = import_lines(hundred)

    assert report.counts("agreements") == {"unchanged": 100}
    assert report.counts("institutions") == {"matched": 200}
    assert row_counts() == before
    assert len(again_hundred) <= len(again_ten) + 20


def test_a_large_import_is_written_a_batch_at_a_time(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_LINES", 10)
    with CaptureQueriesContext(connection) as one_batch:
        import_lines(many_new_agreements(10, "one"))
    with CaptureQueriesContext(connection) as ten_batches:
        import_lines(many_new_agreements(100, "ten"))

    per_batch = len(one_batch)
    assert len(ten_batches) <= 10 * per_batch
    stored = Agreement.objects.get(slug="ten-99")
    assert stored.history.get().history_type == "+"
    # Its history row records its focus areas, as focus_areas.set() on a saved one would.
    recorded = stored.history.get().focus_areas.all()
    assert sorted(link.focusarea.name for link in recorded) == ["5G", "ten area 99"]
    signatory = stored.participations.get(role="signatory")
    assert signatory.party.institution.name == "ten Company 99"
    assert stored.status_changes.get().to_status == Agreement.Status.PUBLISHED


def test_an_import_records_each_row_it_adds_in_its_history_as_written(django_user_model):
    user = django_user_model.objects.create_superuser("importer")
    report = import_text(DEMO.read_text(encoding="utf-8"), user=user)
    assert report.counts("agreements") == {"created": 2}

    for model in (Agreement, Institution, Person, Lab):
        for row in model.objects.all():
            record = row.history.get()
            assert record.history_type == "+"
            for field in model._meta.concrete_fields:
                assert getattr(record, field.attname) == getattr(row, field.attname), field


# Importing again


def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    text = DEMO.read_text(encoding="utf-8")
    import_text(text)
    before = row_counts()

    report = import_text(text)

    assert row_counts() == before
    assert report.counts("agreements") == {"unchanged": 2}
    assert set(report.counts("institutions")) == {"matched"}


def test_importing_an_export_into_the_database_it_came_from_changes_nothing(tmp_path, settings):
    build_registry()
    exported = export_all()
    before, files = row_counts(), sorted(Path(settings.MEDIA_ROOT).rglob("*"))

    report = import_text(exported, base_dir=tmp_path)

    assert report.counts("agreements") == {"unchanged": 2}
    assert row_counts() == before
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*")) == files


def test_a_changed_line_updates_its_agreement_and_only_what_changed():
    import_text(agreement(summary="First version."))
    institutions = Institution.history.count()

    report = import_text(agreement(summary="Second version.", status="published"))

    assert report.counts("agreements") == {"updated": 1}
    updated = Agreement.objects.get(slug="tju-huawei-2020")
    assert (updated.summary, updated.status) == ("Second version.", "published")
    assert updated.published_at is not None
    assert Institution.history.count() == institutions


def test_a_line_unchanged_but_for_what_an_earlier_line_changed_is_unchanged():
    other = dict(key="other-2021", title="Another agreement with Huawei")
    import_text("\n".join([agreement(), agreement(**other)]))
    history = Agreement.history.filter(slug="other-2021").count()
    # Both lines give Huawei another name, and the first changes its agreement's summary too:
    # the second is its agreement's export as it stands once the first line is in.
    lines = [json.loads(line) for line in export_all().splitlines()]
    for line in lines:
        line["parties"][1]["institution"]["aliases"] = ["华为"]
    first, second = sorted(lines, key=lambda line: line["key"] != "tju-huawei-2020")
    first["summary"] = "Changed too."

    report = import_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in (first, second))
    )

    assert report.errors == []
    assert report.counts("institutions")["updated"] == 1
    assert report.counts("agreements") == {"updated": 1, "unchanged": 1}
    assert Agreement.history.filter(slug="other-2021").count() == history


def test_a_changed_line_is_exported_once_before_and_once_after(monkeypatch):
    import_lines(many_new_agreements(10, "ten"))
    changed = [
        json.dumps({**json.loads(line), "summary": "Corrected."}, ensure_ascii=False)
        for line in export_all().splitlines()
    ]
    loads, exports = [], []
    load, export = importing.Importer.load, importing.export_lines
    monkeypatch.setattr(importing.Importer, "load", lambda self: loads.append(1) or load(self))
    monkeypatch.setattr(importing, "export_lines", lambda q: exports.append(1) or export(q))

    report = import_lines(changed)

    assert report.counts("agreements") == {"updated": 10}
    # What is stored is read once, not again for lines that differ from their export in text;
    # the agreements are exported together before and each alone after its line.
    assert (len(loads), len(exports)) == (1, 1 + 10)


def test_a_key_made_for_a_line_without_one_is_not_taken_by_a_later_line():
    made = json.loads(agreement(title="Foo"))
    del made["key"]

    report = import_lines([json.dumps(made), agreement(key="foo", title="Bar")])

    # Not "1 created" with Foo overwritten by Bar: which of the two did the file mean?
    assert report.errors == ["line 2: key: 'foo' is the key made for line 1 from its title"]
    assert not Agreement.objects.exists()


def test_a_byte_order_mark_before_the_first_line_is_not_part_of_it():
    report = import_lines([b"\xef\xbb\xbf" + agreement().encode(), agreement(key="b").encode()])

    assert report.errors == []
    assert report.counts("agreements") == {"created": 2}


def test_a_character_escaped_as_a_surrogate_pair_is_read():
    escaped = json.dumps(json.loads(agreement(title="Smile 😀")))  # "\\ud83d\\ude00"

    assert import_lines([escaped]).errors == []
    assert Agreement.objects.get().title == "Smile 😀"


def test_a_file_without_agreements_is_refused(tmp_path):
    assert import_lines(["", "  ", "\r\n"]).errors == ["The file holds no agreements."]


def test_a_line_replaces_the_lists_of_its_agreement():
    import_text(agreement(focus_areas=["5G", "AI"], sources=[{"url": "https://a.example/1"}]))

    import_text(agreement(focus_areas=["AI"], sources=[{"url": "https://a.example/2"}]))

    stored = Agreement.objects.get(slug="tju-huawei-2020")
    assert [area.name for area in stored.focus_areas.all()] == ["AI"]
    assert [source.url for source in stored.sources.all()] == ["https://a.example/2"]


def test_a_line_without_key_gets_one_made_from_its_title():
    record = json.loads(agreement())
    del record["key"]

    import_text(json.dumps(record))

    assert Agreement.objects.get().slug == "tju-and-huawei-cooperation-agreement"


def test_dates_keep_their_precision():
    import_text(agreement(signed_on="2021-05", term={"starts_on": "2021", "years": 10}))

    stored = Agreement.objects.get()
    assert (stored.signed_on, stored.signed_on_precision) == (datetime.date(2021, 5, 1), "month")
    assert (stored.starts.isoformat(), stored.ends, stored.term_years) == ("2021", None, 10)
    assert stored.status == "draft" and stored.published_at is None


def test_relations_may_point_to_a_later_line_or_a_stored_agreement():
    AgreementFactory(slug="stored-2015")
    follows = [{"type": "follows", "key": "later-2019"}, {"type": "renews", "key": "stored-2015"}]
    lines = [agreement(key="first-2020", relations=follows), agreement(key="later-2019")]

    report = import_lines(lines)

    assert report.errors == []
    relations = Agreement.objects.get(slug="first-2020").relations.order_by("type")
    assert [(r.type, r.target.slug) for r in relations] == [
        ("follows", "later-2019"),
        ("renews", "stored-2015"),
    ]
    assert import_lines(lines).counts("agreements") == {"unchanged": 2}


def test_two_agreements_that_relate_both_ways_are_refused_on_both_lines():
    # Every kind says which of the two came after, or rests on, the other.
    lines = [
        agreement(key="ecnu-huawei-2022", relations=[{"type": "supersedes", "key": "ecnu-2019"}]),
        agreement(key="ecnu-2019", relations=[{"type": "follows", "key": "ecnu-huawei-2022"}]),
    ]

    report = import_lines(lines)

    assert report.errors == [
        "line 1: relations[0].key: 'ecnu-2019' follows this agreement already: two agreements"
        " relate in one direction only",
        "line 2: relations[0].key: 'ecnu-huawei-2022' supersedes this agreement already: two"
        " agreements relate in one direction only",
    ]
    assert not Agreement.objects.exists()


def test_a_relation_the_other_way_to_a_stored_one_is_refused_unless_the_file_turns_it():
    stored = RelationFactory(
        source=AgreementFactory(slug="ecnu-2019"), target=AgreementFactory(slug="ecnu-2017"),
        type="renews",
    )  # fmt: skip
    turned = agreement(key="ecnu-2017", relations=[{"type": "renews", "key": "ecnu-2019"}])

    report = import_lines([turned])

    assert report.errors == [
        "line 1: relations[0].key: 'ecnu-2019' renews this agreement already: two agreements"
        " relate in one direction only"
    ]
    assert list(AgreementRelation.objects.all()) == [stored]
    # The same file with the stored one's line, which no longer gives it: the relation turned.
    assert import_lines([turned, agreement(key="ecnu-2019")]).errors == []
    assert [(r.source.slug, r.target.slug) for r in AgreementRelation.objects.all()] == [
        ("ecnu-2017", "ecnu-2019")
    ]


# Problems


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        (
            agreement(agreement_type="treaty"),
            "line 2: agreement_type: unknown type 'treaty'; known: alliance; cooperation agreement",
        ),
        (
            agreement(parties=[{"institution": "TJ"}]),
            "line 2: parties[0].institution: 'TJ' matches more than one institution: "
            "Tianjin University (tianjin-university), Tongji University (tongji-university)",
        ),
        (
            agreement(signed_on="2020-13-01"),
            "line 2: signed_on: '2020-13-01' is not a real date: month must be in 1..12",
        ),
        (agreement(sigend_on="2020-09-24"), "line 2: sigend_on: unknown key"),
        (agreement(parties=[]), "line 2: parties: needs at least one party"),
        (agreement(parties=None), "line 2: parties: needs at least one party"),
        (
            agreement(parties=[{"institution": "Tianjin University", "unit": "Nowhere Institute"}]),
            "line 2: parties[0].unit: no institution is known as 'Nowhere Institute'; "
            "to add one, give an object with name and kind",
        ),
        (
            agreement(
                participants=[
                    {
                        "person": {"name": "Su Weifeng"},
                        "role": "signatory",
                        "on_behalf_of": "Tongji University",
                    }
                ]
            ),
            "line 2: participants[0].on_behalf_of: 'Tongji University' is not one of the parties",
        ),
        (
            agreement(relations=[{"type": "follows", "key": "nowhere"}]),
            "line 2: relations[0].key: no agreement has the key 'nowhere', stored or in this file",
        ),
        (
            agreement(parties=[{"institution": {"name": " ", "kind": "company"}}]),
            "line 2: parties[0].institution.name: is required",
        ),
        (agreement(agreement_type="   "), "line 2: agreement_type: is required"),
        (agreement(title=" "), "line 2: title: is required"),
        (
            agreement(participants=[{"person": {"name": " "}, "role": "witness"}]),
            "line 2: participants[0].person.name: is required",
        ),
        (
            agreement(relations=[{"type": "follows", "key": " "}]),
            "line 2: relations[0].key: is required",
        ),
        (
            agreement()[:-1] + ', "title": "Another title"}',
            "line 2: agreement: 'title' is given twice in one object",
        ),
        (
            agreement(parties=[{"institution": "A"}]).replace(
                '{"institution": "A"}', '{"institution": "A", "institution": "B"}'
            ),
            "line 2: agreement: 'institution' is given twice in one object",
        ),
        (
            "[" * 100_000 + "]" * 100_000,
            "line 2: agreement: not valid JSON here: nested too deeply",
        ),
        ('{"term": {"years": ' + "9" * 5000 + "}}", "line 2: agreement: not valid JSON: Exceeds"),
        (
            json.dumps({"title": "A\ud800B", "agreement_type": "MoU"}),
            "line 2: agreement: holds half of a UTF-16 surrogate pair, which is no character",
        ),
        (
            agreement(**{"ti\udc00tle": "A"}),
            "line 2: agreement: holds half of a UTF-16 surrogate pair, which is no character",
        ),
        (agreement(place="Tianjin\u0000"), "line 2: place: contains a NUL character"),
        (
            agreement(photos=[{"image_url": "a\u0000b.png"}]),
            "line 2: photos[0].image_url: contains a NUL character",
        ),
        (
            agreement(title="Strategic\u0007cooperation"),
            "line 2: title: contains a control character (\\u0007)",
        ),
        (agreement(title="\u200b\u200b"), f"line 2: title: {SHOWS_NOTHING}"),
        (
            agreement(participants=[{"person": {"name": "\u2060 "}, "role": "witness"}]),
            f"line 2: participants[0].person.name: {SHOWS_NOTHING}",
        ),
        (
            agreement(parties=[{"institution": {"name": "\u3000\u200d", "kind": "company"}}]),
            f"line 2: parties[0].institution.name: {SHOWS_NOTHING}",
        ),
        (
            agreement(
                parties=[{"institution": {"name": "X", "kind": "company", "aliases": ["\u0301"]}}]
            ),
            f"line 2: parties[0].institution.aliases[0]: {SHOWS_NOTHING}",
        ),
        (agreement(focus_areas=["5G", "\ufeff"]), f"line 2: focus_areas[1]: {SHOWS_NOTHING}"),
    ],
    ids=[
        "unknown type",
        "ambiguous institution",
        "bad date",
        "unknown key",
        "no party",
        "parties null",
        "bare unknown string",
        "on_behalf_of not a party",
        "unknown relation key",
        "blank institution name",
        "blank type",
        "blank title",
        "blank person name",
        "blank relation key",
        "a key twice",
        "a key twice in a nested object",
        "nested too deeply",
        "too long a number",
        "lone surrogate escaped",
        "lone surrogate in a key",
        "NUL in a text",
        "NUL in a photo path",
        "a control character",
        "a title of zero-width spaces",
        "a person's name of a word joiner",
        "an institution's name of an ideographic space and a zero-width joiner",
        "an alias of a combining mark alone",
        "a technology of a byte order mark",
    ],
)
def test_a_file_with_one_bad_line_is_rejected_whole(bad_line, expected):
    InstitutionFactory(name="Tianjin University", slug="tianjin-university", acronym="TJ")
    InstitutionFactory(name="Tongji University", slug="tongji-university", acronym="TJ")
    before = row_counts()

    report = import_lines([agreement(key="good-2019"), bad_line])

    assert len(report.errors) == 1
    assert report.errors[0].startswith(expected)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"term": {"years": 5, "colour": "red"}}, "term.colour"),
        (
            {"parties": [{"institution": "Tianjin University", "colour": "red"}]},
            "parties[0].colour",
        ),
        (
            {"parties": [{"institution": {"name": "New", "kind": "company", "colour": "red"}}]},
            "parties[0].institution.colour",
        ),
        (
            {"participants": [{"person": {"name": "Li", "colour": "red"}, "role": "witness"}]},
            "participants[0].person.colour",
        ),
        (
            {"participants": [{"person": {"name": "Li"}, "role": "witness", "colour": "red"}]},
            "participants[0].colour",
        ),
        ({"sources": [{"url": "https://a.example/1", "colour": "red"}]}, "sources[0].colour"),
        ({"photos": [{"caption": "Signed.", "colour": "red"}]}, "photos[0].colour"),
        (
            {"relations": [{"type": "follows", "key": "stored-2015", "colour": "red"}]},
            "relations[0].colour",
        ),
    ],
    ids=["term", "party", "institution", "person", "participant", "source", "photo", "relation"],
)
def test_a_key_not_known_at_any_depth_is_a_problem_of_its_line(changes, path):
    """A misspelt key deep in a line would otherwise lose what it holds without a word."""
    InstitutionFactory(name="Tianjin University")
    AgreementFactory(slug="stored-2015")
    before = row_counts()

    assert import_lines([agreement(**changes)]).errors == [f"line 1: {path}: unknown key"]
    assert row_counts() == before


def test_every_problem_of_every_line_is_reported_with_its_place():
    lines = [
        "{not json",
        agreement(title=None, status="signed", term={"years": 0}),
        agreement(
            key="other",
            parties=[{"institution": {"name": "New Institute"}}],
            participants=[{"person": {"name": "Li Peng"}, "role": "host"}],
            labs=[{"name": "Lab", "hosts": [42], "colour": "red"}],
        ),
        "",
        agreement(),
    ]

    errors = import_lines(lines).errors

    assert errors[0].startswith("line 1: agreement: not valid JSON")
    assert errors[1:] == [
        "line 2: title: is required",
        f"line 2: status: 'signed' is not one of: {', '.join(Agreement.Status.values)}",
        "line 2: term.years: expected a whole number of years, at least 1",
        "line 3: participants[0].role: 'host' is not one of: signatory, witness, attendee",
        "line 3: labs[0].colour: unknown key",
        "line 3: labs[0].hosts[0]: expected a name or an object",
        "line 3: parties[0].institution.kind: is required to add the institution 'New Institute'",
        "line 5: key: 'tju-huawei-2020' is the key of line 2",
    ]


def test_two_sources_with_one_address_are_a_problem_of_the_line():
    source = {"url": "https://news.example.edu/1", "title": "Signed"}
    line = agreement(sources=[source, {**source, "title": "Again"}])

    assert import_lines([line]).errors == [
        "line 1: sources: two have the same url: https://news.example.edu/1"
    ]


def test_a_term_is_checked_at_the_precision_of_its_dates():
    lines = [
        agreement(key="a", term={"starts_on": "2020-05", "ends_on": "2020"}),
        agreement(key="b", term={"starts_on": "2020-05-15", "ends_on": "2020-05"}),
        agreement(key="c", term={"starts_on": "2020-05", "ends_on": "2019"}),
        agreement(key="d", term={"starts_on": "2020-05-15", "ends_on": "2020-04"}),
    ]

    assert import_lines(lines).errors == [
        "line 3: term.ends_on: the term cannot end before it starts",
        "line 4: term.ends_on: the term cannot end before it starts",
    ]
    assert not import_lines(lines[:2]).errors
    assert Agreement.objects.get(slug="a").ends.isoformat() == "2020"


def test_a_published_line_signed_after_today_is_refused_and_a_draft_kept():
    today = datetime.date.today()
    soon = (today + datetime.timedelta(days=40)).isoformat()
    lines = [
        agreement(key="published-soon", status="published", signed_on=soon),
        agreement(key="next-year", status="published", signed_on=str(today.year + 1)),
        agreement(key="this-month", status="published", signed_on=today.isoformat()[:7]),
        agreement(key="draft-soon", signed_on=soon),
    ]

    assert import_lines(lines).errors == [
        f"line 1: signed_on: {soon} is to come (today is {today.isoformat()}): a published "
        "agreement has been signed; import it as a draft, or correct the date",
        f"line 2: signed_on: {today.year + 1} is to come (today is {today.isoformat()}): a "
        "published agreement has been signed; import it as a draft, or correct the date",
    ]
    assert not import_lines(lines[2:]).errors
    assert Agreement.objects.get(slug="draft-soon").status == "draft"


def refuse_agreements_titled(monkeypatch, title):
    """The database refuses to store an agreement with this title: new ones are written in
    bulk (writing.bulk_write), stored ones saved."""
    bulk_write, save = writing.bulk_write, Agreement.save

    def refuse(agreements):
        if any(agreement.title == title for agreement in agreements):
            raise IntegrityError("no, thank you")

    def refusing_bulk_write(model, rows):
        if model is Agreement:
            refuse(rows)
        return bulk_write(model, rows)

    def refusing_save(self, *args, **kwargs):
        refuse([self])
        return save(self, *args, **kwargs)

    monkeypatch.setattr(writing, "bulk_write", refusing_bulk_write)
    monkeypatch.setattr(Agreement, "save", refusing_save)


def test_a_line_the_database_refuses_is_a_line_error(monkeypatch):
    import_text(agreement(key="stored"))
    refuse_agreements_titled(monkeypatch, "Refused")
    before = row_counts()
    lines = [
        agreement(key="new", title="Refused"),
        agreement(key="good"),
        agreement(key="stored", title="Refused"),
        agreement(key="other", title="Refused"),
    ]

    report = import_lines(lines)

    # The lines around a refused one, in its batch, are not blamed.
    assert report.errors == [
        "line 1: agreement: the database refused it: no, thank you",
        "line 3: agreement: the database refused it: no, thank you",
        "line 4: agreement: the database refused it: no, thank you",
    ]
    assert row_counts() == before


def test_dry_run_changes_nothing_and_reports_what_it_would_do():
    import_text(agreement())
    before = row_counts()
    lines = [
        agreement(summary="Changed."),
        agreement(key="new", focus_areas=["5G"], labs=[{"name": "Lab"}]),
    ]

    report = import_lines(lines, dry_run=True)

    assert row_counts() == before
    assert report.counts("agreements") == {"updated": 1, "created": 1}
    assert report.counts("institutions") == {"matched": 2}
    assert report.counts("focus areas") == {"created": 1}
    assert report.summary().splitlines() == [
        "Dry run: nothing was changed. The import would give:",
        "agreements: 1 created, 1 updated, 0 unchanged",
        "institutions: 0 created, 0 updated, 2 matched",
        "people: 0 created, 0 updated, 0 matched",
        "focus areas: 1 created, 0 matched",
        "labs: 1 created, 0 updated, 0 matched",
    ]


# Photos


def test_a_photo_given_as_a_local_path_is_read_relative_to_the_file(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "signing.png").write_bytes(png())
    photos = [{"caption": "Signing.", "image_url": "images/signing.png"}]

    import_lines([agreement(photos=photos)], base_dir=tmp_path)

    photo = Photo.objects.get()
    # Kept as the path of the file it was read from, wherever the next import's file is.
    assert photo.image_url == str(tmp_path / "images" / "signing.png")
    assert photo.image and photo.thumbnail
    assert json.loads(export_all())["photos"][0]["image_url"] == photo.image_url


def test_a_photo_read_from_a_relative_path_survives_export_and_import_elsewhere(tmp_path):
    (tmp_path / "signing.png").write_bytes(png())
    import_lines([agreement(photos=[{"image_url": "signing.png"}])], base_dir=tmp_path)
    exported = export_all()
    Agreement.objects.all().delete()
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()

    report = import_lines([exported], base_dir=elsewhere)

    assert report.errors == []
    assert Photo.objects.get().image
    assert export_all() == exported


def test_a_photo_address_is_kept_and_not_downloaded(tmp_path):
    address = (
        "http://news.tju.edu.cn/__local/F/76/89/A40244BC9CA1ACED5D337CA929B_55EB6884_46239.jpg"
    )

    import_lines([agreement(photos=[{"image_url": address}])], base_dir=tmp_path)

    photo = Photo.objects.get()
    assert (photo.image_url, bool(photo.image)) == (address, False)


def test_importing_a_photo_again_reads_no_file_again(tmp_path, settings):
    (tmp_path / "signing.png").write_bytes(png())
    line = agreement(photos=[{"image_url": "signing.png"}])
    import_lines([line], base_dir=tmp_path)
    files = sorted(Path(settings.MEDIA_ROOT).rglob("*.png"))

    assert import_lines([line], base_dir=tmp_path).counts("agreements") == {"unchanged": 1}
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*.png")) == files


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not an image", "The file is not a readable JPEG, PNG or WebP image."),
        (None, "cannot read"),
    ],
    ids=["not an image", "missing file"],
)
def test_a_bad_photo_file_is_a_line_error_and_no_file_is_left(
    tmp_path, settings, content, expected
):
    (tmp_path / "good.png").write_bytes(png())
    if content is not None:
        (tmp_path / "bad.png").write_bytes(content)
    lines = [
        agreement(key="good", photos=[{"image_url": "good.png"}]),
        agreement(photos=[{"image_url": str(tmp_path / "bad.png")}]),
    ]

    errors = import_lines(lines, base_dir=tmp_path).errors

    assert len(errors) == 1
    assert errors[0].startswith("line 2: photos[0].image_url: " + expected)
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.png"))


def test_without_a_base_folder_no_local_file_is_read(tmp_path):
    (tmp_path / "signing.png").write_bytes(png())

    import_lines([agreement(photos=[{"image_url": str(tmp_path / "signing.png")}])])

    assert not Photo.objects.get().image


# The commands


def test_import_command_prints_the_summary(tmp_path):
    path = tmp_path / "agreements.jsonl"
    path.write_text(agreement() + "\n", encoding="utf-8")
    out = io.StringIO()

    call_command("import_agreements", str(path), stdout=out)

    assert "agreements: 1 created, 0 updated, 0 unchanged" in out.getvalue()
    assert Agreement.objects.filter(slug="tju-huawei-2020").exists()


def test_import_command_fails_with_the_problems_on_stderr(tmp_path):
    path = tmp_path / "agreements.jsonl"
    lines = [agreement(agreement_type="treaty"), agreement(key="other")]
    path.write_text("\n".join(lines), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 problem") as failure:
        call_command("import_agreements", str(path), stderr=err)

    assert failure.value.returncode == 1  # the exit status of manage.py
    assert err.getvalue().startswith("line 1: agreement_type: unknown type 'treaty'")
    assert not Agreement.objects.exists()


def test_import_command_dry_run_changes_nothing(tmp_path):
    path = tmp_path / "agreements.jsonl"
    path.write_text(agreement(), encoding="utf-8")
    out = io.StringIO()

    call_command("import_agreements", str(path), "--dry-run", stdout=out)

    assert out.getvalue().startswith("Dry run: nothing was changed.")
    assert not Agreement.objects.exists()


def test_import_command_reads_lines_ended_by_a_carriage_return_alone(tmp_path):
    path = tmp_path / "agreements.jsonl"
    path.write_bytes(b"\r".join([agreement().encode(), agreement(key="b").encode(), b""]))

    call_command("import_agreements", str(path), stdout=io.StringIO())

    assert Agreement.objects.count() == 2


def test_import_command_says_when_the_file_cannot_be_read(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_agreements", str(tmp_path / "missing.jsonl"))


def test_export_command_writes_standard_output_or_a_file(tmp_path):
    import_text(DEMO.read_text(encoding="utf-8"))
    out = io.StringIO()

    call_command("export_agreements", stdout=out)
    call_command("export_agreements", "--output", str(tmp_path / "out.jsonl"))

    assert out.getvalue() == DEMO.read_text(encoding="utf-8")
    assert (tmp_path / "out.jsonl").read_bytes() == DEMO.read_bytes()


def test_bulk_write_stores_what_bulk_create_would_and_the_database_refuses_alike():
    stored = InstitutionFactory()
    new = InstitutionFactory.build(slug="written", native_name="书写", country="CN")
    assert new.pk is None
    (written,) = writing.bulk_write(Institution, [new])
    row = Institution.objects.get(slug="written")
    # A key from the table's sequence, the automatic dates, the country and an empty field.
    assert written.pk == row.pk and not written._state.adding
    assert row.created_at is not None and row.updated_at is not None
    assert (row.native_name, row.country.code, row.acronym) == ("书写", "CN", "")
    assert InstitutionFactory().pk > row.pk
    # A row the database refuses (a slug taken) raises Django's error, on every database.
    with pytest.raises(IntegrityError), transaction.atomic():
        writing.bulk_write(Institution, [InstitutionFactory.build(slug=stored.slug)])


def test_each_line_is_told_what_it_did_when_new_agreements_follow_stored_ones():
    """As the admin's preview shows them, line by line."""
    AgreementFactory(slug="stored-1")

    report = import_lines(
        [agreement(key="stored-1"), agreement(key="new-2")], dry_run=True, details=True
    )

    assert [(number, summary["agreements"]) for number, summary in report.by_line()] == [
        (1, {"updated": ["TJU and Huawei cooperation agreement (stored-1)"]}),
        (2, {"created": ["TJU and Huawei cooperation agreement (new-2)"]}),
    ]


def test_a_file_in_another_form_than_json_lines_is_told_what_to_do():
    """Said once, at the start: not "is not UTF-8" or "not valid JSON" on every line."""
    one = json.loads(agreement())
    utf16 = (agreement() + "\n" + agreement(key="other") + "\n").encode("utf-16")
    pretty = json.dumps(one, indent=2).encode()
    array = json.dumps([one, one]).encode()

    assert import_lines(io.BytesIO(utf16)).errors == [
        "line 1: agreement: the file is UTF-16, not UTF-8: save it as UTF-8"
    ]
    assert import_lines(io.BytesIO(pretty)).errors == [
        "line 1: agreement: not valid JSON: each agreement is one JSON object on a line of its"
        " own (JSON Lines), and this file is written over several"
    ]
    assert import_lines(io.BytesIO(array)).errors == [
        "line 1: agreement: expected a JSON object: each agreement is one JSON object on a line"
        " of its own (JSON Lines), not one array of them all"
    ]
