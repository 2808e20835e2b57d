"""What the public may see besides agreements. An institution, person, focus area or lab is
public only through a published agreement; every function here starts from
`Agreement.objects.published()`, so a record that appears only in drafts stays out of sight."""

from collections import defaultdict

from django.db.models import Count

from agreements.models import Agreement, Party
from registry.models import FocusArea, Institution


def public_lab_ids():
    """A subquery of the ids of labs linked to at least one published agreement. Labs live in
    a later app; this module reaches them through the `labs` relation, without importing it."""
    return Agreement.objects.published().filter(labs__isnull=False).values("labs")


class InstitutionTree:
    """Every institution's parent, read in one query (or given as (id, parent id) pairs), so
    that nesting of any depth is walked in Python rather than with a query per level."""

    def __init__(self, pairs=None):
        if pairs is None:
            pairs = Institution.objects.values_list("pk", "parent_id")
        self.parent = dict(pairs)
        self.children = defaultdict(list)
        for pk, parent_id in self.parent.items():
            if parent_id is not None:
                self.children[parent_id].append(pk)

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


def agreement_counts(tree=None):
    """{institution id: number of published agreements} for every institution with any, as a
    party or as the unit that signed, counting the agreements of its units as its own (an
    agreement signed by China Telecom Tianjin Branch is one of China Telecom's), each agreement
    once. One query, and one more to read the tree unless it is given."""
    tree = tree or InstitutionTree()
    agreements = defaultdict(set)
    parties = Party.objects.filter(agreement__in=Agreement.objects.published()).values_list(
        "agreement_id", "institution_id", "unit_id"
    )
    for agreement_id, institution_id, unit_id in parties:
        for pk in {*tree.with_ancestors(institution_id), *tree.with_ancestors(unit_id)}:
            agreements[pk].add(agreement_id)
    return {pk: len(ids) for pk, ids in agreements.items()}


def focus_area_counts():
    """The focus areas of published agreements or public labs, each with `agreement_count`
    and `lab_count` attached, in name order. Three queries."""
    agreements = _counts(
        Agreement.objects.published().filter(focus_areas__isnull=False), "focus_areas"
    )
    labs = _counts(FocusArea.objects.filter(labs__in=public_lab_ids()), "pk", counted="labs")
    areas = list(FocusArea.objects.filter(pk__in={*agreements, *labs}).select_related("group"))
    for area in areas:
        area.agreement_count = agreements.get(area.pk, 0)
        area.lab_count = labs.get(area.pk, 0)
    return areas


def _counts(queryset, key, counted="pk"):
    rows = queryset.values(key).annotate(n=Count(counted, distinct=True)).order_by()
    return {row[key]: row["n"] for row in rows}
