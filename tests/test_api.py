"""The read-only JSON API and the JSON Lines download: the same parameters as the search,
the interchange format, and nothing that is not published."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.urls import urlpatterns
from backoffice.interchange import import_lines
from backoffice.public import public_records
from registry.images import process_image
from registry.models import FocusAreaGroup
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabHostFactory,
    ParticipationFactory,
    PartyFactory,
    PhotoFactory,
    RelationFactory,
)
from tests.search_data import DRAFT_TOKEN
from tests.test_uploads import image_bytes

pytestmark = pytest.mark.django_db


def get_json(client, address, status=200):
    response = client.get(address)
    assert response.status_code == status, response.content
    return response.json()


def test_agreement_list_takes_the_search_parameters(client, seeds):
    page = get_json(client, "/api/agreements/?q=Huawei&focus_area=5g")
    assert page["count"] == 1
    assert page["next"] is None and page["previous"] is None
    [record] = page["results"]
    assert record["key"] == "tju-china-telecom-huawei-2020"
    assert record["url"] == "http://testserver/agreements/tju-china-telecom-huawei-2020/"
    assert [p["institution"]["name"] for p in record["parties"]] == [
        "Tianjin University",
        "China Telecom",
        "Huawei Technologies",
    ]
    assert record["signed_on"] == "2020-09-24"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "institution=huawei",
        "institution=huawei&institution=ecnu",
        "q=Huawei",
        "kind=company&focus_area=5g",
        "signed_from=2020",
        "has_lab=false",
        "q=Nothingmatchesthis",
    ],
)
def test_agreement_list_counts_what_it_lists(client, seeds, query):
    page = get_json(client, f"/api/agreements/?{query}")
    assert page["count"] == len(page["results"])


def test_agreement_list_pages_by_fifty(client, seeds):
    for _ in range(52):
        PartyFactory(agreement=AgreementFactory(status="published"))
    first = get_json(client, "/api/agreements/?sort=title")
    assert first["count"] == 55 and len(first["results"]) == 50
    second = get_json(client, first["next"].removeprefix("http://testserver"))
    assert len(second["results"]) == 5 and second["previous"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("signed_from=abc", "signed_from"),
        ("institution=nowhere", "institution"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=%C2%B2", "page"),
        ("has_lab=perhaps", "has_lab"),
    ],
)
def test_bad_parameters_answer_400_naming_them(client, seeds, query, field):
    assert field in get_json(client, f"/api/agreements/?{query}", status=400)["errors"]


def test_an_empty_value_asks_for_nothing_as_on_the_search_page(client, seeds):
    # A search form's blank choices (?kind=&focus_area=), copied from the site's address.
    everything = get_json(client, "/api/agreements/")["count"]
    assert get_json(client, "/api/agreements/?q=&kind=&focus_area=&sort=")["count"] == everything
    assert get_json(client, "/api/agreements/?kind=&q=ECNU")["count"] == 2


def test_each_public_record_is_read_at_its_own_api_address(client, seeds):
    assert get_json(client, "/api/agreements/ecnu-huawei-2019/")["key"] == "ecnu-huawei-2019"
    huawei = get_json(client, "/api/institutions/huawei/")
    assert huawei["agreement_count"] == 2 and "华为" in huawei["aliases"]
    person = get_json(client, f"/api/people/{_slug_of_sun()}/")
    assert person["roles"][0]["title"] == "Vice President"
    assert get_json(client, "/api/focus-areas/5g/")["agreement_count"] == 1
    labs = get_json(client, "/api/labs/")["results"]
    assert {lab["name"] for lab in labs} == {
        "Smart Campus Innovation Lab",
        "Joint Innovation Laboratory for Digital Government – Smart City",
    }


def test_labs_are_chosen_by_status_as_the_labs_page_chooses_them(client, seeds):
    everyone = {lab["status"] for lab in get_json(client, "/api/labs/")["results"]}
    assert everyone == {"proposed"}  # as the seeds' labs are
    assert get_json(client, "/api/labs/?status=proposed")["count"] == 2
    assert get_json(client, "/api/labs/?status=established")["count"] == 0
    refused = get_json(client, "/api/labs/?status=nope", status=400)
    assert refused == {"errors": {"status": ["Choose one of proposed, established, closed."]}}


def test_several_kinds_or_statuses_are_each_counted_as_on_the_agreements_list(client, seeds):
    """`?kind=university&kind=company` used the last value alone, without a word."""
    companies = get_json(client, "/api/institutions/?kind=company")["count"]
    universities = get_json(client, "/api/institutions/?kind=university")["count"]
    both = get_json(client, "/api/institutions/?kind=university&kind=company")["count"]
    assert both == companies + universities > companies > 0
    assert get_json(client, "/api/labs/?status=established&status=proposed")["count"] == 2
    assert get_json(client, "/api/institutions/?kind=company&kind=nope", status=400)["errors"]
    assert get_json(client, "/api/institutions/?kind=")["count"] >= both


def _slug_of_sun():
    from people.models import Person

    return Person.objects.get(name="Sun Zhenrong").slug


def test_a_draft_is_in_no_api_answer_or_download(client, seeds):
    draft = seeds["draft"]
    RelationFactory(source=seeds["ecnu_huawei"], target=draft, type="follows")
    answers = [
        client.get(address).content.decode()
        for address in [
            "/api/agreements/",
            "/api/agreements/?q=Huawei",
            f"/api/agreements/?q={DRAFT_TOKEN[:-3]}",
            "/api/agreements/ecnu-huawei-2019/",
            "/api/institutions/",
            "/api/people/",
            "/api/labs/",
            "/api/focus-areas/",
            "/api/openapi.json",
            "/sitemap.xml",
            "/sitemap-agreements.xml",
            "/sitemap-institutions.xml",
            "/sitemap-people.xml",
            "/sitemap-labs.xml",
            "/sitemap-technologies.xml",
        ]
    ]
    answers.append(b"".join(client.get("/agreements/export.jsonl").streaming_content).decode())
    for answer in answers:
        assert DRAFT_TOKEN not in answer and DRAFT_TOKEN.lower() not in answer
    for address in [
        f"/api/agreements/{draft.slug}/",
        "/api/institutions/secret/",
        "/api/focus-areas/secret-area/",
    ]:
        get_json(client, address, status=404)


def test_an_institution_with_a_page_is_in_the_sitemap_and_the_api_whatever_its_part(client):
    published, draft = AgreementFactory(status="published"), AgreementFactory()
    PartyFactory(agreement=published, institution=InstitutionFactory(slug="party"))
    ParticipationFactory(
        agreement=published,
        organisation=InstitutionFactory(
            slug="witness-unit", parent=InstitutionFactory(slug="witness-government")
        ),
    )
    LabAgreementFactory(agreement=published).lab.hosts.add(InstitutionFactory(slug="host"))
    ParticipationFactory(agreement=draft, organisation=InstitutionFactory(slug="secret"))

    public = ["party", "witness-unit", "witness-government", "host"]
    for slug in public:
        assert client.get(f"/institutions/{slug}/").status_code == 200, slug
        assert get_json(client, f"/api/institutions/{slug}/")["slug"] == slug
    assert client.get("/institutions/secret/").status_code == 404
    get_json(client, "/api/institutions/secret/", status=404)
    sitemap = client.get("/sitemap-institutions.xml").content.decode()
    assert sorted(re.findall(r"/institutions/([^/]+)/</loc>", sitemap)) == sorted(public)
    # The list is of the institutions in agreements, as on the site.
    listed = get_json(client, "/api/institutions/")["results"]
    assert [(r["slug"], r["agreement_count"]) for r in listed] == [("party", 1)]


def test_an_institution_s_record_lists_the_units_its_page_lists(client):
    """Its units that, or whose units, a published agreement, a public lab or someone acting
    for them names, by name; never one known only from drafts."""
    published, draft = AgreementFactory(status="published"), AgreementFactory()
    tju = InstitutionFactory(name="Tianjin University", slug="tju")

    def unit(slug, parent=tju):
        return InstitutionFactory(name=slug.replace("-", " ").title(), slug=slug, parent=parent)

    PartyFactory(agreement=published, institution=tju, unit=unit("signed"))
    college = unit("through-its-lab")
    PartyFactory(
        agreement=AgreementFactory(status="published"),
        institution=college,
        unit=unit("lab", college),
    )
    ParticipationFactory(agreement=published, organisation=unit("acted-for"))
    LabAgreementFactory(agreement=published).lab.hosts.add(unit("hosting"))
    PartyFactory(agreement=draft, institution=unit("draft-party"))
    ParticipationFactory(agreement=draft, organisation=unit("draft-witness"))
    LabAgreementFactory(agreement=draft).lab.hosts.add(unit("draft-lab"))
    unit("named-nowhere")

    page = client.get("/institutions/tju/")
    record = get_json(client, "/api/institutions/tju/")
    assert record["units"] == ["acted-for", "hosting", "signed", "through-its-lab"]
    assert [unit.slug for unit in page.context["units"]] == record["units"]
    document = get_json(client, "/api/openapi.json")
    described = document["paths"]["/api/institutions/{slug}/"]["get"]["responses"]["200"]
    schema = described["content"]["application/json"]["schema"]
    assert list(undescribed(record, schema, document["components"]["schemas"], "tju")) == []
    assert list(
        undescribed({**record, "units": [1]}, schema, document["components"]["schemas"], "")
    )
    assert get_json(client, "/api/institutions/through-its-lab/")["units"] == ["lab"]
    assert get_json(client, "/api/institutions/lab/")["units"] == []
    # The list, of many institutions, leaves them out.
    assert "units" not in get_json(client, "/api/institutions/")["results"][0]


def test_public_records_leave_out_a_draft_even_when_its_key_is_asked_for(rf, seeds):
    draft, published = seeds["draft"], seeds["ecnu_huawei"]
    records = public_records([draft.pk, published.pk], request=rf.get("/api/agreements/"))
    assert [record["key"] for record in records] == [published.slug]
    assert DRAFT_TOKEN not in json.dumps(records, ensure_ascii=False)


def test_jsonl_download_is_exactly_the_search_and_imports_cleanly(client, seeds):
    body = b"".join(
        client.get("/agreements/export.jsonl?q=Huawei&sort=title").streaming_content
    ).decode()
    records = [json.loads(line) for line in body.splitlines()]
    api = get_json(client, "/api/agreements/?q=Huawei&sort=title")["results"]
    assert [r["key"] for r in records] == [r["key"] for r in api]
    report = import_lines(body.splitlines(), dry_run=True)
    assert report.errors == []


def test_openapi_describes_every_endpoint_and_the_search_parameters(client, seeds):
    document = get_json(client, "/api/openapi.json")
    assert document["openapi"].startswith("3.")
    for path in ["agreements", "institutions", "people", "labs", "focus-areas"]:
        assert f"/api/{path}/" in document["paths"]
        assert f"/api/{path}/{{slug}}/" in document["paths"]
    names = {p["name"] for p in document["paths"]["/api/agreements/"]["get"]["parameters"]}
    assert names == {
        "q",
        "institution",
        "kind",
        "country",
        "focus_area",
        "type",
        "signed_from",
        "signed_to",
        "has_lab",
        "sort",
        "updated_since",
        "page",
    }


@pytest.mark.parametrize(
    "address",
    [
        "/api/agreements/",
        "/api/agreements/?updated_since=2000-01-01T00:00:00Z&sort=updated",
        "/api/withdrawn/?since=2000-01-01T00:00:00Z",
        "/api/institutions/",
        "/api/people/",
        "/api/labs/",
        "/api/focus-areas/",
        "/agreements/export.jsonl",
    ],
)
def test_api_pages_use_a_fixed_number_of_queries(client, seeds, address):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
            if response.streaming:
                b"".join(response.streaming_content)
        return len(captured)

    before = queries()
    for _ in range(10):
        agreement = AgreementFactory(status="published")
        PartyFactory(agreement=agreement)
        PartyFactory(agreement=agreement)
    assert queries() == before


def test_an_institution_s_record_uses_a_fixed_number_of_queries_whatever_its_units(client):
    published = AgreementFactory(status="published")
    huawei = InstitutionFactory(slug="huawei")
    PartyFactory(agreement=published, institution=huawei)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            get_json(client, "/api/institutions/huawei/")
        return len(captured)

    before = queries()
    for _ in range(5):
        signed = InstitutionFactory(parent=huawei)
        PartyFactory(agreement=AgreementFactory(status="published"), institution=signed)
        ParticipationFactory(agreement=published, organisation=InstitutionFactory(parent=signed))
        PartyFactory(institution=InstitutionFactory(parent=huawei))  # a draft's
    assert len(get_json(client, "/api/institutions/huawei/")["units"]) == 5
    assert queries() == before


def test_a_head_request_answers_as_get_does_without_the_body(client, seeds):
    for address in ["/api/", "/api/agreements/", "/api/openapi.json"]:
        response = client.head(address)
        assert response.status_code == 200, address
        assert response["Content-Type"] == "application/json"


def test_a_photo_read_from_a_file_on_the_server_is_given_by_its_public_address(
    client, media_in_tmp
):
    """Not by the path it was imported from, which names a folder of the server and which no
    one else can read; an address on the web it came from is given as it is."""
    agreement = AgreementFactory(title="Photographed signing", status="published")
    PartyFactory(agreement=agreement)
    processed = process_image(SimpleUploadedFile("c.png", image_bytes("PNG")))
    PhotoFactory(
        agreement=agreement,
        image_url="/srv/imports/2019/ceremony.png",
        image=processed.image,
        thumbnail=processed.thumbnail,
    )
    PhotoFactory(agreement=agreement, image_url="../photos/lost.png")
    PhotoFactory(agreement=agreement, image_url="https://news.example.edu/signing.jpg")

    (record,) = get_json(client, "/api/agreements/?q=Photographed")["results"]

    addresses = [photo["image_url"] for photo in record["photos"]]
    assert re.fullmatch(r"http://testserver/media/photos/\w+\.png", addresses[0])
    assert addresses[1:] == [None, "https://news.example.edu/signing.jpg"]
    downloaded = client.get("/agreements/export.jsonl?q=Photographed")
    assert "/srv/imports" not in b"".join(downloaded.streaming_content).decode()


@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
@pytest.mark.parametrize("address", ["/api/agreements/", "/api/", "/api/openapi.json"])
def test_the_api_only_reads_and_says_so_in_json_whatever_it_is_asked(method, address):
    """A POST met Django's CSRF page (HTML) before: the API answers JSON to every request."""
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(address)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"errors": {"method": ["The API only reads: ask with GET."]}}


@pytest.mark.parametrize(
    "address",
    ["/api/", "/api/agreements/", "/api/openapi.json", "/api/agreements/?kind=x", "/api/nowhere/"],
)
def test_any_site_s_page_may_read_the_api_answers_errors_included(client, seeds, address):
    """A newsroom's page drawing a chart from the API: browsers let it read the answer only
    when the API says any site may (CORS); it needs no cookie, so none is allowed."""
    response = client.get(address, HTTP_ORIGIN="https://news.example")

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_the_site_s_pages_and_downloads_are_not_opened_to_other_sites(client, seeds):
    assert "Access-Control-Allow-Origin" not in client.get("/agreements/")
    assert "Access-Control-Allow-Origin" not in client.get("/agreements/export.csv")


def test_openapi_allows_the_null_a_person_s_role_gives_without_an_organisation(client):
    """A witness recorded without the organisation they came from: the answer says null, so
    the description must allow it, or a client validating against it refuses the page."""
    agreement = AgreementFactory(status="published")
    PartyFactory(agreement=agreement)
    participation = ParticipationFactory(agreement=agreement, organisation=None)

    person = get_json(client, f"/api/people/{participation.person.slug}/")
    described = get_json(client, "/api/openapi.json")["components"]["schemas"]["Person"]
    organisation = described["properties"]["roles"]["items"]["properties"]["organisation"]

    assert person["roles"][0]["organisation"] is None
    assert "null" in organisation["type"]


JSON_TYPES = {str: "string", int: "integer", bool: "boolean", type(None): "null"}
JSON_TYPES |= {list: "array", dict: "object", float: "number"}


def undescribed(value, schema, schemas, path):
    """Where `value` has a JSON type that `schema` (of an OpenAPI description) does not allow,
    each place said as a path; the properties and items described are followed."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:  # every one of them
        for option in schema["allOf"]:
            yield from undescribed(value, option, schemas, path)
        return
    if "anyOf" in schema:  # one of them, at least
        tries = [list(undescribed(value, option, schemas, path)) for option in schema["anyOf"]]
        if all(tries):
            yield from min(tries, key=len)
        return
    allowed = schema.get("type", [])
    allowed = [allowed] if isinstance(allowed, str) else allowed
    kind = JSON_TYPES[type(value)]
    if allowed and kind not in allowed:
        yield f"{path}: {kind}, described as {' or '.join(allowed)}"
    elif isinstance(value, dict):
        yield from (
            f"{path}.{key}: missing" for key in schema.get("required", ()) if key not in value
        )
        for key, item in value.items():
            if key in schema.get("properties", {}):
                yield from undescribed(item, schema["properties"][key], schemas, f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from undescribed(item, schema["items"], schemas, f"{path}[{index}]")


def test_every_value_the_api_answers_is_of_a_type_its_description_allows(client, seeds):
    """A client that validates answers against the description (or generates its types from
    it) refuses an answer the description does not allow. Records with every empty value
    they may have: no place, summary, native name, acronym, city, title or description."""
    bare = AgreementFactory(status="published", slug="bare", place="", summary="")
    institution = InstitutionFactory(native_name="", acronym="", city="", website="", ror="")
    PartyFactory(agreement=bare, institution=institution)
    ParticipationFactory(agreement=bare, title="", person__native_name="")
    LabAgreementFactory(agreement=bare, lab__description="")
    document = get_json(client, "/api/openapi.json")
    schemas = document["components"]["schemas"]

    problems = []
    for path, operations in document["paths"].items():
        if "{slug}" in path or path == "/api/openapi.json":
            continue  # the lists hold what the details do (an institution's units: tested apart)
        described = operations["get"]["responses"]["200"]["content"]["application/json"]
        address = path
        while address:  # every page
            answer = get_json(client, address)
            problems += undescribed(answer, described["schema"], schemas, path)
            address = answer.get("next")
    assert problems == []


def test_an_empty_value_is_null_in_every_record_as_in_the_agreements(client):
    # A client tests one thing for "not given", whichever list it reads.
    agreement = AgreementFactory(status="published", place="")
    institution = InstitutionFactory(acronym="", city="", website="", ror="", wikidata="")
    PartyFactory(agreement=agreement, institution=institution)
    person = ParticipationFactory(agreement=agreement, title="", person__native_name="").person
    lab = LabAgreementFactory(agreement=agreement, lab__description="").lab

    assert get_json(client, f"/api/agreements/{agreement.slug}/")["place"] is None
    record = get_json(client, f"/api/institutions/{institution.slug}/")
    assert [record[name] for name in ("acronym", "city", "website", "ror", "wikidata")] == [
        None
    ] * 5
    record = get_json(client, f"/api/people/{person.slug}/")
    assert (record["native_name"], record["roles"][0]["title"]) == (None, None)
    assert get_json(client, f"/api/labs/{lab.slug}/")["description"] is None


def test_openapi_describes_every_error_the_api_answers(client):
    """405 to any method but GET and HEAD, 500 and 503 when the registry fails: each is the
    same JSON as a 400 or a 404, and a client generated from the description expects it."""
    document = get_json(client, "/api/openapi.json")

    for path, operations in document["paths"].items():
        responses = operations["get"]["responses"]
        assert {"405", "500", "503"} <= responses.keys(), path
        for status in ("405", "500", "503"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Errors"}, path


def test_a_browser_s_preflight_for_a_request_with_its_own_headers_is_allowed(client, seeds):
    """A page that sends a header of its own (`Content-Type: application/json`, as many
    fetch wrappers do) makes the browser ask with OPTIONS first; a 405 there failed the
    request before it was made."""
    response = client.options(
        "/api/agreements/?q=Huawei",
        HTTP_ORIGIN="https://news.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-requested-with",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert response["Access-Control-Allow-Headers"] == "content-type,x-requested-with"
    assert "Access-Control-Allow-Credentials" not in response


def test_an_api_answer_carries_an_etag_and_a_client_that_has_it_gets_304(client, seeds):
    """A newsroom's script polling the API every hour: an answer it already holds is not
    sent again, and one that changed is."""
    first = client.get("/api/agreements/?sort=title")
    etag = first["ETag"]

    again = client.get("/api/agreements/?sort=title", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["Access-Control-Allow-Origin"] == "*"

    agreement = AgreementFactory(status="published", title="A newer agreement")
    PartyFactory(agreement=agreement)
    changed = client.get("/api/agreements/?sort=title", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_the_api_s_agreements_import_as_lines_each_unchanged(client, seeds):
    """Each result is an interchange line plus its page's `url`, a key of the registry's own:
    saved one a line, the answer imports back, as the JSON Lines download does."""
    results = get_json(client, "/api/agreements/?sort=title")["results"]

    report = import_lines([json.dumps(record) for record in results], dry_run=True)

    assert report.errors == []
    assert set(report.outcomes["agreements"].values()) == {"unchanged"}
    assert len(report.outcomes["agreements"]) == len(results)


def test_a_technology_is_given_with_its_group_or_none(client):
    grouped = FocusAreaFactory(
        name="5G",
        slug="5g",
        group=FocusAreaGroup.objects.create(name="Communications", slug="communications"),
    )
    alone = FocusAreaFactory(name="Robotics", slug="robotics")
    for area in (grouped, alone):
        AgreementFactory(status="published").focus_areas.add(area)

    listed = {
        area["slug"]: area["group"] for area in get_json(client, "/api/focus-areas/")["results"]
    }
    assert listed == {"5g": "Communications", "robotics": None}
    assert get_json(client, "/api/focus-areas/5g/")["group"] == "Communications"


def test_a_lab_s_hosts_and_focus_areas_come_in_the_order_of_its_agreement_s_record(client):
    """Hosts in the order entered (the lead host first), focus areas by name whatever their
    case: as the lab's page and the agreements it came of list them."""
    link = LabAgreementFactory(agreement=AgreementFactory(status="published"))
    PartyFactory(agreement=link.agreement)
    for name, position in [("Zhejiang Lab", 0), ("Alibaba Cloud", 1)]:
        LabHostFactory(lab=link.lab, institution=InstitutionFactory(name=name), position=position)
    link.lab.focus_areas.add(FocusAreaFactory(name="beta"), FocusAreaFactory(name="HarmonyOS"))

    lab = get_json(client, f"/api/labs/{link.lab.slug}/")
    (in_agreement,) = get_json(client, f"/api/agreements/{link.agreement.slug}/")["labs"]

    assert lab["hosts"] == ["Zhejiang Lab", "Alibaba Cloud"]
    assert lab["hosts"] == [host["name"] for host in in_agreement["hosts"]]
    assert lab["focus_areas"] == ["beta", "HarmonyOS"] == in_agreement["focus_areas"]


def test_openapi_says_how_long_a_search_may_be(client):
    """Longer than that is a 400: a client checking its input against the description is
    told the limit before it asks."""
    document = get_json(client, "/api/openapi.json")
    (q,) = [
        p for p in document["paths"]["/api/agreements/"]["get"]["parameters"] if p["name"] == "q"
    ]
    limit = q["schema"]["maxLength"]

    assert get_json(client, f"/api/agreements/?q={'a' * limit}")["count"] == 0
    get_json(client, f"/api/agreements/?q={'a' * (limit + 1)}", status=400)


def test_openapi_describes_every_address_of_the_api(client):
    """The index that links the rest and the description itself included: a client that
    starts from /api/ finds it described."""
    document = get_json(client, "/api/openapi.json")
    described = {re.sub(r"<\w+:(\w+)>", r"{\1}", f"/api/{p.pattern}") for p in urlpatterns}

    assert described <= document["paths"].keys()
    index = document["paths"]["/api/"]["get"]["responses"]["200"]
    links = index["content"]["application/json"]["schema"]["properties"]
    assert links.keys() == get_json(client, "/api/").keys()
