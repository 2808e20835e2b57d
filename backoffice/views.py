import json
import logging
from itertools import islice

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from agreements.views import download_words, filtered_agreements, unreadable
from backoffice import attention
from backoffice.public import public_reader
from backoffice.report_files import (
    FORMATS,
    chart_layout,
    chart_svg,
    report_file,
    report_words,
)
from backoffice.reports import REPORTS, UNUSED_FILTERS, ReportOptions, query_data, run
from registry.admin import label_relations
from registry.logs import staff
from registry.models import Institution
from registry.text import attachment

logger = logging.getLogger(__name__)

# Reports count drafts too when asked, and export in bulk: the export permission guards them
# (backoffice/migrations/0002_export_permission.py).
EXPORT_PERMISSION = "agreements.export_agreements"

CHUNK_SIZE = 500


def agreements_jsonl(request):
    """The search's agreements, exactly as on screen, in the interchange format: a file that
    imports into another registry. Streamed, a chunk of agreements at a time."""
    filterset, agreements = filtered_agreements(request)
    if refused := unreadable(filterset):
        return refused

    def lines():
        records = public_reader(request)  # institutions read once, not for each chunk
        keys = agreements.values_list("pk", flat=True).iterator(chunk_size=CHUNK_SIZE)
        while chunk := list(islice(keys, CHUNK_SIZE)):
            for record in records.read(chunk):
                yield json.dumps(record, ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/jsonl; charset=utf-8")
    return attachment(response, *download_words(filterset), extension="jsonl")


def staff_report_view(view):
    """An admin page (signed-in staff, else the admin's login) for the export permission
    (else 403)."""
    return admin.site.admin_view(permission_required(EXPORT_PERMISSION, raise_exception=True)(view))


@staff_report_view
def report_index(request):
    context = {**admin.site.each_context(request), "title": _("Reports"), "reports": REPORTS}
    return render(request, "admin/backoffice/report_index.html", context)


@staff_report_view
def needs_attention(request):
    """What keeps the record from being true and complete: each problem, how many records have
    it, and a link to the admin's list of exactly those (backoffice/attention.py)."""
    context = {
        **admin.site.each_context(request),
        "title": _("Needs attention"),
        "problems": attention.counted(),
    }
    return render(request, "admin/backoffice/needs_attention.html", context)


@staff_report_view
def institution_choices(request):
    """The institutions a report's filter may name, as the admin's autocomplete asks for them
    (`term`, `page`), found as the admin's list of institutions finds them, named by slug."""
    institutions = admin.site.get_model_admin(Institution)
    found, _duplicates = institutions.get_search_results(
        request, Institution.objects.order_by("name", "pk"), request.GET.get("term", "")
    )
    found = found.select_related(*label_relations(institutions))
    # A page as long as the admin's own autocompletes give.
    page = Paginator(found, AutocompleteJsonView.paginate_by).get_page(request.GET.get("page"))
    return JsonResponse(
        {
            "results": [
                {"id": record.slug, "text": institutions.choice_label(record)} for record in page
            ],
            "pagination": {"more": page.has_next()},
        }
    )


@staff_report_view
def report_page(request, slug):
    report = get_report(slug)
    result = run(report, request.GET)
    options = ReportOptions(query_data(request.GET), report=report)
    context = {
        **admin.site.each_context(request),
        "title": report.title,
        "result": result,
        "form": result.filterset.form,
        "hidden": UNUSED_FILTERS,
        "options": [options[name] for name in report.options],
        "chart": chart_layout(result.chart()),
        # Rendered from our template, which escapes every label.
        "chart_svg": mark_safe(chart_svg(result)),  # noqa: S308
        "query": request.GET.urlencode(),
        "formats": list(FORMATS),
    }
    return render(request, "admin/backoffice/report.html", context)


@staff_report_view
def report_download(request, slug, format):
    report = get_report(slug)
    if format not in FORMATS:
        raise Http404
    result = run(report, request.GET)
    if result.errors:
        return HttpResponseBadRequest(
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in result.errors.items()),
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(report_file(result, format), content_type=FORMATS[format])
    logger.info(
        "Report %s downloaded as %s by %s: %s",
        slug,
        format,
        staff(request.user),
        request.GET.urlencode() or "no filters",
    )
    # A name in Chinese is sent as RFC 6266 says, with a plain fallback.
    return attachment(response, *report_words(result), extension=format)


def get_report(slug):
    try:
        return REPORTS[slug]
    except KeyError:
        raise Http404 from None
