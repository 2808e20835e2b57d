"""The back office's reports: every report is defined here, as one function that turns a filtered
queryset of agreements into rows, in a fixed number of queries whatever the data.

Every report reads the public search's parameters through the search's own FilterSet (extended
by `ReportFilter`: a date range and which agreements to count), so "the agreements of this
report" means what it means on the public site. Staff may include drafts; a report says which
agreements it counts (`Result.scope`) on the page, in the PDF and in the XLSX file.

The admin pages (backoffice/views.py), the files (backoffice/report_files.py) and
`manage.py report` all go through `run`, so they give the same numbers.

Agreements are counted with DISTINCT only where one agreement may give several rows (two
parties of one kind, or of one country); where a constraint allows it one row (a party per
institution, a participation per person and role, a link per focus area), its rows are
counted: DISTINCT sorts them all first, and took twice as long at 100,000 agreements.
"""

import datetime
import operator
from dataclasses import dataclass, field
from functools import reduce

import django_filters as filters
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import ExtractYear
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries import countries

from agreements.filters import (
    AgreementFilter,
    filters_in_words,
    records_by_slug,
    search_query,
)
from agreements.models import Agreement, Participation, Party, Role
from labs.models import Lab, LabAgreement
from registry.admin import label_relations
from registry.dates import DatePrecision, truncate
from registry.models import FocusArea, Institution, InstitutionKind

SCOPES = [
    ("published", _("published agreements only")),
    ("all", _("published agreements, drafts and those in review")),
    # "draft": whatever is not published, in review or not (the value kept from before review).
    ("draft", _("unpublished agreements only: drafts and those in review")),
]
DEFAULT_SCOPE = "published"


class InstitutionAutocomplete(AutocompleteSelectMultiple):
    """The admin's autocomplete for the reports' institutions, named by slug as the search
    names them: a list of every institution (thousands) was too long to choose from by
    keyboard, and made the page hundreds of kilobytes. Its choices come from
    `reports:institutions`; only those chosen are written into the page."""

    def __init__(self):
        super().__init__(Party._meta.get_field("institution"), admin.site)

    def get_url(self):
        return reverse("reports:institutions")

    def optgroups(self, name, value, attr=None):
        institutions = admin.site.get_model_admin(Institution)
        chosen = Institution.objects.filter(slug__in=value).order_by("name")
        options = [
            self.create_option(
                name, institution.slug, institutions.choice_label(institution), True, index
            )
            for index, institution in enumerate(
                chosen.select_related(*label_relations(institutions))
            )
        ]
        return [(None, options, 0)]


class ReportFilter(AgreementFilter):
    """The search's filters, a range of signing dates, and which agreements to count. A date
    known only to the month or year is compared as the first day of that period."""

    status = filters.ChoiceFilter(
        choices=SCOPES, method="filter_status", label=_("Agreements"), empty_label=None
    )
    # The search's, but of every institution and technology: the search offers those the
    # public may see, and a report may count drafts (counting published agreements, one that
    # only drafts name counts none).
    institution = records_by_slug(
        Institution.objects.all(),
        method="filter_institution",
        label=_("Institution"),
        widget=InstitutionAutocomplete(),
    )
    focus_area = records_by_slug(
        FocusArea.objects.all(), method="filter_focus_area", label=_("Technology")
    )
    signed_after = filters.DateFilter(
        field_name="signed_on",
        lookup_expr="gte",
        label=_("Signed on or after (date)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    signed_before = filters.DateFilter(
        field_name="signed_on",
        lookup_expr="lte",
        label=_("Signed on or before (date)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def filter_status(self, queryset, name, value):
        if value == "all":
            return queryset
        if value == "published":
            return queryset.published()
        return queryset.exclude(status=Agreement.Status.PUBLISHED)


# The search's ordering changes no count: the report form leaves it out, and reports ignore it.
UNUSED_FILTERS = {"sort"}


class ReportOptions(forms.Form):
    """What some reports take besides the filters."""

    days = forms.IntegerField(
        label=_("Term ends within (days)"), min_value=1, max_value=3650, required=False
    )
    top = forms.IntegerField(label=_("People per role"), min_value=1, max_value=100, required=False)

    DEFAULTS = {"days": 90, "top": 10}

    def __init__(self, data, *, report):
        super().__init__(data)
        # The report's own only: another's is not on its page, where a value of it that could
        # not be read would be an error that no field shows.
        for name in set(self.fields) - set(report.options):
            del self.fields[name]

    def values(self):
        return {name: self.cleaned_data.get(name) or self.DEFAULTS[name] for name in self.fields}


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    columns: list
    compute: object  # (agreements, options) -> list of row tuples
    chart_labels: tuple  # the columns that name each bar of the chart
    chart_value: int  # the column the bars draw
    options: tuple = ()  # names from ReportOptions this report reads


REPORTS = {}


def report(slug, title, description, columns, *, chart=None, options=()):
    """Register a report. `chart` is (label columns, value column); by default the last
    column is drawn, named by the ones before it."""
    labels, value = chart or (tuple(range(len(columns) - 1)), len(columns) - 1)

    def register(compute):
        REPORTS[slug] = Report(slug, title, description, columns, compute, labels, value, options)
        return compute

    return register


@dataclass
class Result:
    report: Report
    filterset: ReportFilter
    options: dict
    rows: list = field(default_factory=list)
    made_on: datetime.date = None
    errors: dict = field(default_factory=dict)

    @property
    def scope(self):
        """Which agreements the numbers count, in words: every report says so."""
        status = self.filterset.form.cleaned_data.get("status") or DEFAULT_SCOPE
        return dict(SCOPES)[status]

    def described_filters(self):
        """[(label, value), ...] of every filter and option the report was made with."""
        described = [] if self.errors else filters_in_words(self.filterset, leaving_out={"status"})
        for name in self.report.options:
            described.append((ReportOptions.base_fields[name].label, self.options[name]))
        return described

    def chart(self):
        """[(label, value), ...]: one bar per row."""
        labels, value = self.report.chart_labels, self.report.chart_value
        # Joined by a comma, which every font has (the PDF's Chinese one has no "·").
        return [(", ".join(str(row[i]) for i in labels), row[value]) for row in self.rows]


def query_data(data):
    """A QueryDict of `data` (a request's GET, or {name: value or [values]}) read as the search
    reads its parameters (an empty value asks for nothing: `?kind=`), with the default scope
    filled in: reports count published agreements unless told otherwise."""
    if not isinstance(data, QueryDict):
        data, given = QueryDict(mutable=True), data
        for name, value in given.items():
            if value is not None:
                data.setlist(
                    name, [str(v) for v in (value if isinstance(value, list) else [value])]
                )
    query = search_query(data)  # a copy
    for name in UNUSED_FILTERS:
        # Not in the form, so a value it could not read would be an error no field shows.
        query.pop(name, None)
    if not query.get("status"):
        query["status"] = DEFAULT_SCOPE
    return query


def run(report, data, *, today=None):
    """The `report` on the agreements `data` selects: rows, or the form's errors."""
    data = query_data(data)
    filterset = ReportFilter(data, queryset=Agreement.objects.all())
    options_form = ReportOptions(data, report=report)
    today = today or timezone.localdate()
    result = Result(report, filterset, options={}, made_on=today)
    filters_valid, options_valid = filterset.is_valid(), options_form.is_valid()
    if not (filters_valid and options_valid):
        result.errors = {**filterset.errors, **options_form.errors}
        return result
    result.options = options_form.values()
    result.rows = report.compute(filterset.qs, {**result.options, "today": today})
    return result


def by_name(text):
    """Names sort the same on every database (SQLite and PostgreSQL collate differently)."""
    return str(text).casefold()


# The reports. Each takes the filtered agreements and runs one or two aggregate queries.


@report(
    "per-year-by-kind",
    _("Agreements per year by kind of partner"),
    _(
        "For each year and kind of partner, the agreements signed that year with at least one "
        "party of that kind (the party itself, not the unit that signed). An agreement with "
        "a university and a company counts once under each. Undated agreements are left out."
    ),
    [_("year"), _("kind of partner"), _("agreements")],
)
def per_year_by_kind(agreements, options):
    counts = (
        Party.objects.filter(
            agreement__in=agreements.values("pk"), agreement__signed_on__isnull=False
        )
        .annotate(year=ExtractYear("agreement__signed_on"))
        .values_list("year", "institution__kind")
        .annotate(n=Count("agreement", distinct=True))
        .order_by()
    )
    kinds = list(InstitutionKind)
    rows = sorted(counts, key=lambda row: (row[0], kinds.index(row[1])))
    return [(year, InstitutionKind(kind).label, n) for year, kind, n in rows]


@report(
    "companies",
    _("Agreements and labs per company"),
    _(
        "For each company that is a party: its agreements, and the joint labs planned, founded "
        "or extended under them. The chart shows agreements."
    ),
    [_("company"), _("agreements"), _("labs")],
    chart=((0,), 1),
)
def companies(agreements, options):
    ids = agreements.values("pk")
    per_company = (
        Institution.objects.filter(kind=InstitutionKind.COMPANY, parties__agreement__in=ids)
        .values_list("pk", "name")
        .annotate(n=Count("parties"))  # one party per agreement and institution
        .order_by()
    )
    labs = dict(
        LabAgreement.objects.filter(
            agreement__in=ids, agreement__parties__institution__kind=InstitutionKind.COMPANY
        )
        .values_list("agreement__parties__institution")
        .annotate(n=Count("lab", distinct=True))
        .order_by()
    )
    rows = [(name, n, labs.get(pk, 0)) for pk, name, n in per_company]
    return sorted(rows, key=lambda row: (-row[1], -row[2], by_name(row[0])))


@report(
    "focus-areas",
    _("Agreements per focus area over time"),
    _(
        "For each focus area and year, the agreements signed that year that name the area. "
        "Undated agreements are left out."
    ),
    [_("focus area"), _("year"), _("agreements")],
)
def focus_areas_over_time(agreements, options):
    links = Agreement.focus_areas.through.objects.filter(
        agreement__in=agreements.values("pk"), agreement__signed_on__isnull=False
    )
    counts = (
        links.annotate(year=ExtractYear("agreement__signed_on"))
        .values_list("focusarea__name", "year")
        .annotate(n=Count("*"))  # one link per agreement and focus area
        .order_by()
    )
    return sorted(counts, key=lambda row: (by_name(row[0]), row[1]))


@report(
    "countries",
    _("Agreements per country"),
    _(
        "For each country of a party, the agreements with at least one party from it; an "
        "agreement between two countries counts once under each."
    ),
    [_("country"), _("code"), _("agreements")],
    chart=((0,), 2),
)
def per_country(agreements, options):
    counts = (
        Party.objects.filter(agreement__in=agreements.values("pk"))
        .values_list("institution__country")
        .annotate(n=Count("agreement", distinct=True))
        .order_by()
    )
    rows = [(countries.name(code) if code else _("(no country)"), code, n) for code, n in counts]
    return sorted(rows, key=lambda row: (-row[2], by_name(row[0])))


@report(
    "labs-by-status",
    _("Joint labs by status"),
    _(
        "The joint labs planned, founded or extended under the agreements, by their status "
        "today. A lab under several of the agreements counts once; labs under none are left out."
    ),
    [_("status"), _("labs")],
)
def labs_by_status(agreements, options):
    labs = Lab.objects.filter(
        pk__in=LabAgreement.objects.filter(agreement__in=agreements.values("pk")).values("lab")
    )
    counts = dict(labs.values_list("status").annotate(n=Count("pk")).order_by())
    if not counts:  # "No rows.", as every report says, not three rows of 0 and no chart
        return []
    return [(status.label, counts.get(status.value, 0)) for status in Lab.Status]


@report(
    "people",
    _("Most active people by role"),
    _(
        "For each role (signatory, witness, attendee), the people with the most agreements in "
        "that role; ties in alphabetical order."
    ),
    [_("role"), _("person"), _("agreements")],
    options=("top",),
)
def people_by_role(agreements, options):
    counts = list(
        Participation.objects.filter(agreement__in=agreements.values("pk"))
        .values_list("role", "person", "person__name")
        .annotate(n=Count("*"))  # one participation per agreement, person and role
        .order_by()
    )
    rows = []
    for role in Role:
        people = sorted(
            ((name, n) for r, _pk, name, n in counts if r == role.value),
            key=lambda person: (-person[1], by_name(person[0])),
        )
        rows += [(role.label, name, n) for name, n in people[: options["top"]]]
    return rows


@report(
    "terms-ending",
    _("Agreements whose term ends soon"),
    _(
        "Agreements whose term ends between today and the chosen number of days from now, "
        "soonest first. Only terms with a recorded end date count: a term given only in years "
        "is not projected. An end known to the month or year counts while any of that period "
        "is in the window; its days are counted to the period's first day (0 once it has "
        "begun)."
    ),
    [
        pgettext_lazy("column", "agreement"),
        _("key"),
        _("status"),
        _("term ends"),
        _("parties"),
        _("days left"),
    ],
    chart=((0,), 5),
    options=("days",),
)
def terms_ending(agreements, options):
    today = options["today"]
    # Not over yet: the last day of the end's period is today or later.
    not_over = reduce(
        operator.or_,
        (Q(ends_on_precision=p, ends_on__gte=truncate(today, p)) for p in DatePrecision),
    )
    ending = (
        agreements.filter(not_over, ends_on__lte=today + datetime.timedelta(days=options["days"]))
        .order_by("ends_on", "title", "pk")
        .prefetch_related(Prefetch("parties", Party.objects.select_related("institution")))
    )
    return [
        (
            agreement.title,
            agreement.slug,
            agreement.get_status_display(),
            agreement.ends.isoformat(),
            "; ".join(party.institution.name for party in agreement.parties.all()),
            max((agreement.ends_on - today).days, 0),
        )
        for agreement in ending
    ]
