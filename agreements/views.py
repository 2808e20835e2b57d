from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from agreements.exports import csv_lines, page_addresses, xlsx_bytes
from agreements.facets import search_summary, toggle_url
from agreements.filters import SORTS, AgreementFilter, in_use, search_query
from agreements.models import Agreement
from agreements.search import suggest
from registry.cache import cached
from registry.http import read_only
from registry.paging import page_of
from registry.sharing import sharing
from registry.text import attachment

PAGE_SIZE = 20
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The search's parameters, in the order the FilterSet declares them (a download's name says
# their values in this order).
FILTER_PARAMETERS = tuple(AgreementFilter.base_filters)
# The filters on an agreement's parties: each may be met by a different one.
PARTY_FILTERS = {"institution", "kind", "country"}


def filtered_agreements(request, data=None):
    """The one reading of a search's parameters (`data`, or the request's), shared by the page
    and its downloads."""
    data = search_query(request.GET if data is None else data)
    filterset = AgreementFilter(data, queryset=Agreement.objects.published())
    filterset.is_valid()
    return filterset, filterset.sorted(filterset.qs)


def readable_values(filterset, name, values):
    """Of the values of a repeatable parameter the filterset refused, those it can read: an
    old link whose one institution is no longer public keeps the others it names."""
    field = filterset.form.fields.get(name)
    if not isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return []

    def reads(value):
        try:
            field.clean([value])
        except ValidationError:
            return False
        return True

    return [value for value in values if reads(value)]


def unreadable(filterset):
    """A download's answer to parameters it cannot read: a plain 400 naming each. The page
    shows the search without them and says why; a file of every agreement, when one filter
    is misspelt, would pass for the filtered one. None when all are read."""
    if not filterset.errors:
        return None
    problems = [f"{name}: {' '.join(errors)}\n" for name, errors in filterset.errors.items()]
    return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")


@read_only
def search(request):
    filterset, agreements = filtered_agreements(request)
    # The page's links (facets, sorting, downloads) carry what the search read, and not a
    # parameter it could not: said once here, not on every page after, nor refused by a
    # download (which answers 400 to what it cannot read).
    read = filterset.data.copy()
    for name, errors in filterset.errors.items():
        label = filterset.filters[name].label if name in filterset.filters else name
        messages.error(request, f"{label}: {' '.join(errors)}")
        if kept := readable_values(filterset, name, read.getlist(name)):
            read.setlist(name, kept)
        else:
            read.pop(name, None)
    if filterset.errors:  # searched again with what it read, each value that could be
        filterset, agreements = filtered_agreements(request, read)
    query = read.copy()
    query.pop("page", None)
    summary = cached(
        "search",
        f"{get_language()}:{query.urlencode()}",
        lambda: search_summary(filterset, read),
    )
    # Counted already, with the facets.
    page = page_of(
        request, agreements.values_list("pk", flat=True), PAGE_SIZE, count=summary["count"]
    )
    # The page's agreements, cached too: their ids in order, as sorting every match (by
    # relevance) is most of a text search's list. Read again through published(), so that no
    # agreement outlives its publication in the cache.
    ids = cached("results", f"{query.urlencode()}:{page.number}", lambda: list(page.object_list))
    found = Agreement.objects.published().filter(pk__in=ids).listed()
    found = {a.pk: a for a in found.prefetch_related("focus_areas")}
    page.object_list = [found[pk] for pk in ids if pk in found]
    facets = summary["facets"]
    text = filterset.form.cleaned_data.get("q", "")
    without_years = read.copy()
    for name in ("signed_from", "signed_to", "page"):
        without_years.pop(name, None)
    kinds = next((facet for facet in facets if facet.name == "kind"), None)
    chosen = filterset.form.cleaned_data
    suggestion = suggest(text) if text and not page.paginator.count else None
    # "Did you mean" keeps the other filters and the sort: only the words change.
    suggested = query.copy()
    if suggestion:
        suggested["q"] = suggestion
    active = active_filters(filterset, facets, read)
    context = {
        "share": sharing(
            request,
            path=reverse("agreements:search"),
            title=_("Agreements matching “%(text)s”") % {"text": text} if text else _("Agreements"),
            description=ngettext(
                "%(counter)s partnership agreement found",
                "%(counter)s partnership agreements found",
                page.paginator.count,
            )
            % {"counter": page.paginator.count},
            query=canonical_query(read, terms=bool(text)),
            page=page.number,
        ),
        "page": page,
        "facets": facets,
        "active": active,
        # The words searched are said by the title already (the first filter active).
        "filters_in_title": active[1:] if text else active,
        "query": query.urlencode(),
        "kept": [
            (k, v)
            for k in FILTER_PARAMETERS
            if k not in ("q", "sort", "signed_from", "signed_to")
            for v in read.getlist(k)
        ],
        "sorts": SORTS,
        # The form's years: a span ("since 2019") the year facet's single years cannot ask.
        "signed_from": read.get("signed_from", ""),
        "signed_to": read.get("signed_to", ""),
        "text": text,
        "per_year": summary["per_year"],
        "per_kind": [(value.label, value.count) for value in kinds.values] if kinds else [],
        "network": summary["network"],
        "year_query": without_years.urlencode(),
        "suggestion": suggestion,
        "suggestion_query": suggested.urlencode(),
        # "kind=university&country=CN" finds a university and a party in China, not only
        # Chinese universities: the page says so when two filters on parties are chosen.
        "parties_apart": sum(in_use(chosen.get(name)) for name in PARTY_FILTERS) > 1,
    }
    return render(request, "agreements/search.html", context)


def canonical_query(read, *, terms):
    """The parameters of a search's canonical address, of those it read (`read`): in the
    FilterSet's order, each value once and a repeatable one's sorted (its values OR, in any
    order), without a sort that orders as the default does (relevance for words, else newest
    first, as relevance without words does too)."""
    default_sorts = [["relevance"]] if terms else [["-signed"], ["relevance"]]
    query = []
    for name in FILTER_PARAMETERS:
        values = sorted({value.strip() for value in read.getlist(name)} - {""})
        if name == "sort" and values in default_sorts:
            continue
        query += [(name, value) for value in values]
    return query


def active_filters(filterset, facets, query):
    """Each active filter with the address that removes it."""
    active = [
        (facet.label, value.label, value.url)
        for facet in facets
        for value in facet.values
        if value.active
    ]
    data = filterset.form.cleaned_data
    if data.get("q"):
        active.insert(0, (_("Search"), data["q"], toggle_url(query, "q", query.get("q"))))
    start, end = data.get("signed_from"), data.get("signed_to")
    if (start or end) and start != end:
        remove = query.copy()
        for name in ("signed_from", "signed_to", "page"):
            remove.pop(name, None)
        span = f"{start or '…'}–{end or '…'}"
        active.append((_("Year signed"), span, f"?{remove.urlencode()}"))
    return active


@read_only
def export(request, format):
    """The search's agreements, exactly as on screen (every page of them), as a file."""
    filterset, agreements = filtered_agreements(request)
    if refused := unreadable(filterset):
        return refused
    absolute_url = page_addresses(request)
    if format == "csv":
        response = StreamingHttpResponse(
            csv_lines(agreements, absolute_url=absolute_url), content_type="text/csv; charset=utf-8"
        )
    elif format == "xlsx":
        response = HttpResponse(
            xlsx_bytes(agreements, absolute_url=absolute_url), content_type=XLSX_TYPE
        )
    else:
        raise Http404
    return attachment(response, *download_words(filterset), extension=format)


def download_words(filterset):
    """What a download's name says it holds: "agreements" and the values of what the search
    asked (agreements-huawei-5g-2019.csv), in the order of the search's parameters."""
    words = ["agreements"]
    for name in FILTER_PARAMETERS:
        if name == "has_lab":
            said = {"true": "with lab", "false": "without lab"}
            words += [said.get(value, value) for value in filterset.data.getlist(name)]
        elif name != "sort":
            words += filterset.data.getlist(name)
    return words
