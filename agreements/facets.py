"""Facets of a search: every value with the number of matching agreements under all the
*other* active filters, and the address that toggles it, so that every view is a link.

Counted from the search's links (agreements/search_index.py): each facet value of each
published agreement once, so a facet is a `COUNT(*) ... GROUP BY` over the links of the
agreements in question, and one query counts every facet that shares the same agreements.
On PostgreSQL the counts over all published agreements, or over one institution's, are kept
ready (SearchTotal); the unfiltered search and the search for one institution read them."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from agreements import search_index as links
from agreements.charts import fill_years, nth_largest, partnership_network
from agreements.filters import in_use
from agreements.models import AgreementType
from registry.models import FocusArea, Institution, InstitutionKind

# The institutions the facet holds at all: the most frequent, and any chosen. A search may
# name thousands; each has a page of its own, which links to its search.
INSTITUTIONS_IN_FACET = 15
# Values listed at once; a facet's others (80 technologies, 27 years) wait behind "N more".
VALUES_SHOWN = 10


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    active: bool
    url: str = ""


@dataclass
class Facet:
    name: str
    label: str
    values: list = field(default_factory=list)

    @property
    def shown(self):
        """The values listed at once: the first VALUES_SHOWN and any chosen one, or all of
        them when only one or two would be left to show."""
        if len(self.values) <= VALUES_SHOWN + 2:
            return self.values
        return [v for index, v in enumerate(self.values) if index < VALUES_SHOWN or v.active]

    @property
    def more(self):
        shown = self.shown
        return [v for v in self.values if v not in shown]


SINGLE_VALUED = {"has_lab"}


def toggle_url(query, name, value):
    """The query string with `value` added to or removed from parameter `name`."""
    return Links(query).toggle(name, value)


class Links:
    """The addresses of a search's facet values: its query string (less the page) with one
    value toggled. Built from plain lists, as QueryDict would write them: a QueryDict copy
    per value cost more than the rest of the facets."""

    def __init__(self, query):
        self.base = [(name, values) for name, values in query.lists() if name != "page"]

    def _url(self, changes):
        items = [(name, changes.pop(name, values)) for name, values in self.base]
        items += changes.items()
        return "?" + urlencode([(name, v) for name, values in items for v in values])

    def toggle(self, name, value):
        values = dict(self.base).get(name, [])
        if value in values:
            values = [v for v in values if v != value]
        else:
            values = [value] if name in SINGLE_VALUED else [*values, value]
        return self._url({name: values})

    def year(self, year):
        current = dict(self.base)
        if current.get("signed_from") == current.get("signed_to") == [str(year)]:
            return self._url({"signed_from": [], "signed_to": []})
        return self._url({"signed_from": [str(year)], "signed_to": [str(year)]})


# Each facet, the parameter that filters it, and the links that count it.
CODES = {
    "institution": links.INSTITUTION,
    "kind": links.KIND,
    "country": links.COUNTRY,
    "focus_area": links.FOCUS_AREA,
    "type": links.TYPE,
    "year": links.YEAR,
    "has_lab": links.HAS_LAB,
}
YEAR_PARAMETERS = ("signed_from", "signed_to")


def active_filters(filterset):
    """{parameter: value} of the filters in use (the sort is none)."""
    return {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if name != "sort" and in_use(value)
    }


def parameters_of(facet):
    return YEAR_PARAMETERS if facet == "year" else (facet,)


def scope_of(active, without):
    """The SearchTotal scope of the agreements selected by the `active` filters less those of
    facet `without`: 0 for all published ones, an institution's id for its agreements alone,
    None when the totals do not hold them (then links are counted)."""
    others = {name: value for name, value in active.items() if name not in parameters_of(without)}
    if not others:
        return 0
    if list(others) == ["institution"] and len(others["institution"]) == 1:
        return others["institution"][0].pk
    return None


def link_counts(filterset, active, *, without, codes):
    """{code: {value: agreements}} of the agreements the filters select, less those of facet
    `without` (None: all of them). One query."""
    counts = {code: {} for code in codes}
    scope = scope_of(active, without) if links.totals_kept() else None
    if scope is not None and not (scope and links.INSTITUTION in codes):
        rows = links.SearchTotal.objects.filter(scope=scope, facet__in=codes, n__gt=0)
        rows = rows.values_list("facet", "value", "n")
    else:
        agreements = filterset.queryset_without(without) if without else filterset.qs
        rows = (
            links.SearchLink.objects.filter(
                agreement_id__in=agreements.order_by().values("pk"), facet__in=codes
            )
            .values_list("facet", "value")
            .annotate(n=Count("*"))
            .order_by()
        )
    for code, value, n in rows:
        counts[code][value] = n
    return counts


def result_count(filterset):
    """The number of agreements the filters select, counted from the links as the facets
    are (each published agreement has one type): ready-made for all published agreements or
    one institution's."""
    counts = link_counts(filterset, active_filters(filterset), without=None, codes=[links.TYPE])
    return sum(counts[links.TYPE].values())


def search_summary(filterset, query):
    """What the search page shows beside its list: the number of results, every facet, the
    agreements per year and the partnership network. A fixed number of queries: one for the
    facets of filters not in use (they all count the results), one more per filter in use."""
    active = active_filters(filterset)
    chosen = {name for name in CODES if any(p in active for p in parameters_of(name))}
    codes = [CODES[name] for name in CODES if name not in chosen]
    main = link_counts(
        filterset,
        active,
        without=None,
        codes=sorted({*codes, links.TYPE, links.YEAR, links.PARTY}),
    )
    counts = {name: main[CODES[name]] for name in CODES if name not in chosen}
    for name in chosen:
        code = CODES[name]
        counts[name] = link_counts(filterset, active, without=name, codes=[code])[code]
    parties = {int(pk): n for pk, n in main[links.PARTY].items()}
    scope = scope_of(active, None)
    if scope == 0:
        linked = None  # the links are those of published agreements
    elif scope:
        linked = links.SearchLink.objects.filter(facet=links.INSTITUTION, value=str(scope))
        linked = linked.values("agreement_id")
    else:
        linked = filterset.qs.order_by().values("pk")
    return {
        "count": sum(main[links.TYPE].values()),
        "facets": build_facets(counts, query, institutions=active.get("institution", [])),
        "per_year": fill_years(main[links.YEAR]),
        "network": partnership_network(
            filterset.qs, party_counts=parties, linked=linked, scope=scope
        ),
    }


def build_facets(counts, query, *, institutions=()):
    """The facets from `counts` ({facet: {value: agreements}}); `query` is the request's GET,
    `institutions` those it chooses, as the search's filter read them."""
    chosen = {name: query.getlist(name) for name in query}
    facets = [
        _institutions(counts["institution"], institutions),
        _labelled("kind", _("Kind of partner"), counts["kind"], dict(InstitutionKind.choices)),
        _labelled("country", _("Country"), counts["country"], dict(countries)),
        _focus_areas(counts["focus_area"]),
        _types(counts["type"]),
        _years(counts["year"]),
        _has_lab(counts["has_lab"]),
    ]
    links = Links(query)
    for facet in facets:
        active = chosen.get(facet.name, [])
        for value in facet.values:
            if facet.name == "year":
                value.active = chosen.get("signed_from") == chosen.get("signed_to") == [value.value]
                value.url = links.year(value.value)
            else:
                value.active = value.value in active
                value.url = links.toggle(facet.name, value.value)
    return [facet for facet in facets if facet.values]


def _institutions(counts, chosen):
    counts = {int(pk): n for pk, n in counts.items()}
    least = nth_largest(counts.values(), INSTITUTIONS_IN_FACET)
    top = [pk for pk, count in counts.items() if count >= least]
    # The chosen ones too, even when no result names them, to be removed: those the filter
    # accepted, which a draft's institution is not (public.searchable_institutions).
    shown = Institution.objects.filter(pk__in=[*top, *(institution.pk for institution in chosen)])
    # The most frequent first; among equal counts, by name, as they are shown.
    values = sorted(
        (
            FacetValue(institution.slug, str(institution), counts.get(institution.pk, 0), False)
            for institution in shown.only("pk", "slug", "name")
        ),
        key=lambda v: (-v.count, v.label),
    )
    active = {institution.slug for institution in chosen}
    return Facet(
        "institution",
        _("Institution"),
        [v for index, v in enumerate(values) if index < INSTITUTIONS_IN_FACET or v.value in active],
    )


def _labelled(name, label, counts, labels):
    values = [
        FacetValue(value, str(labels.get(value, "")), count, False)
        for value, count in counts.items()
    ]
    return Facet(name, label, sorted(values, key=lambda v: (-v.count, v.label)))


def _focus_areas(counts):
    areas = FocusArea.objects.filter(pk__in=[int(pk) for pk in counts]).only("pk", "slug", "name")
    values = [FacetValue(a.slug, a.name, counts[str(a.pk)], False) for a in areas]
    values.sort(key=lambda v: (-v.count, v.label.casefold()))
    return Facet("focus_area", _("Technology"), values)


def _types(counts):
    kinds = AgreementType.objects.filter(pk__in=[int(pk) for pk in counts])
    values = [FacetValue(k.slug, k.name, counts[str(k.pk)], False) for k in kinds]
    return Facet("type", _("Type"), sorted(values, key=lambda v: (-v.count, v.label)))


def _years(counts):
    values = [FacetValue(year, year, counts[year], False) for year in sorted(counts, key=int)]
    return Facet("year", _("Year signed"), values[::-1])


def _has_lab(counts):
    labels = {"true": _("with a joint lab"), "false": _("without a joint lab")}
    values = [FacetValue(value, labels[value], counts.get(value, 0), False) for value in labels]
    return Facet("has_lab", _("Joint lab"), [v for v in values if v.count])
