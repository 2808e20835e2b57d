"""The numbers behind the charts, their layout, and the SVG components that draw them."""

import datetime
import math
import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from agreements.charts import (
    LEVEL_LABELS_UP_TO,
    Network,
    NetworkNode,
    bar_chart_layout,
    count_per_year,
    network_label,
    network_layout,
    partnership_network,
    text_width,
)
from agreements.models import Agreement
from registry.models import Institution
from tests.factories import AgreementFactory, InstitutionFactory, PartyFactory

pytestmark = pytest.mark.django_db


def agreement(year=None, *parties, status="published"):
    dated = {"signed_on": datetime.date(year, 6, 1), "signed_on_precision": "month"} if year else {}
    made = AgreementFactory(status=status, **dated)
    for institution in parties:
        PartyFactory(agreement=made, institution=institution)
    return made


@pytest.fixture
def three():
    return [InstitutionFactory(name=name) for name in ("Alpha", "Beta", "Gamma")]


def test_count_per_year_fills_the_gaps_with_zeros_and_leaves_out_undated():
    agreement(2016), agreement(2016), agreement(2019), agreement(None)
    assert count_per_year(Agreement.objects.all(), "signed_on") == [
        (2016, 2), (2017, 0), (2018, 0), (2019, 1)
    ]  # fmt: skip


def test_count_per_year_counts_only_the_agreements_it_is_given():
    agreement(2016), agreement(2017, status="draft")
    assert count_per_year(Agreement.objects.published(), "signed_on") == [(2016, 1)]
    assert count_per_year(Agreement.objects.none(), "signed_on") == []


def test_count_per_year_counts_each_agreement_once_in_a_joined_queryset(three):
    alpha, beta, _ = three
    agreement(2020, alpha, beta)
    joined = Agreement.objects.filter(parties__institution__in=[alpha, beta])
    assert joined.count() == 2  # one row per matching party
    assert count_per_year(joined, "signed_on") == [(2020, 1)]
    assert count_per_year(joined.distinct()[:5], "signed_on") == [(2020, 1)]


def test_count_per_year_runs_one_query():
    for year in range(2000, 2020):
        agreement(year)
    with CaptureQueriesContext(connection) as queries:
        count_per_year(Agreement.objects.published(), "signed_on")
    assert len(queries) == 1


def test_partnership_network_counts_agreements_and_the_pairs_that_share_them(three):
    alpha, beta, gamma = three
    agreement(2019, alpha, beta)
    agreement(2020, alpha, beta, gamma)
    agreement(2021, alpha)
    agreement(2021, gamma, beta, status="draft")
    network = partnership_network(Agreement.objects.published())
    assert [(n.institution.name, n.agreements) for n in network.nodes] == [
        ("Alpha", 3), ("Beta", 2), ("Gamma", 1)
    ]  # fmt: skip
    assert [(e.source.name, e.target.name, e.agreements) for e in network.edges] == [
        ("Alpha", "Beta", 2), ("Alpha", "Gamma", 1), ("Beta", "Gamma", 1)
    ]  # fmt: skip


def test_partnership_network_keeps_the_most_active_institutions_and_their_edges(three):
    alpha, beta, gamma = three
    agreement(2019, alpha, beta)
    agreement(2020, alpha, beta)
    agreement(2021, alpha, gamma)
    network = partnership_network(Agreement.objects.all(), limit=2)
    assert [n.institution for n in network.nodes] == [alpha, beta]
    assert [(e.source, e.target) for e in network.edges] == [(alpha, beta)]


def test_partnership_network_runs_two_queries_whatever_its_size():
    institutions = [InstitutionFactory() for _ in range(12)]
    for index in range(15):
        agreement(2000 + index, *institutions[index % 6 : index % 6 + 5])
    with CaptureQueriesContext(connection) as queries:
        network = partnership_network(Agreement.objects.all())
        [node.institution.name for node in network.nodes]
    assert len(queries) == 2
    assert len(network.nodes) == 10


def test_network_layout_puts_the_centre_in_the_middle_and_the_rest_on_a_circle(three):
    alpha, beta, gamma = three
    agreement(2019, alpha, beta)
    agreement(2020, alpha, gamma)
    network = partnership_network(Agreement.objects.all())
    layout = network_layout(network, centre=alpha, size=640)
    centre, *ring = layout.nodes
    assert (centre.x, centre.y, centre.is_centre) == (320, 320, True)
    # Room for the largest node, a gap and the longest label ("Gamma") between ring and edge.
    radius = 320 - (14 + 6 + text_width("Gamma", 12))
    for node in ring:
        assert math.isclose(math.hypot(node.x - 320, node.y - 320), radius, abs_tol=0.2)
    assert (ring[0].x, ring[0].y) == (320, round(320 - radius, 1))  # the first from the top
    # A small ring's labels are level: above the top node, below the bottom one.
    assert (ring[0].label_anchor, ring[0].label_rotation) == ("middle", 0)
    assert ring[0].label_y < ring[0].y - ring[0].r and ring[1].label_y > ring[1].y + ring[1].r
    assert layout == network_layout(network, centre=alpha, size=640)  # deterministic
    assert [(e.x1, e.y1) for e in layout.edges] == [(320, 320), (320, 320)]


def label_box(node):
    """(left, top, right, bottom) of a ring node's label: level, or turned along its radius."""
    length = text_width(node.label, 12)
    x, y = node.label_x, node.label_y
    if node.label_rotation == 0:
        left = {"start": x, "middle": x - length / 2, "end": x - length}[node.label_anchor]
        return left, y - 12, left + length, y + 4
    angle = math.atan2(node.y - 320, node.x - 320)
    end_x, end_y = x + length * math.cos(angle), y + length * math.sin(angle)
    return min(x, end_x), min(y, end_y), max(x, end_x), max(y, end_y)


def test_network_layout_leaves_room_for_its_longest_label_and_no_more():
    long = InstitutionFactory(name="The Very Long Name of an Institute")  # 22 characters shown
    # A full ring of acronyms (labels turned along their radius), and a small one of names
    # (labels level).
    short = [InstitutionFactory(name=f"Partner {n}", acronym=f"P{n}") for n in range(14)]
    for partner in short:
        agreement(2019, long, partner)
    acronyms = network_layout(partnership_network(Agreement.objects.all()), centre=long)
    agreement(2020, short[0], long, InstitutionFactory(name="Another Long-Named University"))
    names = network_layout(partnership_network(Agreement.objects.all()), centre=short[0])
    # A ring of acronyms is wide; of long names, as wide as leaves their labels inside.
    assert max(node.y for node in acronyms.nodes) - min(node.y for node in acronyms.nodes) > 500
    for layout in (acronyms, names):
        for node in layout.nodes:
            if not node.is_centre:
                left, top, right, bottom = label_box(node)
                assert left >= -0.5 and right <= 640.5, node
                assert layout.top - 0.5 <= top and bottom <= layout.top + layout.height + 0.5, node


def test_network_layout_is_cut_to_its_nodes_and_labels(three):
    alpha, beta, gamma = three
    agreement(2019, alpha, beta)
    one_partner = network_layout(partnership_network(Agreement.objects.all()), centre=alpha)
    centre = next(node for node in one_partner.nodes if node.is_centre)
    partner = next(node for node in one_partner.nodes if not node.is_centre)
    # The partner above the centre, nothing below the centre's label: no empty lower half.
    bottom = one_partner.top + one_partner.height
    assert centre.label_y < bottom < one_partner.size * 0.6
    # Nor above the partner's label.
    assert one_partner.top - 0.5 <= label_box(partner)[1] < one_partner.top + 12
    agreement(2020, alpha, gamma)
    two_partners = network_layout(partnership_network(Agreement.objects.all()), centre=alpha)
    below = max(two_partners.nodes, key=lambda node: node.y)  # its label below it
    assert label_box(below)[3] < two_partners.top + two_partners.height <= two_partners.size


def test_network_layout_turns_labels_on_the_left_so_they_read_outwards(three):
    for institution in three:
        agreement(2019, institution)
    nodes = network_layout(partnership_network(Agreement.objects.all())).nodes
    left = [node for node in nodes if node.x < 319]
    assert left and all(node.label_anchor == "end" for node in left)
    assert all(node.label_rotation == 0 for node in nodes)  # a small ring's labels are level
    for n in range(LEVEL_LABELS_UP_TO + 1 - len(three)):
        agreement(2020, InstitutionFactory(name=f"Partner {n}"))
    full = network_layout(partnership_network(Agreement.objects.all())).nodes
    assert len(full) == LEVEL_LABELS_UP_TO + 1
    # A fuller ring's labels are turned along their radius, none upside down.
    assert any(node.label_rotation for node in full)
    assert all(-90 <= node.label_rotation <= 90 for node in full)
    assert all(node.label_anchor == "end" for node in full if node.x < 319)
    assert all(node.label_anchor == "start" for node in full if node.x > 321)


def test_network_labels_are_cut_to_a_width_whatever_the_script():
    latin = Institution(name="The Very Long Name of an Institute")
    chinese = Institution(name="中国电信股份有限公司天津分公司")
    assert network_label(latin) == "The Very Long Name of…"
    # Each Chinese character as wide as two Latin letters: a name cut at 22 characters left
    # the ring a fifth of its width.
    assert network_label(chinese) == "中国电信股份有限公司天…"
    assert network_label(Institution(name=chinese.name, acronym="CTTJ")) == "CTTJ"
    nodes = [NetworkNode(institution, 1) for institution in (latin, chinese)]
    for pk, node in enumerate(nodes, 1):
        node.institution.pk = pk
    ring = network_layout(Network(nodes=nodes, edges=[])).nodes
    assert math.hypot(ring[0].x - 320, ring[0].y - 320) > 150


@pytest.mark.parametrize("ring", range(2, LEVEL_LABELS_UP_TO + 1))
def test_network_layout_level_labels_never_overlap(ring):
    names = ["Very Long Institution Name", "ECNU", "Tianjin University of Technology"]
    nodes = [
        NetworkNode(Institution(pk=n + 1, name=f"{names[n % 3]} {n}"), ring + 1 - n)
        for n in range(ring + 1)
    ]
    layout = network_layout(Network(nodes=nodes, edges=[]), centre=nodes[0].institution)
    boxes = [label_box(node) for node in layout.nodes if not node.is_centre]
    for index, (left, top, right, bottom) in enumerate(boxes):
        for other_left, other_top, other_right, other_bottom in boxes[index + 1 :]:
            apart = right <= other_left or other_right <= left
            assert apart or bottom <= other_top or other_bottom <= top, layout


def test_bar_chart_layout_makes_room_for_its_longest_label():
    years = bar_chart_layout([(2000 + n, n) for n in range(10)])
    assert years.width == 32 * 10  # a year fits a bar's step
    kinds = bar_chart_layout([("company", 3), ("research institute", 1)])
    step = kinds.bars[1].centre - kinds.bars[0].centre
    assert step >= text_width("research institute", 11) + 6 and kinds.width == 2 * step
    chinese = bar_chart_layout([("企业", 3), ("科研院所", 1)])
    assert chinese.bars[1].centre - chinese.bars[0].centre >= 4 * 11


def test_bar_chart_layout_scales_bars_to_the_highest_and_thins_labels():
    chart = bar_chart_layout([(2000 + n, n % 3) for n in range(40)], max_labels=10)
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.value == 2 and tallest.y == 18
    assert all(bar.height == 0 for bar in chart.bars if bar.value == 0)
    shown = [bar.label for bar in chart.bars if bar.show_label]
    assert len(shown) <= 10 and shown[-1] == 2039


def render(source, **context):
    return Template("{% load public_pages %}" + source).render(Context(context))


def test_bar_chart_component_draws_svg_with_a_table_of_the_same_numbers():
    html = render(
        "{% bar_chart rows 'Agreements per year' 'Agreements' '' %}",
        rows=[(2019, 2), (2020, 0), (2021, 5)],
    )
    assert (
        'role="img" aria-label="Agreements per year, 2019 to 2021; the most, 5, in 2021."' in html
    )
    assert "<table>" in html and '<td class="number">5</td>' in html
    assert 'href="/agreements/?signed_from=2021&amp;signed_to=2021"' in html
    assert ">2020</th>" in html  # a year with none has no link to an empty search
    assert "style=" not in html and "<script" not in html


def test_a_bar_chart_s_summary_spans_years_only_where_there_are_years():
    one_year = render("{% bar_chart rows 'Agreements per year' 'n' '' %}", rows=[(2020, 4)])
    assert 'aria-label="Agreements per year: 4, in 2020."' in one_year
    kinds = render(
        "{% bar_chart rows 'Agreements by kind of partner' 'n' label_heading='Kind' %}",
        rows=[("company", 7), ("university", 9)],
    )
    assert 'aria-label="Agreements by kind of partner; the most, 9: university."' in kinds


def test_bar_chart_labels_are_escaped_in_the_drawing_and_the_table():
    html = render("{% bar_chart rows 'c' 'v' %}", rows=[("R&D <labs>", 3)])
    name = "R&amp;D &lt;labs&gt;"
    assert f"<title>{name}: 3</title>" in html
    assert f'text-anchor="middle">{name}</text>' in html
    assert f'<th scope="row">{name}</th>' in html
    assert "<labs>" not in html


def test_network_component_draws_svg_with_tables_of_the_same_facts(three):
    alpha, beta, gamma = three
    agreement(2019, alpha, beta)
    agreement(2020, alpha, beta, gamma)
    html = render(
        "{% network_chart network 'Partnership network' centre=alpha %}",
        network=partnership_network(Agreement.objects.all()),
        alpha=alpha,
    )
    assert (
        'role="img" aria-label="Partnership network: 3 institutions, '
        '3 partnerships between them."' in html
    )
    assert html.count("<circle") == 3 and html.count("<line") == 3
    assert "is-centre" in html and 'href="/institutions/' in html
    assert "style=" not in html and "<script" not in html


def test_network_names_are_escaped_in_the_drawing_and_the_tables():
    odd = InstitutionFactory(name='Smith & <Sons> "Ltd"')
    other = InstitutionFactory(name="Other")
    agreement(2019, odd, other)
    html = render(
        "{% network_chart network 'Partnership network' %}",
        network=partnership_network(Agreement.objects.all()),
    )
    escaped = "Smith &amp; &lt;Sons&gt; &quot;Ltd&quot;"
    assert f"<title>{escaped} – Other: 1</title>" in html or (
        f"<title>Other – {escaped}: 1</title>" in html
    )
    assert f">{escaped}</a></td>" in html
    assert "<Sons>" not in html


def test_svg_numbers_are_not_localised(three):
    agreement(2019, *three)
    with translation.override("de"):
        html = render(
            "{% bar_chart rows 'c' 'v' %}{% network_chart network 'n' %}",
            rows=[(2019, 1), (2020, 3)],
            network=partnership_network(Agreement.objects.all()),
        )
    svg = "".join(re.findall(r"<svg.*?</svg>", html, flags=re.S))
    assert not re.search(r'"-?\d+,\d+"', svg)
