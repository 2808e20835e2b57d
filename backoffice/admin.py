"""Exports from the agreement admin: a selection (actions) or the whole filtered list (the
buttons above it), as CSV, XLSX or the interchange format, for staff with the export
permission only. Here rather than in agreements/admin.py because the interchange format belongs
to the back office, and agreements may not import from it."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.exports import csv_lines, xlsx_bytes
from agreements.models import Agreement
from backoffice.interchange import export_lines
from backoffice.report_files import FORMATS as REPORT_FORMATS
from backoffice.views import EXPORT_PERMISSION
from labs.admin import AgreementWithLabsAdmin

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": REPORT_FORMATS["xlsx"],
    "jsonl": "application/jsonl; charset=utf-8",
}


def export_response(request, agreements, format):
    """`agreements` (drafts too) as a download. CSV and JSON Lines are written as they are
    read, a chunk of agreements at a time, so memory stays flat however many there are."""
    # The exporters prefetch what they need; the changelist's own prefetching would clash.
    agreements = agreements.prefetch_related(None)

    def absolute_url(slug):
        return request.build_absolute_uri(reverse("agreements:detail", args=[slug]))

    if format == "csv":
        lines = csv_lines(agreements, absolute_url=absolute_url, with_status=True)
        response = StreamingHttpResponse(lines, content_type=EXPORT_FORMATS[format])
    elif format == "jsonl":
        response = StreamingHttpResponse(
            export_lines(agreements), content_type=EXPORT_FORMATS[format]
        )
    elif format == "xlsx":
        # openpyxl writes the whole workbook at the end; its write-only mode keeps the rows
        # out of memory, but not the file.
        content = xlsx_bytes(agreements, absolute_url=absolute_url, with_status=True)
        response = HttpResponse(content, content_type=EXPORT_FORMATS[format])
    else:
        raise Http404
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="agreements-{day}.{format}"'
    return response


admin.site.unregister(Agreement)


@admin.register(Agreement)
class AgreementAdmin(AgreementWithLabsAdmin):
    actions = [*AgreementWithLabsAdmin.actions, "export_csv", "export_xlsx", "export_jsonl"]

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

    @admin.action(description=_("Export selected agreements as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        return export_response(request, queryset, "csv")

    @admin.action(description=_("Export selected agreements as XLSX"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        return export_response(request, queryset, "xlsx")

    @admin.action(
        description=_("Export selected agreements as JSON Lines (interchange)"),
        permissions=["export"],
    )
    def export_jsonl(self, request, queryset):
        return export_response(request, queryset, "jsonl")

    def get_urls(self):
        export = path(
            "export.<str:format>",
            self.admin_site.admin_view(self.export_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request, format):
        """The changelist as filtered, searched and ordered by the same query string."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("These filters do not apply to agreements.")
        return export_response(request, changelist.get_queryset(request), format)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            "export_formats": list(EXPORT_FORMATS),
        }
        return super().changelist_view(request, extra_context)
