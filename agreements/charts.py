"""The numbers behind the pictures, and where to draw them.

The data functions take any queryset of agreements (pass a published one: they do not filter)
and run a fixed number of queries whatever its size. The layout functions are pure Python and
give the coordinates that templates/components/bar_chart.html and network.html draw as inline
SVG, so that a chart needs no JavaScript.
"""

import heapq
import math
from dataclasses import dataclass
from unicodedata import east_asian_width

from django.db.models import Count, F
from django.db.models.functions import ExtractYear

from agreements.models import Party
from agreements.search_index import party_pairs
from registry.models import Institution


def nth_largest(values, n):
    """The n-th largest of `values`, 0 when there are fewer: what a count must reach to be
    among the first n shown, found without sorting thousands of counts."""
    top = heapq.nlargest(n, values)
    return top[-1] if len(top) == n else 0


def count_per_year(queryset, date_field):
    """[(year, count), ...] for every year from the first to the last date in `date_field`,
    zeros included, so that gaps show; rows without a date are left out. One query."""
    rows = (
        queryset.model._default_manager.filter(pk__in=queryset.values("pk"))
        .filter(**{f"{date_field}__isnull": False})
        .annotate(year=ExtractYear(date_field))
        .values("year")
        .annotate(count=Count("pk"))
        .order_by("year")
    )
    return fill_years({row["year"]: row["count"] for row in rows})


def fill_years(counts):
    """[(year, count), ...] from {year: count}, every year from the first to the last. The
    years may be text, as the search's links hold them."""
    counts = {int(year): n for year, n in counts.items()}
    if not counts:
        return []
    return [(year, counts.get(year, 0)) for year in range(min(counts), max(counts) + 1)]


@dataclass(frozen=True)
class NetworkNode:
    institution: Institution
    agreements: int


@dataclass(frozen=True)
class NetworkEdge:
    source: Institution
    target: Institution
    agreements: int


@dataclass(frozen=True)
class Network:
    nodes: list  # NetworkNode, most agreements first
    edges: list  # NetworkEdge between two nodes, most shared agreements first


def partnership_network(agreements, *, limit=30, party_counts=None, linked=None, scope=None):
    """Who signs with whom among `agreements`: the `limit` institutions that are party to the
    most of them (nodes, each with its number of agreements) and, for every two of those that
    are parties to the same agreements, an edge with the number they share. Institutions are
    the parties themselves, not the signing units. Two queries, counted by the database (an
    institution is a party to an agreement once), so no party row is read into Python.
    `party_counts` ({institution id: agreements}, as the search's links count them) saves
    counting the nodes again; then the edges are counted on the links too, among `linked`
    (a queryset of the agreements' ids, or None when `agreements` are all published ones),
    read from the totals when `scope` names them (search_index.party_pairs)."""
    agreement_ids = agreements.order_by().values("pk")
    if party_counts is None:
        top = (
            Institution.objects.filter(parties__agreement__in=agreement_ids)
            .annotate(n=Count("parties"))
            .order_by("-n", "pk")[:limit]
        )
        institutions = {institution.pk: institution for institution in top}
        node_counts = {pk: institution.n for pk, institution in institutions.items()}
    else:
        least = nth_largest(party_counts.values(), limit)
        ranked = sorted(
            ((pk, n) for pk, n in party_counts.items() if n >= least),
            key=lambda item: (-item[1], item[0]),
        )[:limit]
        node_counts = dict(ranked)
        institutions = Institution.objects.in_bulk(node_counts) if node_counts else {}
    kept = list(institutions)
    if party_counts is not None:
        edge_counts = party_pairs(kept, linked, scope=scope)
    else:
        pairs = (
            Party.objects.filter(
                agreement__in=agreement_ids,
                institution__in=kept,
                agreement__parties__institution__in=kept,
                institution__lt=F("agreement__parties__institution"),
            )
            .values_list("institution", "agreement__parties__institution")
            .annotate(n=Count("*"))
            .order_by()
            if kept
            else []
        )
        edge_counts = {(a, b): n for a, b, n in pairs}
    nodes = sorted(
        (NetworkNode(institutions[pk], node_counts[pk]) for pk in kept),
        key=lambda node: (-node.agreements, node.institution.name, node.institution.pk),
    )
    edges = sorted(
        (
            NetworkEdge(institutions[a], institutions[b], count)
            for (a, b), count in edge_counts.items()
            if a in institutions and b in institutions
        ),
        key=lambda edge: (-edge.agreements, edge.source.name, edge.target.name),
    )
    return Network(nodes=nodes, edges=edges)


@dataclass(frozen=True)
class Bar:
    label: object
    value: int
    x: float
    y: float
    width: float
    height: float
    centre: float
    value_y: float
    show_label: bool


@dataclass(frozen=True)
class BarChart:
    bars: list
    width: int
    height: int
    baseline: float
    label_y: float
    maximum: int


def text_width(text, size):
    """About how wide `text` is drawn in `size` px type: a Latin letter some 0.55 em, a wide
    (Chinese) character 1 em."""
    return size * sum(1 if east_asian_width(c) in "WF" else 0.55 for c in str(text))


def bar_chart_layout(rows, *, bar_step=32, min_width=160, height=200, max_labels=24):
    """Vertical bars for [(label, value), ...], `bar_step` apart (so that text keeps its size
    wherever the drawing is not scaled down), with room above each bar for its value and
    below for its label; when there are more than `max_labels` bars only every n-th label is
    shown (the table beside the chart has them all)."""
    top, bottom = 18, 24
    # Each bar as wide as its label in the stylesheet's 11px, and a gap: the names of kinds of
    # partner ran into each other at a year's width.
    widest = max((text_width(label, 11) for label, _ in rows), default=0)
    bar_step = max(bar_step, math.ceil(widest + 6))
    width = max(min_width, bar_step * len(rows))
    baseline = height - bottom
    maximum = max((value for _, value in rows), default=0)
    step = width / len(rows) if rows else width
    every = math.ceil(len(rows) / max_labels) if rows else 1
    bars = []
    bar_width = min(step * 0.7, bar_step * 0.7)
    for index, (label, value) in enumerate(rows):
        bar_height = (baseline - top) * value / maximum if maximum else 0
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(index * step + (step - bar_width) / 2, 1),
                y=round(baseline - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                centre=round(index * step + step / 2, 1),
                value_y=round(baseline - bar_height - 4, 1),
                show_label=(len(rows) - 1 - index) % every == 0,
            )
        )
    return BarChart(
        bars=bars,
        width=width,
        height=height,
        baseline=baseline,
        label_y=baseline + 16,
        maximum=maximum,
    )


def level_label(x, y, node_radius, angle):
    """(x, y, anchor) of a level label for a ring node at (x, y): above the node at the top of
    the ring, below one at its bottom, beside the others, away from the middle (12 px text, its
    baseline at y). Centred under a node beside the bottom one, a long label would run into
    its neighbour's."""
    if abs(math.cos(angle)) < 0.05:  # straight above or below the middle
        below = math.sin(angle) > 0
        return x, y + node_radius + 14 if below else y - node_radius - 6, "middle"
    if math.cos(angle) > 0:
        return x + node_radius + 6, y + 4, "start"
    return x - node_radius - 6, y + 4, "end"


@dataclass(frozen=True)
class PlacedNode:
    institution: Institution
    agreements: int
    x: float
    y: float
    r: float
    label: str
    label_x: float
    label_y: float
    label_rotation: float
    label_anchor: str
    is_centre: bool


@dataclass(frozen=True)
class PlacedEdge:
    source: Institution
    target: Institution
    agreements: int
    x1: float
    y1: float
    x2: float
    y2: float
    width: float


@dataclass(frozen=True)
class NetworkLayout:
    nodes: list
    edges: list
    size: int  # the drawing's width
    top: int  # the drawing's part of the square: from above its highest node or label
    height: int  # to below its lowest


# The widest a network's label is drawn: 22 Latin letters, 12 Chinese characters. The ring's
# size is what the longest label leaves of the square.
LABEL_WIDTH = text_width("x" * 22, 12)


def network_label(institution):
    """Its acronym, or its name cut to LABEL_WIDTH."""
    name = institution.acronym or institution.name
    if text_width(name, 12) <= LABEL_WIDTH:
        return name
    while text_width(name + "…", 12) > LABEL_WIDTH:
        name = name[:-1]
    return name.rstrip() + "…"


# Up to this many nodes on the ring, labels are written level, which reads best; a fuller ring
# (the network has up to 30) turns them along their radius, lest neighbours' labels overlap.
LEVEL_LABELS_UP_TO = 12


def network_layout(network, *, centre=None, size=640):
    """A deterministic circular layout of a `Network`: the `centre` institution (if it is a
    node) in the middle, the other nodes on a circle in their order (most agreements first)
    clockwise from the top, labels outside the ring (level on a small ring, turned along their
    radius on a full one). Node areas grow with agreements, edge widths with shared
    agreements."""
    middle = size / 2
    is_centre = [centre is not None and node.institution.pk == centre.pk for node in network.nodes]
    labels = [network_label(node.institution) for node in network.nodes]
    ring_labels = [
        label for label, in_middle in zip(labels, is_centre, strict=True) if not in_middle
    ]
    # Between the ring and the square's edge: the largest node (14), a gap (6) and the longest
    # label, so that no label runs past the edge and short ones (acronyms) leave a wide ring.
    radius = size / 2 - (14 + 6 + max((text_width(label, 12) for label in ring_labels), default=0))
    most = max((node.agreements for node in network.nodes), default=1)
    ring_size = len(network.nodes) - sum(is_centre)
    level = ring_size <= LEVEL_LABELS_UP_TO
    positions, placed, ring_index = {}, [], 0
    # The drawing is cut to its nodes and labels (and half a line): a centre with one partner
    # above it, as on most institutions' pages, left half of the square empty.
    highest, lowest = size, 0
    for node, label, in_middle in zip(network.nodes, labels, is_centre, strict=True):
        node_radius = round(4 + 10 * math.sqrt(node.agreements / most), 1)
        if in_middle:
            x = y = middle
            label_x, label_y, rotation, anchor = middle, middle + node_radius + 14, 0, "middle"
            highest, lowest = min(highest, y - node_radius - 6), max(lowest, label_y + 6)
        else:
            angle = 2 * math.pi * ring_index / ring_size - math.pi / 2
            ring_index += 1
            x, y = middle + radius * math.cos(angle), middle + radius * math.sin(angle)
            if level:
                label_x, label_y, anchor = level_label(x, y, node_radius, angle)
                rotation, label_top, label_bottom = 0, label_y - 12, label_y + 4
            else:
                distance = radius + node_radius + 6
                label_x = middle + distance * math.cos(angle)
                label_y = middle + distance * math.sin(angle)
                label_top = label_bottom = label_y + text_width(label, 12) * math.sin(angle)
                # Text on the left half would read upside down: turn it half a circle.
                if math.cos(angle) < -1e-9:
                    rotation, anchor = math.degrees(angle) - 180, "end"
                else:
                    rotation, anchor = math.degrees(angle), "start"
            highest = min(highest, y - node_radius - 6, label_top - 6)
            lowest = max(lowest, y + node_radius + 6, label_bottom + 6)
        positions[node.institution.pk] = (x, y)
        placed.append(
            PlacedNode(
                institution=node.institution,
                agreements=node.agreements,
                x=round(x, 1),
                y=round(y, 1),
                r=node_radius,
                label=label,
                label_x=round(label_x, 1),
                label_y=round(label_y, 1),
                label_rotation=round(rotation, 1),
                label_anchor=anchor,
                is_centre=in_middle,
            )
        )
    strongest = max((edge.agreements for edge in network.edges), default=1)
    edges = []
    for edge in network.edges:
        (x1, y1), (x2, y2) = positions[edge.source.pk], positions[edge.target.pk]
        edges.append(
            PlacedEdge(
                source=edge.source,
                target=edge.target,
                agreements=edge.agreements,
                x1=round(x1, 1),
                y1=round(y1, 1),
                x2=round(x2, 1),
                y2=round(y2, 1),
                width=round(1 + 4 * edge.agreements / strongest, 1),
            )
        )
    top = max(math.floor(highest), 0)
    return NetworkLayout(
        nodes=placed, edges=edges, size=size, top=top, height=math.ceil(min(lowest, size)) - top
    )
