"""What the public may see besides agreements. An institution, person, focus area or lab is
public only through a published agreement; every function here starts from
`Agreement.objects.published()`, so a record that appears only in drafts stays out of sight."""

from collections import defaultdict

from django.db import connection
from django.db.models import CharField, Count, Exists, OuterRef, Subquery
from django.db.models.functions import Cast

from agreements.models import Agreement, Participation
from agreements.search_index import (
    FOCUS_AREA,
    INSTITUTION,
    SearchLink,
    SearchTotal,
    totals_kept,
)
from people.models import Person
from registry.models import FocusArea, Institution


def public_lab_ids():
    """A subquery of the ids of labs linked to at least one published agreement. Labs live in
    a later app; this module reaches them through the `labs` relation, without importing it."""
    relation = Agreement._meta.get_field("labs")
    return linked_to_published(relation.related_model.objects.all(), relation.through, "lab")


def public_person_ids():
    """A subquery of the ids of people with a part in at least one published agreement."""
    return linked_to_published(Person.objects.all(), Participation, "person")


def linked_to_published(records, link, field):
    """A subquery of the ids of `records` that a row of `link` (a model with an `agreement`)
    ties to a published agreement through its foreign key `field`.

    Each record's first such row is looked up by the index of `field`: a subquery per record,
    which PostgreSQL does not turn into a join. As a join (`IN`, or `EXISTS`) it hashed every
    published agreement to find the records': at 100,000 agreements, 33 ms rather than 12 to
    count the 4,000 public labs, 190 ms rather than 75 for the 20,000 public people.

    SQLite, the other way round, runs that subquery reading the published agreements again for
    each record: 6.9 s for 20,000 people at 3,000 agreements, against 8 ms for the join."""
    published = Agreement.objects.published()
    if connection.vendor != "postgresql":
        return link.objects.filter(agreement__in=published).values(field)
    first = link.objects.filter(**{field: OuterRef("pk")}, agreement__in=published)
    # Unordered: a link's own ordering (a participation's position) would sort all of a
    # record's rows to take one, and cost ten times more.
    records = records.alias(first=Subquery(first.values("agreement").order_by()[:1]))
    return records.filter(first__isnull=False).values("pk")


def public_participations():
    """Participations in published agreements: a person is public through these only."""
    return Participation.objects.filter(agreement__in=Agreement.objects.published())


class InstitutionTree:
    """Every institution's parent, read in one query (or given as (id, parent id) pairs), so
    that nesting of any depth is walked in Python rather than with a query per level."""

    def __init__(self, pairs=None):
        if pairs is None:
            pairs = Institution.objects.order_by().values_list("pk", "parent_id")
        self.parent = dict(pairs)
        self.children = defaultdict(list)
        for pk, parent_id in self.parent.items():
            if parent_id is not None:
                self.children[parent_id].append(pk)

    @classmethod
    def below(cls, *pks):
        """The tree of some institutions and everything below them, read in one (recursive)
        query rather than with every institution of the registry."""
        return cls._reached(pks, "i.parent_id = r.id")

    @classmethod
    def above(cls, *pks):
        """Some institutions and every institution above them, in one (recursive) query."""
        return cls._reached(pks, "i.id = r.parent_id")

    @classmethod
    def _reached(cls, pks, join):
        table = connection.ops.quote_name(Institution._meta.db_table)
        marks = ", ".join(["%s"] * len(pks))
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH RECURSIVE reached (id, parent_id) AS ("  # noqa: S608 - a table name
                f"SELECT id, parent_id FROM {table} WHERE id IN ({marks}) "
                f"UNION SELECT i.id, i.parent_id FROM {table} i JOIN reached r ON {join}"
                ") SELECT id, parent_id FROM reached",
                pks,
            )
            return cls(cursor.fetchall())

    def with_ancestors(self, pk):
        seen = []
        while pk is not None and pk not in seen:
            seen.append(pk)
            pk = self.parent.get(pk)
        return seen

    def with_descendants(self, pk):
        found, stack = {pk}, [pk]
        while stack:
            for child in self.children[stack.pop()]:
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


def agreement_counts(agreements=None):
    """{institution id: number of agreements} for every institution party to any of the
    published `agreements` (default: all published ones), as a party or as the unit that
    signed, counting the agreements of its units as its own (an agreement signed by China
    Telecom Tianjin Branch is one of China Telecom's), each agreement once.

    One query on the search's links, which hold each party and unit with its ancestors
    (agreements/search_index.py); all published agreements are counted already on
    PostgreSQL."""
    return {int(value): n for value, n in link_counts(agreements, INSTITUTION).items()}


def searchable_institutions():
    """The institutions a search may be narrowed to: those of published agreements, as party,
    signing unit or an ancestor of one. Any other, one known only from drafts say, is to the
    public as unknown as a misspelt key: never named, nor confirmed to exist."""
    links = SearchLink.objects.filter(facet=INSTITUTION, value=Cast(OuterRef("pk"), CharField()))
    return Institution.objects.filter(Exists(links))


def public_institution_ids(counts, within=None):
    """The ids of the institutions with a public page (institution_detail), given their
    `agreement_counts()`: those counted; those someone acted for in a published agreement,
    or hosting a public lab (a government that witnessed, say); and every institution above
    one of those, whose page lists its units' people and labs. `within`: the InstitutionTree
    to look in (one institution's, from `below`) rather than the whole registry's."""
    acted = Participation.objects.filter(
        organisation=OuterRef("pk"), agreement__in=Agreement.objects.published()
    )
    hosts = Institution._meta.get_field("labs").through
    hosted = hosts.objects.filter(institution=OuterRef("pk"), lab__in=public_lab_ids())
    candidates = Institution.objects.all()
    if within is not None:
        candidates = candidates.filter(pk__in=list(within.parent))
    others = candidates.filter(Exists(acted) | Exists(hosted)).values_list("pk", flat=True)
    found = set(counts)
    if others := set(others) - found:
        tree = within or InstitutionTree()
        found |= {up for pk in others for up in tree.with_ancestors(pk)}
    return found


def searchable_focus_areas():
    """The technologies a search may be narrowed to: those that have a page, of published
    agreements or public labs (focus_area_detail). Any other is as unknown as a misspelt key."""
    links = SearchLink.objects.filter(facet=FOCUS_AREA, value=Cast(OuterRef("pk"), CharField()))
    in_labs = FocusArea.labs.through.objects.filter(
        focusarea=OuterRef("pk"), lab__agreements__in=Agreement.objects.published()
    )
    return FocusArea.objects.filter(Exists(links) | Exists(in_labs))


def link_counts(agreements, facet):
    """{value: published agreements} of one facet of the search's links over `agreements`
    (None: every published one). One query."""
    if agreements is None:
        if totals_kept():
            totals = SearchTotal.objects.filter(scope=0, facet=facet, n__gt=0)
            return dict(totals.values_list("value", "n"))
        agreements = Agreement.objects.published()
    rows = (
        SearchLink.objects.filter(facet=facet, agreement_id__in=agreements.order_by().values("pk"))
        .values_list("value")
        .annotate(n=Count("*"))
        .order_by()
    )
    return dict(rows)


def focus_area_counts(*, with_labs=True):
    """The focus areas of published agreements or public labs, each with `agreement_count`
    and `lab_count` attached, in name order. Three queries; `with_labs=False`: those of
    published agreements, with their `agreement_count` only, in two (counting each area's
    public labs is most of the home page's SQL)."""
    agreements = {int(pk): n for pk, n in link_counts(None, FOCUS_AREA).items()}
    labs = {}
    if with_labs:
        labs = _counts(FocusArea.objects.filter(labs__in=public_lab_ids()), "pk", counted="labs")
    areas = list(FocusArea.objects.filter(pk__in={*agreements, *labs}).select_related("group"))
    for area in areas:
        area.agreement_count = agreements.get(area.pk, 0)
        if with_labs:
            area.lab_count = labs.get(area.pk, 0)
    return areas


def _counts(queryset, key, counted="pk"):
    rows = queryset.values(key).annotate(n=Count(counted, distinct=True)).order_by()
    return {row[key]: row["n"] for row in rows}


def institution_counts(institution_id, facets):
    """{facet: {value: agreements}} of the search's links over the published agreements of an
    institution and its units (kept ready on PostgreSQL). One query."""
    if totals_kept():
        totals = SearchTotal.objects.filter(scope=institution_id, facet__in=facets, n__gt=0)
        return by_facet(totals.values_list("facet", "value", "n"), facets)
    return facet_counts(linked_to(institution_id), facets)


def focus_area_link_counts(area_id, facets):
    """{facet: {value: agreements}} of the search's links over the published agreements of a
    focus area. One query."""
    with_area = SearchLink.objects.filter(facet=FOCUS_AREA, value=str(area_id))
    return facet_counts(with_area.values("agreement_id"), facets)


def facet_counts(agreement_ids, facets):
    """{facet: {value: agreements}} of the links of `agreement_ids` (a subquery)."""
    rows = SearchLink.objects.filter(facet__in=facets, agreement_id__in=agreement_ids)
    return by_facet(rows.values_list("facet", "value").annotate(n=Count("*")).order_by(), facets)


def by_facet(rows, facets):
    counts = {facet: {} for facet in facets}
    for facet, value, n in rows:
        counts[facet][value] = n
    return counts


def linked_to(institution_id):
    """A subquery of the ids of the published agreements of an institution and its units."""
    links = SearchLink.objects.filter(facet=INSTITUTION, value=str(institution_id))
    return links.values("agreement_id")


def with_agreements(institution_ids):
    """Those of `institution_ids` that, or whose units, are party to a published agreement."""
    values = [str(pk) for pk in institution_ids]
    if totals_kept():
        found = SearchTotal.objects.filter(scope=0, facet=INSTITUTION, value__in=values, n__gt=0)
    else:
        found = SearchLink.objects.filter(facet=INSTITUTION, value__in=values).distinct()
    return {int(value) for value in found.values_list("value", flat=True)}
