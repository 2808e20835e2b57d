"""Exports from the agreement admin: a selection (actions) or the whole filtered list (the
buttons above it), as CSV, XLSX or the interchange format, for staff with the export
permission only. Here rather than in agreements/admin.py because the interchange format belongs
to the back office, and agreements may not import from it."""

import json
import logging

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agreements.admin import SearchRefreshedOnce
from agreements.exports import csv_lines, page_addresses, xlsx_bytes
from agreements.models import Agreement
from backoffice import spreadsheet
from backoffice.attention import AttentionFilter
from backoffice.interchange import export_lines
from backoffice.merge_views import KINDS, may_merge, warn_of_likely_duplicates
from backoffice.models import Merge, NotDuplicate, RecordKind
from backoffice.report_files import FORMATS as REPORT_FORMATS
from backoffice.views import EXPORT_PERMISSION
from labs.admin import AgreementWithLabsAdmin
from people.admin import PersonAdmin
from people.models import Person
from registry.admin import DateHierarchyChecked, InstitutionAdmin
from registry.logs import staff
from registry.models import Institution
from registry.text import attachment

logger = logging.getLogger(__name__)

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": REPORT_FORMATS["xlsx"],
    "jsonl": "application/jsonl; charset=utf-8",
    # The spreadsheet importer's own columns (backoffice.spreadsheet), to correct and import back.
    "import.xlsx": REPORT_FORMATS["xlsx"],
    "import.csv": "text/csv; charset=utf-8",
}
# How the buttons above the list name the formats.
EXPORT_LABELS = {
    "csv": "CSV",
    "xlsx": "XLSX",
    "jsonl": "JSONL",
    "import.xlsx": _("spreadsheet to import (XLSX)"),
    "import.csv": _("spreadsheet to import (CSV)"),
}


def export_response(request, agreements, format):
    """`agreements` (drafts too) as a download. CSV and JSON Lines are written as they are
    read, a chunk of agreements at a time, so memory stays flat however many there are."""
    # The exporters prefetch what they need; the changelist's own prefetching would clash.
    agreements = agreements.prefetch_related(None)
    absolute_url = page_addresses(request)
    if format == "csv":
        lines = csv_lines(agreements, absolute_url=absolute_url, with_status=True)
        response = StreamingHttpResponse(lines, content_type=EXPORT_FORMATS[format])
    elif format == "jsonl":
        response = StreamingHttpResponse(
            export_lines(agreements), content_type=EXPORT_FORMATS[format]
        )
    elif format == "import.csv":
        response = StreamingHttpResponse(
            spreadsheet.export_csv(agreements), content_type=EXPORT_FORMATS[format]
        )
    elif format == "xlsx":
        # openpyxl writes the whole workbook at the end; its write-only mode keeps the rows
        # out of memory, but not the file. (So for import.xlsx.)
        content = xlsx_bytes(agreements, absolute_url=absolute_url, with_status=True)
        response = HttpResponse(content, content_type=EXPORT_FORMATS[format])
    elif format == "import.xlsx":
        content = spreadsheet.export_xlsx(agreements)
        response = HttpResponse(content, content_type=EXPORT_FORMATS[format])
    else:
        raise Http404
    # Drafts leaving the building: how many, in a count of its own (streamed files are read
    # only as they are sent).
    counts = agreements.aggregate(
        total=Count("pk"), unpublished=Count("pk", filter=~Q(status=Agreement.Status.PUBLISHED))
    )
    logger.info(
        "Export of agreements as %s by %s: agreements=%d unpublished=%d",
        format,
        staff(request.user),
        counts["total"],
        counts["unpublished"],
    )
    # agreements-to-import-2026-12-07.xlsx for import.xlsx
    purpose, _dot, extension = format.rpartition(".")
    words = ["agreements", "to", purpose] if purpose else ["agreements"]
    return attachment(response, *words, timezone.localdate().isoformat(), extension=extension)


admin.site.unregister(Agreement)


def export_action(name, format, description):
    """An action of the list exporting the selected agreements as `format`."""

    @admin.action(description=description, permissions=["export"])
    def export(modeladmin, request, queryset):
        return export_response(request, queryset, format)

    export.__name__ = name  # the action's name in the form, and so in its address
    return export


@admin.register(Agreement)
class AgreementAdmin(AgreementWithLabsAdmin):
    actions = [
        *AgreementWithLabsAdmin.actions,
        export_action("export_csv", "csv", _("Export selected agreements as CSV")),
        export_action("export_xlsx", "xlsx", _("Export selected agreements as XLSX")),
        export_action(
            "export_jsonl", "jsonl", _("Export selected agreements as JSON Lines (interchange)")
        ),
        export_action(
            "export_import_xlsx",
            "import.xlsx",
            _("Export selected agreements as a spreadsheet to import (XLSX)"),
        ),
        export_action(
            "export_import_csv",
            "import.csv",
            _("Export selected agreements as a spreadsheet to import (CSV)"),
        ),
    ]
    # What the needs-attention page links to (backoffice/attention.py).
    list_filter = [*AgreementWithLabsAdmin.list_filter, AttentionFilter]

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

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
            "export_formats": EXPORT_LABELS.items(),
        }
        return super().changelist_view(request, extra_context)


class WarnsOfDuplicatesAdmin(admin.ModelAdmin):
    """Warns, once a record is added, of the records it is likely the same as
    (backoffice.merge_views), under the name of its kind in the duplicates' pages; its list
    links to those pages for staff who may merge."""

    duplicates = None  # "institutions" or "people"
    change_list_template = "admin/change_list_with_duplicates.html"

    def changelist_view(self, request, extra_context=None):
        may = request.user.has_perms(KINDS[self.duplicates].permissions)
        context = {"duplicates": self.duplicates if may else None, **(extra_context or {})}
        return super().changelist_view(request, context)

    def response_add(self, request, obj, post_url_continue=None):
        # Here, after its other names (inlines) are saved too: they may be what matches.
        warn_of_likely_duplicates(request, self.duplicates, obj)
        return super().response_add(request, obj, post_url_continue)


# Institutions and people are registered by their own apps, which may not import from the
# back office or agreements; here they gain the back office's warning of duplicates, as
# agreements gain its exports, one refresh of the search a save, and the filter that lists what
# the needs-attention page counts (backoffice/attention.py).
admin.site.unregister(Institution)


@admin.register(Institution)
class InstitutionWithDuplicatesAdmin(SearchRefreshedOnce, WarnsOfDuplicatesAdmin, InstitutionAdmin):
    duplicates = "institutions"
    list_filter = [*InstitutionAdmin.list_filter, AttentionFilter]


admin.site.unregister(Person)


@admin.register(Person)
class PersonWithDuplicatesAdmin(SearchRefreshedOnce, WarnsOfDuplicatesAdmin, PersonAdmin):
    duplicates = "people"
    list_filter = [*PersonAdmin.list_filter, AttentionFilter]


class MergePermissions:
    """Merges are reviewed, and dismissed pairs restored, by staff who may merge (either
    kind of record); nobody writes these rows but the merge pages."""

    def has_view_permission(self, request, obj=None):
        return bool(may_merge(request.user))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Merge)
class MergeAdmin(MergePermissions, DateHierarchyChecked, admin.ModelAdmin):
    list_display = [
        "merged_at",
        "kind",
        "duplicate_name",
        "survivor_link",
        "merged_by",
        "moved_summary",
    ]
    list_filter = ["kind", "merged_at"]
    list_select_related = ["merged_by", "survivor_institution", "survivor_person"]
    search_fields = ["duplicate_name", "duplicate_slug", "survivor_name"]
    date_hierarchy = "merged_at"
    fields = [
        "kind",
        "merged_at",
        "merged_by",
        "survivor_link",
        "survivor_name",
        "duplicate_name",
        "duplicate_slug",
        "duplicate_pk",
        "duplicate_history",
        "moved_summary",
        "notes_list",
        "snapshot",
    ]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("survivor now"))
    def survivor_link(self, merge):
        survivor = merge.survivor
        if survivor is None:
            return _("(deleted)")
        opts = survivor._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[survivor.pk])
        return format_html('<a href="{}">{}</a>', url, survivor)

    @admin.display(description=_("the merged-away record's history"))
    def duplicate_history(self, merge):
        # Its versions, readable (not restorable) after it is gone: nothing else links to them.
        opts = (Institution if merge.kind == RecordKind.INSTITUTION else Person)._meta
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_history", args=[merge.duplicate_pk]
        )
        return format_html('<a href="{}">{}</a>', url, merge.duplicate_name)

    @admin.display(description=_("what moved"))
    def moved_summary(self, merge):
        return ", ".join(
            f"{name.replace('_', ' ')}: {', '.join(value) if isinstance(value, list) else value}"
            for name, value in merge.moved.items()
            if value
        )

    @admin.display(description=_("notes"))
    def notes_list(self, merge):
        return format_html_join("", "<p>{}</p>", ((note,) for note in merge.notes))

    @admin.display(description=_("the merged-away record"))
    def snapshot(self, merge):
        text = json.dumps(merge.duplicate, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html("<pre>{}</pre>", text)


@admin.register(NotDuplicate)
class NotDuplicateAdmin(MergePermissions, admin.ModelAdmin):
    """Deleting a row shows its pair among the likely duplicates again."""

    list_display = ["kind", "first_pk", "second_pk", "decided_by", "decided_at"]
    list_filter = ["kind"]
    list_select_related = ["decided_by"]

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request)


# What each staff group may do (the permissions are given by migration 0001_staff_groups), as
# the page of a user says it: the administrator choosing a group need not know the permissions.
STAFF_GROUPS = {
    "Editors": _(
        "enter and correct agreements, institutions, people and labs, import files, submit "
        "drafts for review and take them back; they change drafts only and cannot publish"
    ),
    "Publishers": _(
        "also review: publish, send back, withdraw and restore agreements, delete records and "
        "edit agreement types"
    ),
}

admin.site.unregister(User)


def recorded_work(user):
    """How many rows name the user as who did something: history entries, the admin's log,
    moves, merges, publications. Every relation to users in the project, one count each."""
    return sum(
        relation.related_model._base_manager.filter(**{relation.field.name: user}).count()
        for relation in User._meta.get_fields(include_hidden=True)
        # Not the tables of the user's own groups and permissions, which go with the user.
        if relation.one_to_many and not relation.related_model._meta.auto_created
    )


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    def get_deleted_objects(self, objs, request):
        """A user who did anything is not deleted: the admin's log of their changes would go
        with them, and every history entry, move and merge would name no one. Listed as
        protected, which the admin's delete page and action refuse (Django's advice too:
        untick "Active", which ends the access at once and keeps the name)."""
        deleted, counts, permissions_needed, protected = super().get_deleted_objects(objs, request)
        for user in objs:
            if count := recorded_work(user):
                message = ngettext(
                    "%(user)s: %(count)s record of their work names them; untick “Active” "
                    "instead, which ends their access and keeps their name on what they did",
                    "%(user)s: %(count)s records of their work name them; untick “Active” "
                    "instead, which ends their access and keeps their name on what they did",
                    count,
                )
                protected.append(message % {"user": user.get_username(), "count": count})
        return deleted, counts, permissions_needed, protected

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "groups" in form.base_fields:
            roles = "; ".join(f"{name}: {what}" for name, what in STAFF_GROUPS.items())
            form.base_fields["groups"].help_text = _(
                "%(roles)s. Without “Staff status” no group lets anyone sign in."
            ) % {"roles": roles}
        return form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        if not user.is_staff and user.groups.filter(name__in=STAFF_GROUPS).exists():
            message = _(
                "“%(user)s” cannot sign in to the back office until “Staff status” is ticked."
            )
            self.message_user(request, message % {"user": user.get_username()}, messages.WARNING)
