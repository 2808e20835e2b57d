"""The read-only JSON API. Lists answer `{"count", "next", "previous", "results"}`; the
agreement list reads the same parameters as the search page, through the same FilterSet, and
gives each agreement in the interchange format plus its `url`."""

import functools

from django import forms
from django.core.paginator import Paginator
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, Subquery
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from agreements.facets import result_count
from agreements.filters import ApiAgreementFilter, InstantField, search_query
from agreements.models import Agreement, last_public_under
from agreements.public import (
    InstitutionTree,
    agreement_counts,
    focus_area_counts,
    public_institution_ids,
    public_lab_ids,
    public_participations,
    public_person_ids,
)
from backoffice.interchange.exporting import sorted_names, utc
from backoffice.public import public_records
from labs.models import Lab, LabAgreement, LabHost
from people.models import Person
from registry.http import unless_unchanged
from registry.models import Institution, InstitutionKind

PAGE_SIZE = 50
UNICODE = {"ensure_ascii": False}


def error(status, errors):
    return for_any_site(JsonResponse({"errors": errors}, status=status, json_dumps_params=UNICODE))


def for_any_site(response):
    """The API reads only published records, the same whoever asks: any site's page may read
    it (a newsroom's chart, say), as any visitor may. No cookie is sent with such a request,
    so a signed-in visitor's session lends it nothing."""
    response["Access-Control-Allow-Origin"] = "*"
    return response


def read_only(view):
    """GET and HEAD only, as `require_safe`, but every other method is answered in JSON too (a
    405 naming what is allowed), where a POST met the CSRF check's HTML 403 first: the API
    writes nothing, so there is no request to forge."""

    @functools.wraps(view)
    def read(request, *args, **kwargs):
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return preflight(request)
        if request.method not in ("GET", "HEAD"):
            response = error(405, {"method": [_("The API only reads: ask with GET.")]})
            response["Allow"] = "GET, HEAD"
            return response
        return for_any_site(unless_unchanged(request, view(request, *args, **kwargs)))

    return csrf_exempt(read)


def preflight(request):
    """A browser asks before a request from another site's page that carries a header of its
    own (`Content-Type: application/json`, as many fetch wrappers send). Any header may come:
    the answer is the same whatever the request says, and no cookie is allowed with it."""
    response = for_any_site(HttpResponse(status=204))
    response["Access-Control-Allow-Methods"] = "GET, HEAD"
    if asked := request.headers.get("Access-Control-Request-Headers"):
        response["Access-Control-Allow-Headers"] = asked
    response["Access-Control-Max-Age"] = "86400"
    return response


def page_link(request, number):
    if number is None:
        return None
    query = request.GET.copy()
    query["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginated(request, items, serialize_page, *, count=None):
    """One page of `items` (a queryset or list), or a 400 naming what is wrong. `count`: the
    number of items, when counted already."""
    paginator = Paginator(items, PAGE_SIZE)
    if count is not None:
        paginator.count = count
    number = request.GET.get("page", "1")
    if not number.isdecimal() or not 1 <= int(number) <= paginator.num_pages:
        return error(400, {"page": [_("There is no page %(page)s.") % {"page": number[:20]}]})
    page = paginator.page(number)
    return JsonResponse(
        {
            "count": paginator.count,
            "next": page_link(request, page.next_page_number() if page.has_next() else None),
            "previous": page_link(
                request, page.previous_page_number() if page.has_previous() else None
            ),
            "results": serialize_page(request, list(page.object_list)),
        },
        json_dumps_params=UNICODE,
    )


def detail(request, queryset, slug, serialize):
    """One public record, or a JSON 404 (a draft's records are not public, so not found)."""
    found = queryset.filter(slug=slug).first()
    if found is None:
        message = _("Nothing public is called “%(slug)s”.") % {"slug": slug[:100]}
        return error(404, {"slug": [message]})
    return JsonResponse(serialize(request, [found])[0], json_dumps_params=UNICODE)


def absolute(request, record):
    return request.build_absolute_uri(record.get_absolute_url())


# What the index links to, by their URL names: the lists, and the description.
INDEX_LINKS = [
    "agreements",
    "withdrawn",
    "institutions",
    "people",
    "labs",
    "focus-areas",
    "openapi",
]


@read_only
def index(request):
    return JsonResponse(
        {name: request.build_absolute_uri(reverse(f"api:{name}")) for name in INDEX_LINKS}
    )


# Agreements


def serialize_agreements(request, pks):
    return public_records(pks, request=request)


@read_only
def agreements(request):
    filterset = ApiAgreementFilter(
        search_query(request.GET), queryset=Agreement.objects.published()
    )
    if not filterset.is_valid():
        return error(400, {name: list(errors) for name, errors in filterset.errors.items()})
    return paginated(
        request,
        filterset.sorted(filterset.qs).values_list("pk", flat=True),
        serialize_agreements,
        count=result_count(filterset),
    )


@read_only
def agreement(request, slug):
    keys = Agreement.objects.published().values_list("pk", flat=True)
    found = detail(request, keys, slug, serialize_agreements)
    if found.status_code != 404 or (last_public := last_public_under(slug)) is None:
        return found
    # A key once public, as the agreement's page answers it: sent on for good to the record
    # under its new key, or gone (the withdrawn list says since when).
    now = keys.filter(pk=last_public).values_list("slug", flat=True).first()
    if now is not None:
        return redirect(reverse("api:agreement", args=[now]), permanent=True)
    message = _("“%(slug)s” is no longer public: it was withdrawn or removed.")
    return error(410, {"slug": [message % {"slug": slug[:100]}]})


class WithdrawnForm(forms.Form):
    since = InstantField(required=False)


def withdrawn_agreements(since=None):
    """(key, when) of each key once public and no longer: the last time it left the public
    record, the earliest first, whichever way it left: its agreement withdrawn, deleted, or
    given another key while published (whose old key a mirror holds as well). A key public
    again, whichever agreement has it now, is not listed; one never public (a draft's, or
    one given in a draft since) was never public, so not either. Nothing else of it: no
    reason, no who. Read from the history (django-simple-history), which keeps every version
    of an agreement, its last at its deletion, where its moves went with it."""
    versions = Agreement.history.all()
    # When each version stopped being the agreement's own: the date of the one after it.
    following = (
        versions.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__gt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id"))
        )
        .order_by("history_date", "history_id")
        .values("history_date")[:1]
    )
    # The versions the public saw (a deletion's record repeats the last one), under keys no
    # published agreement has now. The latest of a key's versions is followed by the one in
    # which the key left: so the latest of the dates that follow is when it last left.
    public = (
        versions.filter(status=Agreement.Status.PUBLISHED)
        .exclude(history_type="-")
        # NOT EXISTS, an anti-join: PostgreSQL reads NOT IN row by row once the published
        # keys outgrow its work_mem.
        .exclude(Exists(Agreement.objects.published().filter(slug=OuterRef("slug"))))
    )
    if since is not None:
        # Only agreements with a version since (through the index of the versions' dates).
        public = public.filter(id__in=versions.filter(history_date__gte=since).values("id"))
    gone = public.values("slug").annotate(withdrawn_at=Max(Subquery(following)))
    if since is None:
        gone = gone.filter(withdrawn_at__isnull=False)
    else:
        gone = gone.filter(withdrawn_at__gte=since)
    return gone.order_by("withdrawn_at", "slug").values_list("slug", "withdrawn_at")


def serialize_withdrawn(request, withdrawals):
    return [{"key": key, "withdrawn_at": utc(at)} for key, at in withdrawals]


@read_only
def withdrawn(request):
    """For a mirror of the registry: the keys it may hold that left the public record, which
    the agreements' list, of what is public, cannot tell it. A key once public is no secret."""
    form = WithdrawnForm(search_query(request.GET))
    if not form.is_valid():
        return error(400, {name: list(errors) for name, errors in form.errors.items()})
    return paginated(request, withdrawn_agreements(form.cleaned_data["since"]), serialize_withdrawn)


# Institutions


def serialize_institutions(request, institutions, counts):
    return [
        {
            "slug": institution.slug,
            "name": institution.name,
            # An empty value is null, as in the agreements (the interchange format).
            "native_name": institution.native_name or None,
            "acronym": institution.acronym or None,
            "aliases": [alias.name for alias in institution.aliases.all()],
            "kind": institution.kind,
            "country": institution.country.code or None,
            "city": institution.city or None,
            "website": institution.website or None,
            "parent": institution.parent.slug if institution.parent else None,
            "ror": institution.ror or None,
            "wikidata": institution.wikidata or None,
            "agreement_count": counts.get(institution.pk, 0),
            "url": absolute(request, institution),
        }
        for institution in institutions
    ]


def public_institutions(ids):
    return (
        Institution.objects.filter(pk__in=ids)
        .select_related("parent")
        .prefetch_related("aliases")
        .order_by("name", "pk")
    )


@read_only
def institutions(request):
    # As the site's list: the institutions in published agreements, as party or signing unit.
    counts = agreement_counts()
    found = public_institutions(counts)
    found, refused = chosen(request, found, "kind", InstitutionKind.values)
    if refused:
        return refused
    return paginated(request, found, lambda r, page: serialize_institutions(r, page, counts))


def chosen(request, found, name, values):
    """`found` with the field `name` as the parameter of that name chooses (any of `values`,
    several OR'd, as the agreements' parameters are), or a 400 naming the choices: (records,
    None) or (None, response). An empty value asks for nothing, as on the search page."""
    asked = [value for value in request.GET.getlist(name) if value.strip()]
    if not asked:
        return found, None
    if any(value not in values for value in asked):
        message = _("Choose one of %(kinds)s.") % {"kinds": ", ".join(values)}
        return None, error(400, {name: [message]})
    return found.filter(**{f"{name}__in": asked}), None


@read_only
def institution(request, slug):
    counts = agreement_counts()
    # Any institution with a public page, a government that only witnessed say, as the site:
    # looked for in its own tree.
    asked = Institution.objects.filter(slug=slug).values_list("pk", flat=True).first()
    ids = set() if asked is None else public_institution_ids(counts, InstitutionTree.below(asked))
    # Its units with a page of their own, as its page lists them: those that, or whose units,
    # a published agreement, a public lab or someone acting for them names (all in `ids`,
    # which is every public one of its tree). Read with it, whatever their number.
    units = Institution.objects.filter(pk__in=ids).only("slug", "parent").order_by("name", "pk")
    found = public_institutions(ids).prefetch_related(
        Prefetch("units", queryset=units, to_attr="public_units")
    )
    return detail(request, found, slug, lambda r, found: serialize_institution(r, found, counts))


def serialize_institution(request, institutions, counts):
    """As in the list, and the slugs of its public units (`public_units`), by name."""
    records = serialize_institutions(request, institutions, counts)
    for record, institution in zip(records, institutions, strict=True):
        record["units"] = [unit.slug for unit in institution.public_units]
    return records


# People


def serialize_people(request, people):
    return [
        {
            "slug": person.slug,
            "name": person.name,
            "native_name": person.native_name or None,
            "aliases": [alias.name for alias in person.aliases.all()],
            "roles": [
                {
                    "agreement": participation.agreement.slug,
                    "role": participation.role,
                    "title": participation.title or None,
                    "organisation": participation.organisation.name
                    if participation.organisation
                    else None,
                }
                for participation in person.public_participations
            ],
            "url": absolute(request, person),
        }
        for person in people
    ]


def public_people():
    return (
        Person.objects.filter(pk__in=public_person_ids())
        .prefetch_related(
            "aliases",
            Prefetch(
                "participations",
                public_participations()
                .select_related("agreement", "organisation")
                .order_by("agreement__signed_on", "agreement__slug", "role"),
                to_attr="public_participations",
            ),
        )
        .order_by("name", "pk")
    )


@read_only
def people(request):
    return paginated(request, public_people(), serialize_people)


@read_only
def person(request, slug):
    return detail(request, public_people(), slug, serialize_people)


# Labs


def public_labs():
    published_links = LabAgreement.objects.filter(
        agreement__in=Agreement.objects.published()
    ).select_related("agreement")
    return (
        Lab.objects.filter(pk__in=public_lab_ids())
        .prefetch_related(
            # In the order entered, as the lab's page and its agreements' records list them.
            Prefetch("labhost_set", LabHost.objects.select_related("institution")),
            "focus_areas",
            Prefetch("labagreement_set", published_links, to_attr="public_links"),
        )
        .order_by("name", "pk")
    )


def serialize_labs(request, labs):
    return [
        {
            "slug": lab.slug,
            "name": lab.name,
            "status": lab.status,
            "established_on": lab.established.isoformat() if lab.established else None,
            "description": lab.description or None,
            "hosts": [host.institution.name for host in lab.labhost_set.all()],
            "focus_areas": sorted_names(area.name for area in lab.focus_areas.all()),
            "agreements": [
                {"key": link.agreement.slug, "outcome": link.outcome} for link in lab.public_links
            ],
            "url": absolute(request, lab),
        }
        for lab in labs
    ]


@read_only
def labs(request):
    found, refused = chosen(request, public_labs(), "status", Lab.Status.values)
    return refused or paginated(request, found, serialize_labs)


@read_only
def lab(request, slug):
    return detail(request, public_labs(), slug, serialize_labs)


# Focus areas


def serialize_focus_areas(request, areas):
    return [
        {
            "slug": area.slug,
            "name": area.name,
            "group": area.group.name if area.group else None,
            "agreement_count": area.agreement_count,
            "lab_count": area.lab_count,
            "url": absolute(request, area),
        }
        for area in areas
    ]


@read_only
def focus_areas(request):
    return paginated(request, focus_area_counts(), serialize_focus_areas)


@read_only
def focus_area(request, slug):
    found = [area for area in focus_area_counts() if area.slug == slug]
    if not found:
        return error(404, {"slug": [_("No public focus area “%(slug)s”.") % {"slug": slug}]})
    return JsonResponse(serialize_focus_areas(request, found)[0], json_dumps_params=UNICODE)
