from django.contrib import admin
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from agreements.admin import AgreementAdmin
from agreements.models import Agreement
from labs.models import Lab, LabAgreement, LabHost
from registry.admin import HistoryAdmin, counted


class LabHostInline(admin.TabularInline):
    model = LabHost
    autocomplete_fields = ["institution"]
    extra = 1


class LabAgreementInline(admin.TabularInline):
    model = LabAgreement
    autocomplete_fields = ["agreement"]
    extra = 1


@admin.register(Lab)
class LabAdmin(HistoryAdmin):
    list_display = ["name", "status", "established", "host_names", "agreement_count"]
    list_filter = ["status", "focus_areas"]
    search_fields = [
        "name",
        "slug",
        "description",
        "hosts__name",
        "hosts__native_name",
        "hosts__acronym",
    ]
    autocomplete_fields = ["focus_areas"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "status",
        ("established_on", "established_on_precision"),
        "description",
        "focus_areas",
        "created_at",
        "updated_at",
    ]
    inlines = [LabHostInline, LabAgreementInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(agreement_count=counted(Lab, "agreements"))
            .prefetch_related(
                Prefetch("labhost_set", queryset=LabHost.objects.select_related("institution"))
            )
        )

    @admin.display(description=_("established"), ordering="established_on")
    def established(self, lab):
        return lab.established

    @admin.display(description=_("hosts"))
    def host_names(self, lab):
        return "; ".join(str(host) for host in lab.labhost_set.all())

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, lab):
        return lab.agreement_count


class AgreementLabInline(admin.TabularInline):
    model = LabAgreement
    autocomplete_fields = ["lab"]
    extra = 0
    verbose_name = _("lab")
    verbose_name_plural = _("labs planned, founded or extended")


# Agreements must not import from labs, so the agreement admin gains its labs here.
admin.site.unregister(Agreement)


@admin.register(Agreement)
class AgreementWithLabsAdmin(AgreementAdmin):
    inlines = [*AgreementAdmin.inlines, AgreementLabInline]
