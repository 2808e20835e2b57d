from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agreements.forms import (
    AgreementForm,
    AgreementRelationForm,
    ParticipationForm,
    ParticipationFormSet,
    SourceFormSet,
)
from agreements.models import (
    Agreement,
    AgreementRelation,
    AgreementType,
    Participation,
    Party,
    Photo,
    Source,
)
from registry.admin import URL_FORMFIELD, HistoryAdmin, thumbnail
from registry.forms import ProcessedImageForm

# The publish and withdraw buttons (templates/admin/agreements/agreement/submit_line.html)
PUBLISH, WITHDRAW = "_publish", "_withdraw"


class PartyInline(admin.TabularInline):
    model = Party
    fields = ["institution", "unit", "position"]
    autocomplete_fields = ["institution", "unit"]

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj else 2  # most agreements have two parties


class ParticipationInline(admin.TabularInline):
    model = Participation
    form = ParticipationForm
    formset = ParticipationFormSet
    fields = ["person", "role", "title", "organisation", "on_behalf_of", "position"]
    autocomplete_fields = ["person", "organisation"]
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("party")


class SourceInline(admin.StackedInline):
    model = Source
    formset = SourceFormSet
    formfield_overrides = URL_FORMFIELD
    fields = [
        "url",
        ("title", "publisher"),
        ("published_on", "published_on_precision"),
        "note",
        "position",
    ]
    extra = 1


class PhotoInline(admin.TabularInline):
    model = Photo
    form = ProcessedImageForm
    fields = ["preview", "image", "image_url", "caption", "credit", "position"]
    readonly_fields = ["preview"]
    extra = 0

    @admin.display(description=_("thumbnail"))
    def preview(self, photo):
        return thumbnail(photo.thumbnail)


class AgreementRelationInline(admin.TabularInline):
    model = AgreementRelation
    form = AgreementRelationForm
    fk_name = "source"
    autocomplete_fields = ["target"]
    extra = 0
    verbose_name = _("relation to another agreement")
    verbose_name_plural = _("relations to other agreements")


@admin.register(Agreement)
class AgreementAdmin(HistoryAdmin):
    form = AgreementForm
    list_display = [
        "title",
        "party_names",
        "agreement_type",
        "signed",
        "focus_area_names",
        "status",
        "updated_at",
    ]
    list_filter = ["status", "agreement_type", "focus_areas"]
    list_select_related = ["agreement_type"]
    date_hierarchy = "signed_on"
    search_fields = [
        "title",
        "slug",
        "place",
        "parties__institution__name",
        "parties__institution__native_name",
        "parties__institution__acronym",
        "parties__unit__name",
        "participations__person__name",
        "participations__person__native_name",
    ]
    autocomplete_fields = ["focus_areas"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "published_at", "published_by", "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "agreement_type",
                    ("signed_on", "signed_on_precision"),
                    "place",
                    "summary",
                    "focus_areas",
                    "loaded_version",
                ]
            },
        ),
        (
            _("Term"),
            {
                "fields": [
                    ("starts_on", "starts_on_precision"),
                    ("ends_on", "ends_on_precision"),
                    "term_years",
                ]
            },
        ),
        (
            _("Publication"),
            {"fields": ["status", "published_at", "published_by", "created_at", "updated_at"]},
        ),
    ]
    # Parties come first: a signatory's party is looked up among the saved parties.
    inlines = [PartyInline, ParticipationInline, SourceInline, PhotoInline, AgreementRelationInline]
    actions = ["publish_selected", "withdraw_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("parties", queryset=Party.objects.select_related("institution", "unit")),
                "focus_areas",
            )
        )

    @admin.display(description=_("parties"))
    def party_names(self, agreement):
        return "; ".join(str(party) for party in agreement.parties.all())

    @admin.display(description=_("date signed"), ordering="signed_on")
    def signed(self, agreement):
        return agreement.signed

    @admin.display(description=_("focus areas"))
    def focus_area_names(self, agreement):
        return ", ".join(area.name for area in agreement.focus_areas.all())

    def has_publish_permission(self, request):
        return request.user.has_perm("agreements.publish_agreement")

    def publish(self, request, agreement):
        agreement.publish(by=request.user)
        self.log_change(request, agreement, _("Published."))

    def withdraw(self, request, agreement):
        agreement.withdraw()
        self.log_change(request, agreement, _("Withdrawn to draft."))

    @admin.action(description=_("Publish selected agreements"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        drafts = queryset.filter(status=Agreement.Status.DRAFT)
        for agreement in drafts:
            self.publish(request, agreement)
        count = len(drafts)
        self.message_user(
            request,
            ngettext("Published %(count)d agreement.", "Published %(count)d agreements.", count)
            % {"count": count},
        )

    @admin.action(description=_("Withdraw to draft"), permissions=["publish"])
    def withdraw_selected(self, request, queryset):
        published = queryset.filter(status=Agreement.Status.PUBLISHED)
        for agreement in published:
            self.withdraw(request, agreement)
        count = len(published)
        self.message_user(
            request,
            ngettext(
                "Withdrew %(count)d agreement to draft.",
                "Withdrew %(count)d agreements to draft.",
                count,
            )
            % {"count": count},
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        can_publish = self.has_publish_permission(request)
        if (PUBLISH in request.POST or WITHDRAW in request.POST) and not can_publish:
            raise PermissionDenied
        extra_context = {**(extra_context or {}), "can_publish": can_publish}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            # Reverting to an earlier version (simple_history) restores every field of it;
            # what the public sees changes only through publish() and withdraw().
            obj.refresh_from_db(fields=["status", "published_at", "published_by"])
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        agreement = form.instance
        if PUBLISH in request.POST and agreement.status == Agreement.Status.DRAFT:
            self.publish(request, agreement)
            self.message_user(request, _("“%(title)s” is published.") % {"title": agreement})
        elif WITHDRAW in request.POST and agreement.status == Agreement.Status.PUBLISHED:
            self.withdraw(request, agreement)
            self.message_user(
                request, _("“%(title)s” is withdrawn to draft.") % {"title": agreement}
            )


@admin.register(AgreementType)
class AgreementTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "synonyms", "agreement_count"]
    list_filter = [("agreements", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug", "synonyms"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(agreement_count=Count("agreements"))

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, agreement_type):
        return agreement_type.agreement_count
