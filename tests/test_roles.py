"""Who may open which page of the back office: every role against every page by its address,
as a hand-typed address would ask (the menus hide what a role may not do; these do not rely on
it). What each page then lets a role do is pinned where it is built (test_review, test_admin,
test_history, test_merging, test_admin_import, test_reports, test_admin_exports)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from agreements.models import Agreement
from tests.factories import (
    InstitutionFactory,
    LabFactory,
    PersonFactory,
    SignedAgreementFactory,
    UserFactory,
    logged_in,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "no group",
    "editor",
    "publisher",
    "inactive publisher",
    "ex-staff editor",
    "ex-publisher",  # taken out of Publishers while signed in
]
OK, GONE, DENIED, LOGIN, ON = 200, 404, 403, "login", 302

# page: what each role of ROLES gets. LOGIN: sent to the admin's sign-in; ON: sent on (302).
MATRIX = {
    "/admin/": [LOGIN, OK, OK, OK, LOGIN, LOGIN, OK],
    "{agreements}/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{agreements}/add/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{published}/change/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{published}/history/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    # Told to withdraw it first, where it could be deleted as a draft.
    "{published}/delete/": [LOGIN, DENIED, DENIED, ON, LOGIN, LOGIN, DENIED],
    "{draft}/delete/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "{published}/move/withdraw/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "{draft}/move/publish/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "{draft}/move/submit/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{draft}/move/send_back/": [LOGIN, DENIED, ON, ON, LOGIN, LOGIN, DENIED],  # told it is no move
    "{agreements}/awaiting-review/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "{agreements}/export.csv": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "/admin/agreements/agreementtype/add/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "{institution}/change/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{institution}/delete/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "{person}/change/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{lab}/change/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{lab}/delete/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "/admin/auth/user/": [LOGIN, DENIED, DENIED, DENIED, LOGIN, LOGIN, DENIED],
    "/admin/auth/group/": [LOGIN, DENIED, DENIED, DENIED, LOGIN, LOGIN, DENIED],
    "/admin/backoffice/merge/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "/admin/reports/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "/admin/reports/companies/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "/admin/reports/needs-attention/": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "/admin/reports/companies/download.csv": [LOGIN, DENIED, DENIED, OK, LOGIN, LOGIN, DENIED],
    "/admin/import/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "/admin/duplicates/institutions/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "/admin/duplicates/people/": [LOGIN, DENIED, OK, OK, LOGIN, LOGIN, DENIED],
    "{view_on_site}": [LOGIN, DENIED, ON, ON, LOGIN, LOGIN, DENIED],
    # The public address of a draft: a preview for staff who may see agreements, else none.
    "{draft_page}": [GONE, GONE, OK, OK, GONE, GONE, GONE],
}


def client_of(role):
    if role == "anonymous":
        return Client()
    users = {
        "no group": lambda: UserFactory(),
        "editor": lambda: UserFactory(group="Editors"),
        "publisher": lambda: UserFactory(group="Publishers"),
        "inactive publisher": lambda: UserFactory(group="Publishers"),
        "ex-staff editor": lambda: UserFactory(group="Editors"),
        "ex-publisher": lambda: UserFactory(group="Publishers"),
    }
    user = users[role]()
    client = logged_in(user)
    # Taken away after signing in: the session outlives it, the permissions must not.
    if role == "inactive publisher":
        user.is_active = False
    if role == "ex-staff editor":
        user.is_staff = False
    if role == "ex-publisher":
        user.groups.clear()
    user.save()
    return client


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_only_its_pages(role):
    published = SignedAgreementFactory(status=Agreement.Status.PUBLISHED)
    draft = SignedAgreementFactory()
    kind = ContentType.objects.get_for_model(Agreement)
    places = {
        "agreements": "/admin/agreements/agreement",
        "published": f"/admin/agreements/agreement/{published.pk}",
        "draft": f"/admin/agreements/agreement/{draft.pk}",
        "institution": f"/admin/registry/institution/{InstitutionFactory().pk}",
        "person": f"/admin/people/person/{PersonFactory().pk}",
        "lab": f"/admin/labs/lab/{LabFactory().pk}",
        "view_on_site": f"/admin/r/{kind.pk}/{draft.pk}/",
        "draft_page": draft.get_absolute_url(),
    }
    client = client_of(role)
    expected, got = {}, {}
    for page, answers in MATRIX.items():
        response = client.get(page.format(**places))
        status = response.status_code
        if status == 302 and "/admin/login/" in response["Location"]:
            status = LOGIN
        expected[page], got[page] = answers[ROLES.index(role)], status

    assert got == expected
    # Nothing was changed by asking.
    assert Agreement.objects.get(pk=draft.pk).status == Agreement.Status.DRAFT
    assert Agreement.objects.get(pk=published.pk).status == Agreement.Status.PUBLISHED
