from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from agreements.admin import PUBLISH_PERMISSION, AgreementAdmin, SearchRefreshedOnce
from agreements.models import Agreement
from labs.models import Lab, LabAgreement, LabHost
from registry.admin import HistoryAdmin, TabularInline, counted
from registry.forms import KeyForm, PartialDatesForm, SavedVersionForm


class LabHostInline(TabularInline):
    model = LabHost
    autocomplete_fields = ["institution"]
    extra = 1


class LabAgreementFormSet(BaseInlineFormSet):
    """A lab's agreements, from the lab's page. What an agreement did for a lab is a part of
    the agreement, which editors change while it is a draft only (AgreementAdmin): so linking
    an agreement past draft, changing or removing its link, is a publisher's to do here too."""

    may_publish = False  # set for the request by LabAgreementInline

    def clean(self):
        super().clean()
        if self.may_publish:
            return
        for form in self.forms:
            deleted = self._should_delete_form(form)
            if not (deleted or form.has_changed()):
                continue
            agreements = [form.instance.agreement if form.instance.pk else None]
            if not deleted:
                agreements.append(form.cleaned_data.get("agreement"))
            for agreement in agreements:
                if agreement is not None and agreement.status != Agreement.Status.DRAFT:
                    raise ValidationError(
                        _(
                            "“%(agreement)s” is %(status)s: only a publisher may change what "
                            "it did for this lab."
                        )
                        % {"agreement": agreement, "status": agreement.get_status_display()},
                        code="not_a_draft",
                    )

    def changed_agreements(self):
        """The keys of the agreements whose link to this lab a save of this formset added,
        changed or removed: a row's agreement before and after (a row may be moved from one
        agreement to another)."""
        keys = set()
        for form in self.forms:
            if self._should_delete_form(form) or form.has_changed():
                keys |= {form.initial.get("agreement"), form.instance.agreement_id}
        return keys - {None}


class LabAgreementInline(TabularInline):
    model = LabAgreement
    formset = LabAgreementFormSet
    autocomplete_fields = ["agreement"]
    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a class made for this request
        formset.may_publish = request.user.has_perm(PUBLISH_PERMISSION)
        return formset


class LabForm(SavedVersionForm, KeyForm, PartialDatesForm):
    pass


@admin.register(Lab)
class LabAdmin(SearchRefreshedOnce, HistoryAdmin):
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
    form = LabForm
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
        "loaded_version",
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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # An agreement's page and record list its labs: a link changed here changes what the
        # public sees of the agreement, as its own form's lab rows do. The lab's own fields
        # (its name, its status) are the lab's update, as an institution's name is its own.
        linked = set()
        for formset in formsets:
            if isinstance(formset, LabAgreementFormSet):
                linked |= formset.changed_agreements()
        if linked:
            Agreement.objects.filter(pk__in=linked).parts_changed()

    def delete_model(self, request, obj):
        linked = list(obj.agreements.values_list("pk", flat=True))
        super().delete_model(request, obj)
        Agreement.objects.filter(pk__in=linked).parts_changed()

    def delete_queryset(self, request, queryset):
        links = LabAgreement.objects.filter(lab__in=queryset)
        linked = list(links.values_list("agreement", flat=True).distinct())
        super().delete_queryset(request, queryset)
        Agreement.objects.filter(pk__in=linked).parts_changed()

    @admin.display(description=_("established"), ordering="established_on")
    def established(self, lab):
        return lab.established

    @admin.display(description=_("hosts"))
    def host_names(self, lab):
        return "; ".join(str(host) for host in lab.labhost_set.all())

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, lab):
        return lab.agreement_count


class AgreementLabInline(TabularInline):
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
