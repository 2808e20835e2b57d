"""What a filtered view of agreements means. The search page, its facets, its downloads and
the API all read their parameters through this one FilterSet."""

import datetime
import operator
import re
import unicodedata
from functools import reduce

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from django_countries import countries

from agreements.models import Agreement, AgreementType, Party
from agreements.public import InstitutionTree, searchable_focus_areas, searchable_institutions
from agreements.search_index import SearchDocument
from registry.models import InstitutionKind

SORTS = {
    "-signed": _("newest first"),
    "signed": _("oldest first"),
    "title": _("title"),
    "relevance": _("relevance"),
}


# A phrase in double quotes, or a word.
TERM = re.compile(r'"([^"]*)"|(\S+)')
# A dash (hyphen, en or em dash, minus, their full-width forms) beside a space or at an end:
# punctuation between words, which texts write in many ways for one name. The lab recorded
# as "Digital Government – Smart City" is "Digital Government- Smart City" in its article.
# A dash between two letters joins them (Wi-Fi) and stays: matched apart, "wi" and "fi"
# would find nearly every agreement (72,431 of 100,000 generated, against 5,077).
DASHES = "-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
SPACED_DASH = re.compile(f"(?:^|\\s)[{DASHES}]+|[{DASHES}]+(?:\\s|$)")
MAX_TERMS = 10
# Quotation marks as other scripts and typography write them, read as a double quote: a
# phrase typed with a Chinese input method, or pasted, is “smart city”, 「智慧城市」 or
# 《…》 (a title), and its quotes, left in, were part of its first and last words, which then
# found nothing. Single curly quotes only as a pair (‘5G’): alone, ’ is an apostrophe (Xi’an).
QUOTES = str.maketrans(dict.fromkeys("“”„‟«»「」『』《》〈〉＂", '"'))
SINGLE_QUOTED = re.compile("‘([^‘’]*)’")
# Punctuation between words, which no name searched for has inside it: a list typed as
# "华为、5G" or "Huawei,5G" is two words (in any width: an input method types ，；).
SEPARATORS = re.compile("[,;、，；。｡]")
# Punctuation that ends a word or encloses it as typed ("Huawei.", "(TJU)", "Ltd.", "5G?"),
# and is no part of what it looks for; within a word it stays (U.S., 4.0, Xi'an, AT&T).
ENDS = "\"'.:!?()[]{}<>‘’．：！？（）［］【】〔〕"

# Words that join others in English phrasing ("University of Tianjin", "the Huawei lab"):
# each had to be in the agreement's texts too, and "of" was not in Tianjin University's. As a
# search of its own, or in quotes, such a word is searched for.
SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "the", "to", "with", "&"}
# So are a company's legal forms, as a name is pasted from its article ("Huawei Technologies
# Co., Ltd."): records name the company without them ("Huawei Technologies").
SMALL_WORDS |= {"co", "corp", "gmbh", "inc", "llc", "ltd", "plc"}
# A term that is a year, as typed in English or Chinese.
YEAR = re.compile(r"([0-9]{4})年?")


def search_terms(text):
    """The terms of a search, each found anywhere in an agreement's texts: its words, and the
    words in double quotes together, as one term ("smart city", as the admin's search reads
    them, or in the quotes of other scripts: “smart city”, 「智慧城市」); punctuation around a
    word or between words is no part of them (a stray quote, "Huawei,", "华为、5G"), and a dash
    beside a space separates terms (the words it separates are found however the record
    punctuates them). Each term once (a word typed 99 times is one match, not 99), and the
    first ten; the small words of English phrasing and companies' legal forms left out beside
    others, unquoted."""
    terms, small = [], []
    text = SINGLE_QUOTED.sub(r'"\1"', text.translate(QUOTES))
    for phrase, word in TERM.findall(text):
        # A phrase as it is between its quotes; a word without the punctuation around it,
        # before a dash beside it separates it and after ("(TJU)-Huawei", "-(TJU)").
        typed = [phrase] if phrase else [part.strip(ENDS) for part in SEPARATORS.split(word)]
        for part in (part for each in typed for part in SPACED_DASH.split(each)):
            term = " ".join((part if phrase else part.strip(ENDS)).split())
            if term and term.casefold() not in {known.casefold() for known in terms + small}:
                (small if not phrase and term.casefold() in SMALL_WORDS else terms).append(term)
    return (terms or small)[:MAX_TERMS]


def matching_terms(terms):
    """Agreements every one of `terms` finds: in titles, summaries and places; in every stored
    name of a party or its unit, of a participant, of a lab; in focus areas.

    All of these are in one search document per agreement (agreements/search_index.py), so
    each term is one match on one column, served by a trigram index on PostgreSQL, rather
    than a union over eight tables. A year (2019, 2019年) finds the agreements signed in it
    too: people type "Huawei 2019", and a date is no text of the document."""
    found = Q()
    for term in terms:
        forms = forms_of(term)
        matched = reduce(
            operator.or_, (Q(search_document__document__matches=form) for form in forms)
        )
        year = next(filter(None, (YEAR.fullmatch(form) for form in forms)), None)
        if year:
            # Each side a subquery, read once by its own index (the trigram one, the one of
            # dates), where an OR across the join's two tables read every document: the count
            # for "2019" alone took 106 ms rather than 16 at 20,000 agreements.
            signed = Agreement.objects.filter(signed_on__year=int(year[1])).values("pk")
            texts = SearchDocument.objects.filter(
                reduce(operator.or_, (Q(document__matches=form) for form in forms))
            ).values("agreement_id")
            matched = Q(pk__in=texts) | Q(pk__in=signed)
        found &= matched
    return found


def forms_of(term):
    """A term as typed and, if it differs, as NFKC writes it: Chinese input methods type Latin
    letters and digits full width (ＥＣＮＵ), which the records hold half width (ECNU)."""
    return dict.fromkeys([term, unicodedata.normalize("NFKC", term)])


def in_use(value):
    """Whether a cleaned filter value filters anything (an empty choice does not)."""
    if isinstance(value, QuerySet):
        # A choice of none is an empty queryset: known as such without compiling it.
        return not value.query.is_empty()
    if isinstance(value, (list, tuple)):
        return bool(value)
    return value not in (None, "")


def country_choices():
    """Called when the choices are read: a list of 250 countries given as it is would be
    deep-copied with the filters and the form on every request (a tenth of a search's time
    in Python)."""
    return list(countries)


class YearField(forms.IntegerField):
    """Any year a date may have: the year facet links every year an agreement is signed in
    (one dated "0219" too, until it is corrected), and its link must find it."""

    def __init__(self, **kwargs):
        super().__init__(min_value=datetime.MINYEAR, max_value=datetime.MAXYEAR, **kwargs)


class YearFilter(filters.Filter):
    field_class = YearField


class InstantField(forms.Field):
    """A moment in ISO 8601, as the API writes its dates (2021-05-03T08:00:00Z): without an
    offset it is UTC, as they are; a date alone is its midnight, UTC."""

    default_error_messages = {
        "invalid": _(
            "Give a date and time in ISO 8601, such as 2021-05-03T08:00:00Z (in an address, "
            "the “+” of an offset is encoded)."
        )
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            moment = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


class InstantFilter(filters.Filter):
    field_class = InstantField


def records_by_slug(queryset, *, method, label, **field):
    """A filter of records named by their slugs, any number of them (`?focus_area=5g&...`);
    `field`: more for its form field (a widget)."""
    return filters.ModelMultipleChoiceFilter(
        queryset=queryset, to_field_name="slug", method=method, label=label, **field
    )


def in_words(form, name):
    """A filter's cleaned value as words: choices by their labels, records by their names."""
    value, formfield = form.cleaned_data[name], form.fields[name]
    if isinstance(formfield, forms.ModelMultipleChoiceField):
        return pgettext("between the values of one filter", ", ").join(map(str, value))
    # Plain choices only: the model fields above would read every institution.
    choices = dict(formfield.choices) if isinstance(formfield, forms.ChoiceField) else {}
    values = value if isinstance(value, list) else [value]
    return pgettext("between the values of one filter", ", ").join(
        str(choices.get(item, item)) for item in values
    )


def filters_in_words(filterset, *, leaving_out=()):
    """[(label, value in words), ...] of the filters a (valid) filterset was given, in the
    order they are declared: what a feed's title and a report's heading say they chose."""
    return [
        (filterset.filters[name].label, in_words(filterset.form, name))
        for name, value in filterset.form.cleaned_data.items()
        if name not in leaving_out and in_use(value)
    ]


def search_query(data):
    """A search's parameters (a QueryDict) as the FilterSet is to read them, on the page, in
    its downloads and in the API alike: an empty value (`?kind=`, a form's blank choice) asks
    for nothing, rather than for a kind called "", which would be refused as not one of them."""
    data = data.copy()
    for name in list(data):
        values = [value for value in data.getlist(name) if value.strip()]
        if values:
            data.setlist(name, values)
        else:
            del data[name]
    return data


class SpansForm(forms.Form):
    """The filters' form: a span of signing that ends before it starts (2022 to 2019) is
    refused, naming its end, rather than finding nothing without a word. The search then
    shows the span's start alone; a download or the API answers 400."""

    SPANS = [("signed_from", "signed_to"), ("signed_after", "signed_before")]

    def clean(self):
        cleaned = super().clean()
        for start, end in self.SPANS:
            if cleaned.get(start) and cleaned.get(end) and cleaned[end] < cleaned[start]:
                self.add_error(
                    end,
                    _("The span ends before it starts (%(start)s): give the earlier one first.")
                    % {"start": cleaned[start]},
                )
        return cleaned


class AgreementFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Search"), max_length=200)
    institution = records_by_slug(
        searchable_institutions(), method="filter_institution", label=_("Institution")
    )
    kind = filters.MultipleChoiceFilter(
        choices=InstitutionKind.choices,
        method="filter_party_institution",
        label=_("Kind of partner"),
    )
    country = filters.MultipleChoiceFilter(
        choices=country_choices, method="filter_party_institution", label=_("Country")
    )
    focus_area = records_by_slug(
        searchable_focus_areas(), method="filter_focus_area", label=_("Technology")
    )
    type = records_by_slug(AgreementType.objects.all(), method="filter_type", label=_("Type"))
    signed_from = YearFilter(method="filter_signed_from", label=_("Signed from (year)"))
    signed_to = YearFilter(method="filter_signed_to", label=_("Signed to (year)"))
    has_lab = filters.ChoiceFilter(
        choices=[("true", _("yes")), ("false", _("no"))],
        method="filter_has_lab",
        label=_("Has a joint lab"),
    )
    sort = filters.ChoiceFilter(
        choices=list(SORTS.items()), method="filter_sort", label=_("Sort"), empty_label=None
    )

    class Meta:
        model = Agreement
        fields = []
        form = SpansForm

    # Each filter of one parameter ORs its values; the FilterSet ANDs the parameters.

    def filter_q(self, queryset, name, value):
        terms = search_terms(value)
        return queryset.filter(matching_terms(terms)) if terms else queryset

    def filter_institution(self, queryset, name, value):
        if not in_use(value):
            return queryset
        # Read once per search (the facets apply this filter again to other querysets), and
        # only below the institutions chosen.
        chosen = tuple(institution.pk for institution in value)
        if getattr(self, "_tree", (None,))[0] != chosen:
            self._tree = (chosen, InstitutionTree.below(*chosen))
        tree = self._tree[1]
        ids = {pk for chosen_pk in chosen for pk in tree.with_descendants(chosen_pk)}
        parties = Party.objects.filter(Q(institution__in=ids) | Q(unit__in=ids))
        return queryset.filter(pk__in=parties.values("agreement"))

    def filter_party_institution(self, queryset, name, value):
        """`kind` and `country`: fields, named as the parameter, of any party's institution."""
        if not in_use(value):
            return queryset
        parties = Party.objects.filter(**{f"institution__{name}__in": value})
        return queryset.filter(pk__in=parties.values("agreement"))

    def filter_focus_area(self, queryset, name, value):
        if not in_use(value):
            return queryset
        links = Agreement.focus_areas.through.objects.filter(focusarea__in=value)
        return queryset.filter(pk__in=links.values("agreement"))

    def filter_type(self, queryset, name, value):
        return queryset.filter(agreement_type__in=value) if in_use(value) else queryset

    def filter_signed_from(self, queryset, name, value):
        return queryset.filter(signed_on__gte=datetime.date(value, 1, 1))

    def filter_signed_to(self, queryset, name, value):
        return queryset.filter(signed_on__lte=datetime.date(value, 12, 31))

    def filter_has_lab(self, queryset, name, value):
        with_lab = Agreement.labs.through.objects.values("agreement")
        if value == "true":
            return queryset.filter(pk__in=with_lab)
        return queryset.exclude(pk__in=with_lab)

    def filter_sort(self, queryset, name, value):
        return queryset  # applied last, by `sorted`, so that it sees the search text

    def sorted(self, queryset):
        sort = self.form.cleaned_data.get("sort") if self.is_valid() else None
        terms = search_terms(self.form.cleaned_data.get("q") or "") if self.is_valid() else []
        if sort == "relevance" or (not sort and terms):
            if terms:
                return queryset.annotate(relevance=relevance(terms)).order_by(
                    "-relevance", *Agreement._meta.ordering
                )
            sort = "-signed"
        if sort == "signed":
            return queryset.order_by("signed_on", "title", "pk")
        if sort == "title":
            return queryset.order_by("title", "pk")
        return queryset.order_by(*Agreement._meta.ordering)

    def queryset_without(self, name):
        """The results under every active filter but `name`: what a facet of `name` counts."""
        queryset = self.queryset
        for other, value in self.form.cleaned_data.items():
            if other != name and not (name == "year" and other in ("signed_from", "signed_to")):
                queryset = self.filters[other].filter(queryset, value)
        return queryset


class ApiAgreementFilter(AgreementFilter):
    """The search's filters, and what a mirror of the registry asks the API beside them: the
    agreements updated since it last asked, in the order they were updated. Not the search
    page's (it reads AgreementFilter, so these parameters are no part of its address): a
    visitor has no use for them, and each would be one more address of every search."""

    updated_since = InstantFilter(
        method="filter_updated_since", label=_("Updated at or after (ISO 8601, UTC by default)")
    )
    sort = filters.ChoiceFilter(
        choices=[*SORTS.items(), ("updated", _("last updated, oldest first"))],
        method="filter_sort",
        label=_("Sort"),
        empty_label=None,
    )

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value)

    def sorted(self, queryset):
        if self.is_valid() and self.form.cleaned_data.get("sort") == "updated":
            # Total, the key breaking ties, so that a mirror paging through it while nothing
            # changes meets each agreement once.
            return queryset.order_by("updated_at", "slug")
        return super().sorted(queryset)


def relevance(terms):
    """Title matches first, then summaries; every agreement here matched all terms somewhere."""
    score = Value(0)
    for term in terms:
        forms = forms_of(term)
        score = score + Case(
            *(When(search_document__title__matches=form, then=Value(3)) for form in forms),
            *(When(search_document__summary__matches=form, then=Value(1)) for form in forms),
            default=Value(0),
            output_field=IntegerField(),
        )
    return score
