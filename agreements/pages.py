"""The public pages of single records (an agreement, an institution, a person, a technology) and
the lists of institutions and technologies.

Every query starts from `Agreement.objects.published()`: a draft is a 404, and an institution,
person or technology known only from drafts is a 404 too. Each page runs a fixed number of
queries, whatever the number of related rows."""

from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, F, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from agreements.charts import (
    count_per_year,
    fill_years,
    nth_largest,
    partnership_network,
)
from agreements.models import (
    Agreement,
    AgreementRelation,
    Participation,
    Party,
    RelationType,
    Role,
    last_public_under,
)
from agreements.public import (
    InstitutionTree,
    agreement_counts,
    focus_area_counts,
    focus_area_link_counts,
    institution_counts,
    linked_to,
    public_lab_ids,
    with_agreements,
)
from agreements.search_index import PARTY, TYPE, YEAR
from people.models import Person
from registry.cache import cached
from registry.dates import DISPLAY_FORMATS, DatePrecision
from registry.http import read_only
from registry.models import FocusArea, Institution, InstitutionKind
from registry.paging import no_such_page, page_of
from registry.sharing import organization, sharing
from registry.sharing import person as schema_person

# How a relation reads from the other end: B follows A, so A "is followed by" B.
INVERSE_RELATIONS = {
    RelationType.FOLLOWS: _("is followed by"),
    RelationType.RENEWS: _("is renewed by"),
    RelationType.AMENDS: _("is amended by"),
    RelationType.SUPERSEDES: _("is superseded by"),
    RelationType.IMPLEMENTS: _("is implemented by"),
}
AGREEMENTS_SHOWN = 20  # as many as a page of the search, which lists them all
PARTNERS_SHOWN = 50
PEOPLE_SHOWN = 50
# A person's roles on a page: a company's head may sign for it in thousands of agreements.
ROLES_PER_PAGE = 100
INSTITUTIONS_SHOWN = 50
INSTITUTIONS_PER_PAGE = 100
MAX_PAGE = 10_000  # of people: a larger number is read as page 1
NEWEST_FIRST = [F("agreement__signed_on").desc(nulls_last=True), "agreement__title"]


def former_key(request, slug):
    """The answer for a key no agreement the visitor may see has: once public, it is the
    address of what others cited, so it sends them on for good (301) to the agreement's new
    address where its key was changed while published, and answers 410 Gone where it left the
    public record (withdrawn, deleted), that search engines drop it; a key never public (a
    draft's, or none) is not found, as it was never anything to the public."""
    last_public = last_public_under(slug)
    if last_public is None:
        raise Http404("No agreement was ever public under this key.")
    now = Agreement.objects.published().filter(pk=last_public).first()
    if now is not None:
        return redirect(now.get_absolute_url(), permanent=True)
    return render(request, "agreements/agreement_gone.html", status=410)


def later_app_model(model, relation):
    """The model at the other end of `relation`, which a later app (labs) adds to `model`:
    reached through the ORM, so that this app imports nothing from an app to its right."""
    return model._meta.get_field(relation).related_model


@read_only
def agreement_detail(request, slug):
    published = Agreement.objects.published()
    # Staff who may see agreements in the admin preview one not published yet (its "View on
    # site"), marked as such and never stored by a cache; to anyone else it does not exist.
    # Staff: one whose "Staff status" is taken away is signed out of the admin, not of a
    # session still open, where a group's permission alone went on showing drafts.
    staff = request.user.is_staff and request.user.has_perm("agreements.view_agreement")
    lab_agreements = later_app_model(Agreement, "labagreement").objects.select_related("lab")
    agreement = (
        (Agreement.objects.all() if staff else published)
        .select_related("agreement_type")
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("institution", "unit")),
            "focus_areas",
            Prefetch(
                "participations",
                queryset=Participation.objects.select_related("person", "organisation__parent"),
            ),
            "sources",
            "photos",
            Prefetch("labagreement_set", queryset=lab_agreements.order_by("lab__name")),
            Prefetch(
                "relations",
                queryset=AgreementRelation.objects.filter(target__in=published).select_related(
                    "target"
                ),
            ),
            Prefetch(
                "incoming_relations",
                queryset=AgreementRelation.objects.filter(source__in=published).select_related(
                    "source"
                ),
            ),
        )
        .filter(slug=slug)
        .first()
    )
    if agreement is None:
        return former_key(request, slug)
    participations = list(agreement.participations.all())
    signatories = defaultdict(list)
    for participation in participations:
        if participation.role == Role.SIGNATORY:
            signatories[participation.party_id].append(participation)
    relations = [(r.get_type_display(), r.target) for r in agreement.relations.all()]
    relations += [(INVERSE_RELATIONS[r.type], r.source) for r in agreement.incoming_relations.all()]
    superseded_by = [
        r.source for r in agreement.incoming_relations.all() if r.type == RelationType.SUPERSEDES
    ]
    preview = agreement.status != Agreement.Status.PUBLISHED
    photo = next((photo for photo in agreement.photos.all() if photo.image), None)
    response = render(
        request,
        "agreements/agreement_detail.html",
        {
            "agreement": agreement,
            "preview": preview,
            # A preview is for staff alone: nothing of it for search engines or link cards.
            "share": None
            if preview
            else sharing(
                request,
                path=agreement.get_absolute_url(),
                title=agreement.title,
                description=agreement_description(agreement),
                image=photo and photo.image,
                image_alt=photo and photo.caption,
                type="article",
            ),
            "parties": [(party, signatories[party.pk]) for party in agreement.parties.all()],
            "signatories_without_party": signatories[None],
            "witnesses": [p for p in participations if p.role == Role.WITNESS],
            "attendees": [p for p in participations if p.role == Role.ATTENDEE],
            "relations": relations,
            # Said at the top, as a reader who lands here must not take it for the one in force.
            "superseded_by": superseded_by,
            # The record's own dates, in the visitor's language as its other dates are.
            "day_format": DISPLAY_FORMATS[DatePrecision.DAY],
        },
    )
    if preview:
        patch_cache_control(response, private=True, no_store=True)
    return response


def agreement_description(agreement):
    """Its type, date and parties, then its summary (trimmed to a description's length)."""
    said = {
        "type": capfirst(agreement.agreement_type.name),
        "parties": ", ".join(party.institution.name for party in agreement.parties.all()),
    }
    if agreement.signed:
        said["date"] = agreement.signed
        what = gettext("%(type)s signed %(date)s by %(parties)s.") % said
    else:
        what = gettext("%(type)s signed by %(parties)s.") % said
    return f"{what} {agreement.summary}"


@read_only
def institution_list(request):
    # Sorted from plain rows; only a page's institutions are read as objects.
    rows = {
        row.pk: row
        for row in Institution.objects.values_list("pk", "parent", "name", "kind", named=True)
    }
    tree = InstitutionTree((pk, row.parent) for pk, row in rows.items())
    counts = agreement_counts()
    order = {value: index for index, value in enumerate(InstitutionKind.values)}

    def place(pk):
        """Kind by kind; units right after their parent: the names from the top down."""
        chain = reversed(tree.with_ancestors(pk))
        return order[rows[pk].kind], [(rows[up].name.casefold(), up) for up in chain]

    listed = [pk for pk in rows if pk in counts]
    kind = request.GET.get("kind", "")
    if kind not in InstitutionKind.values:
        if kind:
            messages.error(
                request,
                _("There is no kind “%(kind)s”: every kind is listed.") % {"kind": kind[:40]},
            )
        kind = ""
    kinds = [
        (value, label, sum(1 for pk in listed if rows[pk].kind == value))
        for value, label in InstitutionKind.choices
    ]
    # A page at a time: all 3,000 of 100,000 agreements' institutions took half a second.
    shown = sorted((pk for pk in listed if not kind or rows[pk].kind == kind), key=place)
    page = page_of(request, shown, INSTITUTIONS_PER_PAGE)
    by_pk = Institution.objects.select_related("parent").in_bulk(page.object_list)
    page.object_list = [by_pk[pk] for pk in page.object_list]
    for institution in page:
        institution.agreement_count = counts[institution.pk]
    labels = dict(InstitutionKind.choices)
    groups = [(labels[value], list(group)) for value, group in groupby(page, attrgetter("kind"))]
    title = gettext("Institutions")
    share = sharing(
        request,
        path=reverse("agreements:institution-list"),
        title=f"{title}: {labels[kind]}" if kind else title,
        description=ngettext(
            "The %(counter)s university, company, government body or institute with published"
            " partnership agreements, and how many each has signed.",
            "The %(counter)s universities, companies, government bodies and institutes with"
            " published partnership agreements, and how many each has signed.",
            len(listed),
        )
        % {"counter": len(listed)},
        query=[("kind", kind)],
        page=page.number,
    )
    return render(
        request,
        "agreements/institution_list.html",
        {
            "share": share,
            "groups": groups,
            "kinds": kinds,
            "kind": kind,
            "total": len(listed),
            "page": page,
            "query": urlencode({"kind": kind} if kind else {}),
        },
    )


@read_only
def institution_detail(request, slug):
    institution = get_object_or_404(
        Institution.objects.select_related("parent").prefetch_related("aliases"), slug=slug
    )
    # A large company's page is the public site's slowest, and the same for every visitor in
    # a language: with SEARCH_CACHE its record is kept as HTML, and served only while each
    # agreement it names is still published, as the search reads its cached results again.
    record = cached(
        "institution",
        f"{get_language()}:{institution.pk}",
        lambda: institution_record(request, institution),
        valid=lambda record: all_published(record["named"]),
    )
    if record is None:
        raise Http404("No published agreement names this institution.")
    if "people" in request.GET:
        # Its people were paged here (?people=2) before they had a page of their own. Sent
        # there only once the institution is known to be public: the address of one known
        # only from drafts is not found, as any other.
        people = reverse("agreements:institution-people", args=[institution.slug])
        page = page_number(request.GET["people"])
        return redirect(f"{people}?page={page}" if page > 1 else people, permanent=True)
    return render(
        request,
        "agreements/institution_detail.html",
        {
            "institution": institution,
            **record,
            "share": sharing(
                request,
                path=institution.get_absolute_url(),
                title=institution.name,
                description=institution_description(institution, record["agreement_count"]),
                image=institution.logo,
                image_alt=institution.name,
                data=organization(request, institution),
            ),
        },
    )


def institution_description(institution, agreement_count):
    """Its name, kind and country, and the number of its published agreements."""
    said = {
        "name": institution.name,
        "kind": institution.get_kind_display(),
        "country": institution.country.name,
        "counter": agreement_count,
    }
    if institution.country:
        return (
            ngettext(
                "%(name)s, %(kind)s in %(country)s: %(counter)s published partnership agreement,"
                " its partners, people and joint labs.",
                "%(name)s, %(kind)s in %(country)s: %(counter)s published partnership agreements,"
                " its partners, people and joint labs.",
                agreement_count,
            )
            % said
        )
    return (
        ngettext(
            "%(name)s, %(kind)s: %(counter)s published partnership agreement, its partners, people"
            " and joint labs.",
            "%(name)s, %(kind)s: %(counter)s published partnership agreements, its partners,"
            " people and joint labs.",
            agreement_count,
        )
        % said
    )


def institution_record(request, institution):
    """The record of an institution's page, rendered: {"html", "agreement_count", "named":
    the ids of the agreements it names, "search_query"}; None when nothing public names the
    institution."""
    tree = InstitutionTree.below(institution.pk)
    family = tree.with_descendants(institution.pk)
    published = Agreement.objects.published()
    linked = linked_to(institution.pk)
    agreements_qs = published.filter(pk__in=linked)
    # A large company has thousands of agreements, partners and people: the page counts them
    # from the search's links, lists the latest agreements and the main partners, and links
    # to the search for all the agreements and to a page of its people.
    counts = institution_counts(institution.pk, [TYPE, YEAR, PARTY])
    agreement_count = sum(counts[TYPE].values())
    parties = {int(pk): n for pk, n in counts[PARTY].items()}
    agreements = list(agreements_qs.order_by(*Agreement._meta.ordering).listed()[:AGREEMENTS_SHOWN])
    participations = participations_for(family)
    has_people = participations.exists()
    lab_model = later_app_model(Institution, "labs")
    # Public labs are those of a published agreement: joined here, among the family's few
    # labs, rather than the subquery that finds every public lab (public_lab_ids).
    labs = list(
        lab_model.objects.filter(hosts__in=family, agreements__in=published)
        .distinct()
        .prefetch_related("hosts")
    )
    if not (agreement_count or has_people or labs):
        return None

    # Its units (and theirs) are listed once something public names them: an agreement, a
    # lab, or else someone who acted for them (looked up only for units not named otherwise).
    below = family - {institution.pk}
    involved = with_agreements(below) if below else set()
    involved |= {host.pk for lab in labs for host in lab.hosts.all()}
    subtrees = {unit: tree.with_descendants(unit.pk) for unit in institution.units.all()}
    unnamed = set().union(*(pks for pks in subtrees.values() if not pks & involved))
    if unnamed:
        named = participations.filter(organisation__in=unnamed).order_by()
        involved |= set(named.values_list("organisation", flat=True).distinct())
    units = [unit for unit, pks in subtrees.items() if pks & involved]
    search_query = urlencode({"institution": institution.slug})
    html = render_to_string(
        "agreements/institution_record.html",
        {
            "institution": institution,
            "units": units,
            "agreements": agreements,
            "agreement_count": agreement_count,
            **partners_of(institution, family, parties),
            "has_people": has_people,
            "labs": labs,
            "per_year": fill_years(counts[YEAR]),
            "network": partnership_network(
                agreements_qs,
                party_counts=parties,
                linked=linked,
                scope=institution.pk,
            ),
            "search_query": search_query,
        },
        request,
    )
    named = sorted(agreement.pk for agreement in agreements)
    # The search's query beside the HTML: the page's head names the feed of its agreements.
    return {
        "html": html,
        "agreement_count": agreement_count,
        "named": named,
        "search_query": search_query,
    }


@read_only
def institution_people(request, slug):
    """Who signed, witnessed or attended for an institution or its units, by name, a page at
    a time (not counted: the top company has 14,000 people, whom counting took longer than
    listing a page from the index of names), each with their roles, newest first."""
    institution = get_object_or_404(Institution.objects.select_related("parent"), slug=slug)
    participations = participations_for(
        InstitutionTree.below(institution.pk).with_descendants(institution.pk)
    )
    asked = request.GET.get("page", "1")
    people = page_uncounted(
        Person.objects.filter(pk__in=participations.values("person")).order_by("name", "pk"),
        page_number(asked),
        PEOPLE_SHOWN,
    )
    if not people.items:
        raise Http404("No published agreement names anyone for this institution.")
    if str(people.number) != asked:
        no_such_page(request, asked)
    roles = defaultdict(list)
    for participation in (
        participations.filter(person__in=[person.pk for person in people])
        .select_related("organisation", "agreement")
        .order_by(*NEWEST_FIRST, "role")
    ):
        roles[participation.person_id].append(participation)
    title = gettext("People of %(name)s") % {"name": institution.name}
    return render(
        request,
        "agreements/institution_people.html",
        {
            "share": sharing(
                request,
                path=reverse("agreements:institution-people", args=[institution.slug]),
                title=title,
                description=gettext(
                    "Who signed, witnessed or attended for %(name)s in its published partnership"
                    " agreements, by name."
                )
                % {"name": institution.name},
                page=people.number,
            ),
            "institution": institution,
            "people": [(person, roles[person.pk]) for person in people],
            "page": people,
        },
    )


def participations_for(family):
    """The participations in published agreements of people who acted for `family` (the ids
    of an institution and its units)."""
    return Participation.objects.filter(
        agreement__in=Agreement.objects.published(), organisation__in=family
    )


def all_published(agreement_ids):
    """Whether every one of `agreement_ids` is published still."""
    published = Agreement.objects.published().filter(pk__in=agreement_ids)
    return published.count() == len(agreement_ids)


@dataclass
class UncountedPage:
    """A page of a list whose length is not counted: one more item than a page is read to
    know whether another page follows."""

    items: list
    number: int
    has_next: bool

    def __iter__(self):
        return iter(self.items)

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_other_pages(self):
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self):
        return self.number - 1

    @property
    def next_page_number(self):
        return self.number + 1


def page_number(text):
    """The page a query string's `text` asks for: 1 unless a number from 1 to MAX_PAGE."""
    return int(text) if text.isdecimal() and 0 < int(text) <= MAX_PAGE else 1


def page_uncounted(items, number, size):
    """Page `number` of `items` (page 1 if there is no such page)."""
    found = list(items[(number - 1) * size : number * size + 1])
    if not found and number > 1:
        number, found = 1, list(items[: size + 1])
    return UncountedPage(found[:size], number, len(found) > size)


def partners_of(institution, family, parties):
    """The institutions that share the most of their agreements with `institution` and its units
    (`family`), with the number shared, and how many share any. From `parties`, the links'
    count of agreements per party institution ({id: agreements}), less the family and the
    institutions above it: a unit's parent is never its partner, whether a unit of the family
    signed for it or it signed beside one."""
    own = family
    if institution.parent_id is not None:
        own = family | set(InstitutionTree.above(institution.parent_id).parent)
    shared = {pk: n for pk, n in parties.items() if pk not in own and n > 0}
    return {"partners": most_agreements(shared, PARTNERS_SHOWN), "partner_count": len(shared)}


def most_agreements(counts, limit):
    """[(institution, agreements), ...]: the `limit` institutions with the most agreements in
    `counts` ({institution id: agreements}), most first, then by name. One query."""
    least = nth_largest(counts.values(), limit)
    found = Institution.objects.filter(pk__in=[pk for pk, n in counts.items() if n >= least])
    found = found.only("name", "native_name", "acronym", "slug", "kind")  # as they are listed
    ranked = sorted(
        ((institution, counts[institution.pk]) for institution in found),
        key=lambda item: (-item[1], item[0].name, item[0].pk),
    )
    return ranked[:limit]


@read_only
def person_detail(request, slug):
    person = get_object_or_404(Person.objects.prefetch_related("aliases"), slug=slug)
    participations = (
        Participation.objects.filter(person=person, agreement__in=Agreement.objects.published())
        .select_related("agreement", "organisation", "party__institution", "party__unit")
        .order_by(*NEWEST_FIRST, "role", "pk")
    )
    # Its roles, which the pages list, and its agreements, which its description counts (one
    # agreement in two roles is one), in one query.
    counts = participations.aggregate(
        roles=Count("pk"), agreements=Count("agreement", distinct=True)
    )
    if not counts["roles"]:
        raise Http404("No published agreement names this person.")
    page = page_of(request, participations, ROLES_PER_PAGE, count=counts["roles"])
    share = sharing(
        request,
        path=person.get_absolute_url(),
        title=person.name,
        description=ngettext(
            "%(name)s in %(counter)s published partnership agreement: every role, with the"
            " title and organisation held at the time.",
            "%(name)s in %(counter)s published partnership agreements: every role, with the"
            " title and organisation held at the time.",
            counts["agreements"],
        )
        % {"name": person.name, "counter": counts["agreements"]},
        page=page.number,
        type="profile",
        data=schema_person(request, person),
    )
    return render(
        request,
        "agreements/person_detail.html",
        {
            "person": person,
            "participations": page.object_list,
            "page": page,
            # Its agreements, not its roles: one agreement it signed and attended is one.
            "agreement_count": counts["agreements"],
            "share": share,
        },
    )


@read_only
def focus_area_list(request):
    areas = focus_area_counts()
    share = sharing(
        request,
        path=reverse("agreements:focus-area-list"),
        title=gettext("Technologies"),
        description=gettext(
            "The technologies and fields of partnership agreements and joint labs (5G,"
            " artificial intelligence, cloud computing, big data …), with how many of each."
        ),
    )
    return render(request, "agreements/focus_area_list.html", {"areas": areas, "share": share})


@read_only
def focus_area_detail(request, slug):
    area = get_object_or_404(FocusArea.objects.select_related("group"), slug=slug)
    agreements_qs = Agreement.objects.published().filter(focus_areas=area)
    # A technology may be in thousands of agreements: the page counts them, their years and
    # their parties from the search's links, lists the latest agreements and the institutions
    # in most of them, and links to the search for all the agreements.
    counts = focus_area_link_counts(area.pk, [TYPE, YEAR, PARTY])
    agreement_count = sum(counts[TYPE].values())
    agreements = list(agreements_qs.listed()[:AGREEMENTS_SHOWN])  # newest first
    labs_qs = area.labs.filter(pk__in=public_lab_ids())
    labs = list(labs_qs.prefetch_related("hosts"))
    if not (agreement_count or labs):
        raise Http404("No published agreement or public lab has this focus area.")
    parties = {int(pk): n for pk, n in counts[PARTY].items()}
    description = area.description or ngettext(
        "%(name)s: %(counter)s published partnership agreement and the joint labs working on it.",
        "%(name)s: %(counter)s published partnership agreements and the joint labs working on it.",
        agreement_count,
    ) % {"name": area.name, "counter": agreement_count}
    return render(
        request,
        "agreements/focus_area_detail.html",
        {
            "share": sharing(
                request, path=area.get_absolute_url(), title=area.name, description=description
            ),
            "area": area,
            "agreements": agreements,
            "agreement_count": agreement_count,
            "labs": labs,
            "institutions": most_agreements(parties, INSTITUTIONS_SHOWN),
            "institution_count": len(parties),
            "per_year": fill_years(counts[YEAR]),
            "labs_per_year": count_per_year(labs_qs, "established_on"),
            "search_query": urlencode({"focus_area": area.slug}),
        },
    )
