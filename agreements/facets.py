"""Facets of a search: every value with the number of matching agreements under all the
*other* active filters, and the address that toggles it, so that every view is a link."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from agreements.models import Agreement, Party
from agreements.public import agreement_counts
from registry.models import Institution, InstitutionKind

INSTITUTIONS_SHOWN = 15


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


SINGLE_VALUED = {"has_lab"}


def toggle_url(query, name, value):
    """The query string with `value` added to or removed from parameter `name`."""
    query = query.copy()
    query.pop("page", None)
    values = query.getlist(name)
    if value in values:
        values = [v for v in values if v != value]
    else:
        values = [value] if name in SINGLE_VALUED else values + [value]
    query.setlist(name, values)
    return f"?{query.urlencode()}"


def year_url(query, year):
    query = query.copy()
    query.pop("page", None)
    if query.get("signed_from") == query.get("signed_to") == str(year):
        query.pop("signed_from")
        query.pop("signed_to")
    else:
        query["signed_from"] = query["signed_to"] = str(year)
    return f"?{query.urlencode()}"


def build_facets(filterset, query):
    """All facets of a bound, validated AgreementFilter; `query` is the request's GET."""
    chosen = {name: query.getlist(name) for name in query}
    facets = [
        _institutions(filterset, chosen.get("institution", [])),
        _party_field(filterset, "kind", _("Kind of partner"), dict(InstitutionKind.choices)),
        _party_field(filterset, "country", _("Country"), dict(countries)),
        _focus_areas(filterset),
        _types(filterset),
        _years(filterset),
        _has_lab(filterset),
    ]
    for facet in facets:
        active = chosen.get(facet.name, [])
        for value in facet.values:
            if facet.name == "year":
                value.active = chosen.get("signed_from") == chosen.get("signed_to") == [value.value]
                value.url = year_url(query, value.value)
            else:
                value.active = value.value in active
                value.url = toggle_url(query, facet.name, value.value)
    return [facet for facet in facets if facet.values]


def _institutions(filterset, active_slugs):
    counts = agreement_counts(filterset.queryset_without("institution"))
    ranked = sorted(counts.values(), reverse=True)
    least = ranked[INSTITUTIONS_SHOWN - 1] if len(ranked) >= INSTITUTIONS_SHOWN else 0
    top = [pk for pk, count in counts.items() if count >= least]
    shown = Institution.objects.filter(pk__in=top) | Institution.objects.filter(
        slug__in=active_slugs
    )
    # The most frequent first; among equal counts, by name, as they are shown.
    values = sorted(
        (
            FacetValue(institution.slug, str(institution), counts.get(institution.pk, 0), False)
            for institution in shown.only("pk", "slug", "name")
        ),
        key=lambda v: (-v.count, v.label),
    )
    active = set(active_slugs)
    return Facet(
        "institution",
        _("Institution"),
        [v for index, v in enumerate(values) if index < INSTITUTIONS_SHOWN or v.value in active],
    )


def _party_field(filterset, name, label, labels):
    agreements = filterset.queryset_without(name)
    rows = (
        Party.objects.filter(agreement__in=agreements)
        .values(f"institution__{name}")
        .annotate(count=Count("agreement", distinct=True))
        .order_by("-count")
    )
    values = [
        FacetValue(
            row[f"institution__{name}"],
            str(labels.get(row[f"institution__{name}"], "")),
            row["count"],
            False,
        )
        for row in rows
        if row[f"institution__{name}"]
    ]
    return Facet(name, label, values)


def _focus_areas(filterset):
    agreements = filterset.queryset_without("focus_area")
    rows = (
        Agreement.focus_areas.through.objects.filter(agreement__in=agreements)
        .values("focusarea__slug", "focusarea__name")
        .annotate(count=Count("agreement", distinct=True))
        .order_by("-count", "focusarea__name")
    )
    values = [
        FacetValue(row["focusarea__slug"], row["focusarea__name"], row["count"], False)
        for row in rows
    ]
    return Facet("focus_area", _("Technology"), values)


def _types(filterset):
    rows = (
        filterset.queryset_without("type")
        .values("agreement_type__slug", "agreement_type__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "agreement_type__name")
    )
    values = [
        FacetValue(row["agreement_type__slug"], row["agreement_type__name"], row["count"], False)
        for row in rows
    ]
    return Facet("type", _("Type"), values)


def _years(filterset):
    rows = (
        filterset.queryset_without("year")
        .exclude(signed_on=None)
        .values(year=ExtractYear("signed_on"))
        .annotate(count=Count("pk"))
        .order_by("-year")
    )
    values = [FacetValue(str(row["year"]), str(row["year"]), row["count"], False) for row in rows]
    return Facet("year", _("Year signed"), values)


def _has_lab(filterset):
    with_lab = Agreement.labs.through.objects.filter(agreement=OuterRef("pk"))
    counts = (
        filterset.queryset_without("has_lab")
        .annotate(has=Exists(with_lab))
        .values("has")
        .annotate(count=Count("pk"))
        .order_by("-has")
    )
    labels = {True: _("with a joint lab"), False: _("without a joint lab")}
    values = [
        FacetValue("true" if row["has"] else "false", labels[row["has"]], row["count"], False)
        for row in counts
    ]
    return Facet("has_lab", _("Joint lab"), values)
