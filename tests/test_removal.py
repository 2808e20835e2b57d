"""What is left public once something is removed: nothing. Guards of behaviour that holds (the
removal audit): uploads are served by the rows that name them, the search's documents follow
their tables, and every admin write, a bulk "Delete selected" too (which calls no
Model.delete()), starts a new generation of the cache."""

import pytest

from registry.images import process_image
from registry.models import FocusArea
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabFactory,
    PartyFactory,
    PhotoFactory,
    SourceFactory,
    UserFactory,
    logged_in,
)
from tests.test_history import edit
from tests.test_uploads import image_bytes, upload

pytestmark = pytest.mark.django_db


def test_what_is_removed_from_a_published_agreement_leaves_no_public_trace(client):
    agreement = AgreementFactory(status="published", title="Grand pact")
    company = InstitutionFactory(name="Acme Quantum")
    PartyFactory(agreement=agreement, institution=company)
    alias = InstitutionAliasFactory(institution=company, name="Zorblax Holdings")
    lab = LabFactory(name="Joint Lab Frobnicate")
    LabAgreementFactory(lab=lab, agreement=agreement)
    source = SourceFactory(agreement=agreement, url="https://example.com/retracted-article")
    processed = process_image(upload("ceremony.png", image_bytes()))
    photo = PhotoFactory(agreement=agreement, image=processed.image, thumbnail=processed.thumbnail)
    files = [photo.image.url, photo.thumbnail.url]
    traces = ["Frobnicate", "retracted-article", *files]
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert all(trace in page for trace in traces)
    assert client.get("/agreements/?q=Zorblax").context["page"].paginator.count == 1
    assert client.get("/agreements/?q=Zorblux").context["suggestion"] == "Zorblax"

    for row in (photo, alias, lab, source):
        row.delete()

    page = client.get(agreement.get_absolute_url()).content.decode()
    api = client.get(f"/api/agreements/{agreement.slug}/").content.decode()
    assert [trace for trace in traces if trace in page or trace in api] == []
    assert [client.get(url).status_code for url in files] == [404, 404]
    assert lab.slug not in client.get("/sitemap-labs.xml").content.decode()
    assert client.get("/agreements/?q=Zorblax").context["page"].paginator.count == 0
    assert client.get("/agreements/?q=Zorblux").context["suggestion"] is None


def test_a_bulk_delete_in_the_admin_leaves_nothing_in_the_cached_search(
    client, settings, django_capture_on_commit_callbacks
):
    # Of technologies: a published agreement is withdrawn before it is deleted (which
    # starts a new generation by itself).
    settings.SEARCH_CACHE = True
    agreement = AgreementFactory(status="published", title="Grand pact")
    PartyFactory(agreement=agreement)
    for name in ("Quantum sensing", "Smart ports"):
        agreement.focus_areas.add(FocusAreaFactory(name=name))
    assert "Quantum sensing" in client.get("/agreements/").content.decode()  # a facet, cached

    publisher = logged_in(UserFactory(group="Publishers"))
    with django_capture_on_commit_callbacks(execute=True):  # as once the request commits
        response = publisher.post(
            "/admin/registry/focusarea/",
            {
                "action": "delete_selected",
                "_selected_action": [FocusArea.objects.get(name="Quantum sensing").pk],
                "post": "yes",
            },
        )

    assert response.status_code == 302 and FocusArea.objects.count() == 1
    html = client.get("/agreements/").content.decode()
    assert "Quantum sensing" not in html and "Smart ports" in html


def test_a_logo_replaced_or_cleared_in_the_admin_is_no_longer_served(client):
    old = process_image(upload("logo.png", image_bytes()))
    company = InstitutionFactory(logo=old.image, logo_thumbnail=old.thumbnail)
    PartyFactory(agreement=AgreementFactory(status="published"), institution=company)
    files = [company.logo.url, company.logo_thumbnail.url]
    assert files[0] in client.get(company.get_absolute_url()).content.decode()  # og:image
    staff = logged_in(UserFactory(group="Editors"))

    edit(staff, company, logo=upload("new.png", image_bytes(size=(50, 50))))

    company.refresh_from_db()
    new = [company.logo.url, company.logo_thumbnail.url]
    assert [client.get(url).status_code for url in files + new] == [404, 404, 200, 200]
    page = client.get(company.get_absolute_url()).content.decode()
    assert files[0] not in page and new[0] in page

    edit(staff, company, **{"logo-clear": "on"})

    company.refresh_from_db()
    assert not company.logo and not company.logo_thumbnail
    assert [client.get(url).status_code for url in new] == [404, 404]
