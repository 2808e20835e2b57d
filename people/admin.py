from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from people.models import Person, PersonAlias
from registry.admin import (
    HistoryAdmin,
    PopupFormAdmin,
    TabularInline,
    counted,
)
from registry.forms import PersonForm


class PersonAliasInline(TabularInline):
    model = PersonAlias
    extra = 1


@admin.register(Person)
class PersonAdmin(PopupFormAdmin, HistoryAdmin):
    """Registered again by the back office, which warns of duplicates (backoffice/admin.py)."""

    form = PersonForm
    list_display = ["name", "native_name", "other_names", "slug", "agreement_count"]
    list_filter = ["participations__role"]
    search_fields = ["name", "native_name", "aliases__name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PersonAliasInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(agreement_count=counted(Person, "participations__agreement", distinct=True))
            .prefetch_related("aliases")
        )

    @admin.display(description=_("aliases"))
    def other_names(self, person):
        return ", ".join(alias.name for alias in person.aliases.all())

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, person):
        return person.agreement_count
