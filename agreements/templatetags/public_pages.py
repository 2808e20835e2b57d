"""Tags of the public pages: names in every script they are known in, and the charts of
agreements/charts.py drawn by the components in templates/components/."""

import re
from functools import cache

from django import template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements.charts import bar_chart_layout, network_layout

register = template.Library()


# The language of a native-script name, by its script, for the `lang` that has a screen
# reader read 天津大学 in Chinese rather than spell it out with an English voice. Kana makes
# Japanese, Hangul Korean, and Han characters alone Chinese.
SCRIPTS = [
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
]


@register.filter
def native(name):
    """A native-script name in its span, with its language where its script tells it."""
    language = next((code for code, script in SCRIPTS if script.search(name)), None)
    if language:
        return format_html('<span class="native" lang="{}">{}</span>', language, name)
    return format_html('<span class="native">{}</span>', name)


@register.filter
def institution_name(institution):
    """East China Normal University 华东师范大学 (ECNU)."""
    html = format_html("{}", institution.name)
    if institution.native_name and institution.native_name != institution.name:
        html = format_html("{} {}", html, native(institution.native_name))
    if institution.acronym and institution.acronym != institution.name:
        html = format_html("{} ({})", html, institution.acronym)
    return html


@register.filter
def person_name(person):
    """Sun Zhenrong 孙真荣."""
    if person.native_name and person.native_name != person.name:
        return format_html("{} {}", person.name, native(person.native_name))
    return person.name


@register.filter
def display(record, field_name):
    """What `record.get_<field_name>_display()` shows, from the field's labels read once:
    Django makes the choices again on every call (25 µs; some 350 calls on a large company's
    page). The labels stay lazy, so each is translated as it is shown."""
    field = record._meta.get_field(field_name)
    value = getattr(record, field.attname)
    return choice_labels(field).get(value, value)


@cache
def choice_labels(field):
    return dict(field.flatchoices)


@register.inclusion_tag("components/bar_chart.html")
def bar_chart(rows, caption, value_label, search_query=None, label_heading=None):
    """`rows` as from count_per_year: [(year, count), ...]. Given a `search_query` (a
    URL-encoded query string such as "institution=ecnu", or "" for all agreements), each year
    in the table of numbers links to the search for the agreements signed that year. The
    table's column of labels is headed `label_heading`, by default "Year"."""
    chart = bar_chart_layout(rows)
    summary = ""
    if rows:
        peak_label, peak = max(rows, key=lambda row: row[1])
        values = {"caption": caption, "peak": peak, "peak_label": peak_label}
        if label_heading:  # kinds, not years: no span to tell
            summary = _("%(caption)s; the most, %(peak)s: %(peak_label)s.") % values
        elif len(rows) == 1:
            summary = _("%(caption)s: %(peak)s, in %(peak_label)s.") % values
        else:
            summary = _(
                "%(caption)s, %(first)s to %(last)s; the most, %(peak)s, in %(peak_label)s."
            ) % {**values, "first": rows[0][0], "last": rows[-1][0]}
    return {
        "chart": chart,
        "caption": caption,
        "value_label": value_label,
        "label_heading": label_heading or _("Year"),
        "summary": summary,
        "bar_shapes": bar_shapes(chart),
        "bar_rows": bar_rows(chart, search_query),
    }


# A chart's bars, a year each on the search and institution pages, are written here rather
# than by the template, as the network's edges are: the template's loop resolved some twenty
# variables a bar, 5 to 9 ms of a search page (1 ms here). Coordinates and counts are numbers,
# which need no escaping; labels (years, or the names of kinds) are escaped.


def bar_shapes(chart):
    """The bars of the SVG, their values above them and their labels below, not localised."""
    shapes = []
    for bar in chart.bars:
        label = escape(bar.label)
        shapes.append(
            f'<rect class="chart-bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
            f'height="{bar.height}"><title>{label}: {bar.value}</title></rect>'
        )
        if bar.value:
            shapes.append(
                f'<text class="chart-value" x="{bar.centre}" y="{bar.value_y}" '
                f'text-anchor="middle">{bar.value}</text>'
            )
        if bar.show_label:
            shapes.append(
                f'<text class="chart-label" x="{bar.centre}" y="{chart.label_y}" '
                f'text-anchor="middle">{label}</text>'
            )
    return mark_safe("\n".join(shapes))  # noqa: S308 - every text in it is escaped above


def bar_rows(chart, search_query):
    """The rows of the table of numbers; given a `search_query`, each year with agreements
    links to the search for those signed that year."""
    search = escape(reverse("agreements:search"))
    query = f"{escape(search_query)}&amp;" if search_query else ""
    rows = []
    for bar in chart.bars:
        label = escape(bar.label)
        if bar.value and search_query is not None:
            label = (
                f'<a href="{search}?{query}signed_from={label}&amp;signed_to={label}">{label}</a>'
            )
        rows.append(
            f'<tr><th scope="row">{label}</th>'
            f'<td class="number">{escape(localize(bar.value))}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every text in it is escaped above


@register.inclusion_tag("components/network.html")
def network_chart(network, caption, centre=None):
    """`network` as from partnership_network; `centre`, an institution drawn in the middle."""
    layout = network_layout(network, centre=centre)
    institutions = ngettext(
        "%(count)d institution", "%(count)d institutions", len(network.nodes)
    ) % {"count": len(network.nodes)}
    partnerships = ngettext(
        "%(count)d partnership between them",
        "%(count)d partnerships between them",
        len(network.edges),
    ) % {"count": len(network.edges)}
    summary = f"{caption}: {institutions}, {partnerships}."
    # The nodes and the edges, hundreds among 30 institutions, are written here rather than
    # by the template, and each name and address is escaped once rather than once per edge: a
    # template loop over them, then format_html per edge, took most of a search page's time.
    # Coordinates and counts are numbers, which need no escaping.
    names = {node.institution.pk: escape(node.institution.name) for node in network.nodes}
    urls = {
        node.institution.pk: escape(node.institution.get_absolute_url()) for node in network.nodes
    }
    edge_lines = mark_safe(  # noqa: S308 - every text in it is escaped above
        "\n".join(
            f'<line x1="{e.x1}" y1="{e.y1}" x2="{e.x2}" y2="{e.y2}" stroke-width="{e.width}">'
            f"<title>{names[e.source.pk]} – {names[e.target.pk]}: {e.agreements}</title></line>"
            for e in layout.edges
        )
    )
    edge_rows = mark_safe(  # noqa: S308 - every text in it is escaped above
        "\n".join(
            f'<tr><td><a href="{urls[e.source.pk]}">{names[e.source.pk]}</a></td>'
            f'<td><a href="{urls[e.target.pk]}">{names[e.target.pk]}</a></td>'
            f'<td class="number">{escape(localize(e.agreements))}</td></tr>'
            for e in network.edges
        )
    )
    node_shapes = mark_safe(  # noqa: S308 - every text in it is escaped
        "\n".join(node_shape(node, names[node.institution.pk]) for node in layout.nodes)
    )
    node_rows = mark_safe(  # noqa: S308 - every text in it is escaped above
        "\n".join(
            f'<tr><th scope="row"><a href="{urls[n.institution.pk]}">'
            f"{institution_name(n.institution)}</a></th>"
            f"<td>{escape(display(n.institution, 'kind'))}</td>"
            f'<td class="number">{escape(localize(n.agreements))}</td></tr>'
            for n in network.nodes
        )
    )
    return {
        "layout": layout,
        "network": network,
        "caption": caption,
        "summary": summary,
        "node_shapes": node_shapes,
        "node_rows": node_rows,
        "edge_lines": edge_lines,
        "edge_rows": edge_rows,
    }


def node_shape(node, name):
    """A placed node's circle and label; `name`, its institution's name, escaped."""
    centre = " is-centre" if node.is_centre else ""
    turned = (
        f' transform="rotate({node.label_rotation} {node.label_x} {node.label_y})"'
        if node.label_rotation
        else ""
    )
    return (
        f'<circle class="network-node kind-{escape(node.institution.kind)}{centre}" '
        f'cx="{node.x}" cy="{node.y}" r="{node.r}"><title>{name}: {node.agreements}</title>'
        f'</circle>\n<text class="network-label{centre}" x="{node.label_x}" y="{node.label_y}" '
        f'text-anchor="{node.label_anchor}" dominant-baseline="middle"{turned}>'
        f"{escape(node.label)}</text>"
    )
