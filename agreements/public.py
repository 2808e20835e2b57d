"""What the public may see besides agreements. An institution, person, focus area or lab is
public only through a published agreement; every function here starts from
`Agreement.objects.published()`, so a record that appears only in drafts stays out of sight."""

from collections import defaultdict

from django.db import connections
from django.db.models import Count

from agreements.models import Agreement, Participation, Party
from registry.models import FocusArea, Institution


def public_lab_ids():
    """A subquery of the ids of labs linked to at least one published agreement. Labs live in
    a later app; this module reaches them through the `labs` relation, without importing it."""
    return Agreement.objects.published().filter(labs__isnull=False).values("labs")


def public_participations():
    """Participations in published agreements: a person is public through these only."""
    return Participation.objects.filter(agreement__in=Agreement.objects.published())


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


def agreement_counts(agreements=None):
    """{institution id: number of agreements} for every institution party to any of
    `agreements` (default: the published ones), as a party or as the unit that signed,
    counting the agreements of its units as its own (an agreement signed by China Telecom
    Tianjin Branch is one of China Telecom's), each agreement once.

    Counted by the database in one query: a recursive walk up the nesting gives each party
    institution and unit with all its ancestors, so no party row is read into Python."""
    if agreements is None:
        agreements = Agreement.objects.published()
    connection = connections[agreements.db]
    subquery, params = (
        agreements.order_by().values("pk").query.get_compiler(connection=connection).as_sql()
    )
    institution = connection.ops.quote_name(Institution._meta.db_table)
    party = connection.ops.quote_name(Party._meta.db_table)
    # UNION (not UNION ALL) in the walk: a cycle of parents, which the admin refuses but the
    # database does not, ends instead of recursing for ever.
    sql = f"""
        WITH RECURSIVE reach (node, ancestor) AS (
            SELECT id, id FROM {institution}
            UNION
            SELECT reach.node, up.parent_id FROM reach
            JOIN {institution} up ON up.id = reach.ancestor
            WHERE up.parent_id IS NOT NULL
        ), party_node (agreement, node) AS (
            SELECT agreement_id, institution_id FROM {party} WHERE agreement_id IN ({subquery})
            UNION
            SELECT agreement_id, unit_id FROM {party}
            WHERE unit_id IS NOT NULL AND agreement_id IN ({subquery})
        )
        SELECT reach.ancestor, COUNT(DISTINCT party_node.agreement)
        FROM party_node JOIN reach ON reach.node = party_node.node
        GROUP BY reach.ancestor
    """  # noqa: S608 - only table names and the ORM's own SQL are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *params))
        return dict(cursor.fetchall())


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
