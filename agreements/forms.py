"""The admin's forms for the parts of an agreement: the rules that span rows or formsets."""

import re
from collections import defaultdict

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from agreements.models import AgreementRelation, Participation, Role
from registry.admin import ReadableAutocompleteSelect, label_relations
from registry.forms import KeyForm, PartialDatesForm, SavedVersionForm
from registry.models import Institution

# A field of a row of the party inline, whose prefix is its default: Party's related_name.
PARTY_ROW_FIELD = re.compile(r"parties-(?P<row>\d+)-(?P<field>institution|unit|DELETE)")


class ParticipationForm(forms.ModelForm):
    """A participation whose party is given as the institution the signatory signed for: on a
    new agreement the parties are not saved yet, so there is no Party to choose. On saving, it
    becomes the agreement's party with that institution, or with that signing unit."""

    on_behalf_of = forms.ModelChoiceField(
        queryset=Institution.objects.all(),
        required=False,
        label=_("signed on behalf of"),
        help_text=_("For a signatory: one of the parties, or the unit that signed for it."),
        # The admin's autocomplete view serves a foreign key of a registered model; any
        # foreign key to Institution does, and this one has no limit on its choices.
        widget=ReadableAutocompleteSelect(
            Participation._meta.get_field("organisation"), admin.site
        ),
    )

    class Meta:
        model = Participation
        fields = ["person", "role", "title", "organisation", "on_behalf_of", "position"]

    def __init__(self, *args, party_institutions=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.party_institutions = party_institutions
        # Named as the autocomplete names its choices (with a unit's parent).
        institutions = admin.site.get_model_admin(Institution)
        on_behalf_of = self.fields["on_behalf_of"]
        on_behalf_of.label_from_instance = institutions.choice_label
        on_behalf_of.queryset = on_behalf_of.queryset.select_related(*label_relations(institutions))
        if party := self.instance.party:
            # The unit that signed for the party, where one did: what the editor chose (the
            # party is the same either way, so saving it again changes nothing).
            self.initial.setdefault("on_behalf_of", party.unit_id or party.institution_id)
            # Shown without a query of its own (ParticipationInline selects the party's).
            self.fields["on_behalf_of"].widget.chosen = party.unit or party.institution

    def clean(self):
        cleaned_data = super().clean()
        institution, role = cleaned_data.get("on_behalf_of"), cleaned_data.get("role")
        if institution and role and role != Role.SIGNATORY:
            self.add_error(
                "on_behalf_of",
                _("Only a signatory signs on behalf of a party: leave this empty for a %(role)s.")
                % {"role": Role(role).label},
            )
        elif institution and str(institution.pk) not in self.party_institutions:
            self.add_error(
                "on_behalf_of",
                _(
                    "%(institution)s is not a party to this agreement, nor the unit of one: "
                    "add it to the parties, or choose one of them."
                )
                % {"institution": institution},
            )
        # The party is looked up on saving, after the parties; until then the model's own
        # checks must not judge the party this row had before.
        self.instance.party = None
        return cleaned_data

    def save(self, commit=True):
        institution = self.cleaned_data["on_behalf_of"]
        if institution:
            parties = self.instance.agreement.parties
            self.instance.party = (
                parties.filter(institution=institution).first()
                or parties.filter(unit=institution).first()
            )
        return super().save(commit)


class ParticipationFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "party_institutions": self.party_institutions}

    @cached_property
    def party_institutions(self):
        """The ids of the institutions and units of the party rows sent in the same POST.

        The admin validates each inline formset on its own, and the parties of a new agreement
        are not in the database yet, so a signatory's party can only be checked against the
        rows of the party formset as submitted."""
        rows = defaultdict(dict)
        for key, value in self.data.items():
            if match := PARTY_ROW_FIELD.fullmatch(key):
                rows[match["row"]][match["field"]] = value
        return {
            row[field]
            for row in rows.values()
            if not row.get("DELETE")
            for field in ("institution", "unit")
            if row.get(field)
        }


class PartyFormSet(BaseInlineFormSet):
    def clean(self):
        # As the interchange format asks of every agreement: one without a party would be
        # exported as a line that no import takes.
        super().clean()
        if not any(
            getattr(form, "cleaned_data", {}).get("institution")
            and not self._should_delete_form(form)
            for form in self.forms
        ):
            raise ValidationError(
                _("An agreement needs at least one party: an institution that signed it."),
                code="no_party",
            )


class SourceFormSet(BaseInlineFormSet):
    def clean(self):
        # The database allows one source per address and agreement; the formset's own unique
        # checks leave out conditional constraints such as that one.
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.is_valid() or self._should_delete_form(form):
                continue
            url = form.cleaned_data.get("url")
            if url and url in seen:
                raise ValidationError(
                    _("Two sources have the same address: %(url)s") % {"url": url}
                )
            seen.add(url)


class AgreementRelationForm(forms.ModelForm):
    class Meta:
        model = AgreementRelation
        fields = ["type", "target"]

    def clean(self):
        cleaned_data = super().clean()
        target = cleaned_data.get("target")
        if target and target.pk == self.instance.source_id:
            self.add_error("target", _("An agreement cannot be related to itself."))
        return cleaned_data


class AgreementForm(SavedVersionForm, KeyForm, PartialDatesForm):
    # The model's field would offer 0 (a positive small integer), which the database refuses.
    term_years = forms.IntegerField(
        label=_("term in years"), min_value=1, max_value=32767, required=False
    )
