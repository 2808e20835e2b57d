"""The shared vocabulary every app points at: institutions and focus areas."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from registry import locks
from registry.addresses import record_url, web_address_constraint
from registry.text import not_blank_constraint, visible


class InstitutionKind(models.TextChoices):
    UNIVERSITY = "university", _("university")
    COMPANY = "company", _("company")
    GOVERNMENT = "government", _("government body")
    RESEARCH_INSTITUTE = "research_institute", _("research institute")
    OTHER = "other", _("other")


class Institution(models.Model):
    """A university, company, government body or institute, or a unit of one (a branch, a
    college, a business group), which points to the larger institution as its parent."""

    name = models.CharField(_("official name"), validators=[visible], max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True, allow_unicode=True)
    native_name = models.CharField(
        _("native-script name"),
        validators=[visible],
        max_length=200,
        blank=True,
        help_text=_("华东师范大学"),
    )
    acronym = models.CharField(
        _("acronym"), validators=[visible], max_length=30, blank=True, help_text=_("ECNU")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=InstitutionKind.choices)
    country = CountryField(_("country"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("part of"),
        help_text=_("The larger institution this one is part of."),
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    logo_thumbnail = models.ImageField(
        _("logo thumbnail"), upload_to="logos/thumbnails/", blank=True, editable=False
    )
    ror = models.CharField(
        _("ROR id"),
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(
                # ror.org/about: "0", six characters of Crockford's base 32, a checksum of two
                # digits.
                r"^0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}$",
                _("A ROR id is nine characters, as 02n96ep67 in https://ror.org/02n96ep67."),
            )
        ],
        help_text=_("Research Organization Registry id"),
    )
    wikidata = models.CharField(
        _("Wikidata id"),
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(
                r"^Q[1-9][0-9]*$",
                _("A Wikidata id is Q and a number, as Q1194369."),
            )
        ],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        # In context: "institution" alone is also the count of a chart ("3 institutions").
        verbose_name = pgettext_lazy("record", "institution")
        verbose_name_plural = pgettext_lazy("record", "institutions")
        constraints = [
            models.UniqueConstraint(
                fields=["ror"], condition=~Q(ror=""), name="institution_ror_unique"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="institution_not_own_parent"),
            # What the forms and the importer refuse, refused also to a write past them.
            not_blank_constraint("name", "institution"),
            not_blank_constraint("slug", "institution"),
            not_blank_constraint("native_name", "institution", optional=True),
            not_blank_constraint("acronym", "institution", optional=True),
            models.CheckConstraint(
                condition=Q(kind__in=InstitutionKind.values), name="institution_kind_valid"
            ),
            web_address_constraint("website", "institution"),
        ]
        indexes = [
            # The "institution" filter of the search widens a parent to its units.
            models.Index(fields=["parent"], name="institution_parent_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("agreements:institution-detail", self.slug)

    def clean(self):
        if self.pk is None:
            return  # a new institution has no units, nor parties signed by one
        stored = Institution.objects.filter(pk=self.pk).values_list("parent", flat=True)
        if stored.first() == self.parent_id:
            return  # not moved: no new loop, no unit taken from under what it signed for
        # Another move waits until this one is saved, then looks at the tree as it is then:
        # two at once each found no loop in the other's, not yet committed (registry 0009).
        # Its form has taken it already, before it locked the row (registry.forms).
        locks.held_until_commit(locks.INSTITUTION_TREE)
        # Walked as stored now, not through parents read before the lock; a parent that is
        # gone (an earlier version restored) ends the walk, and its form says so.
        above = stored_line(self.parent_id)
        if self.pk in above:
            raise ValidationError({"parent": _("An institution cannot be part of itself.")})
        # Still below the institutions above both its old place and its new one (moved deeper
        # within its parent, say): only those it leaves can lose a unit that signed for them.
        left = [pk for pk in stored_line(self.pk)[1:] if pk not in above]
        if left:
            self.keep_signing_units_within(left)

    def keep_signing_units_within(self, left):
        """Refuse the move if this institution, or a unit of it, signed for one of the
        institutions it `left` (ids): a unit signs for an institution it is part of (Party.clean,
        the importer, a merge), and moved out from under it, the party failed its own check
        while the agreement counted towards the new parent on the public pages."""
        # Agreements' parties, reached through the relation: the registry imports no app.
        parties = self._meta.get_field("parties_as_unit").related_model._base_manager
        stranded = (
            parties.filter(institution__in=left, unit__in=with_units(self.pk))
            .select_related("agreement", "institution", "unit")
            .order_by(
                "unit__name",
                "unit",
                "institution__name",
                "institution",
                "agreement__title",
                "agreement",
            )
        )
        agreements = defaultdict(list)
        for party in stranded:
            agreements[party.unit, party.institution].append(party.agreement)
        if agreements:
            message = _(
                "{unit} signed for {institution} in {agreements}, and would no longer be part "
                "of it. Correct the unit of those parties first (another one, or none)."
            )
            raise ValidationError(
                {
                    "parent": [
                        format_html(
                            message,
                            unit=unit,
                            institution=institution,
                            agreements=linked_list(signed),
                        )
                        for (unit, institution), signed in agreements.items()
                    ]
                }
            )

    def ancestors(self):
        node, chain = self.parent, []
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


def with_units(pk):
    """The ids of institution `pk` and of every institution below it, at any depth, as a
    subquery (one recursive query, run inside the query that uses it)."""
    table = connection.ops.quote_name(Institution._meta.db_table)
    return RawSQL(  # noqa: S611 - a table name, and a parameter
        f"WITH RECURSIVE below (id) AS (SELECT id FROM {table} WHERE id = %s "  # noqa: S608
        f"UNION SELECT i.id FROM {table} i JOIN below b ON i.parent_id = b.id) "
        "SELECT id FROM below",
        [pk],
    )


def stored_line(pk):
    """`pk` and the ids of every institution above it, as stored now (a loop ends it)."""
    line = []
    while pk is not None and pk not in line:
        line.append(pk)
        pk = Institution.objects.filter(pk=pk).values_list("parent", flat=True).first()
    return line


def linked_list(records, shown=10):
    """The first `shown` records, each a link to its page in the admin, and how many more."""
    links = format_html_join(
        ", ",
        '<a href="{}">“{}”</a>',
        (
            (reverse(f"admin:{r._meta.app_label}_{r._meta.model_name}_change", args=[r.pk]), r)
            for r in records[:shown]
        ),
    )
    more = len(records) - shown
    if more <= 0:
        return links
    return format_html(
        "{} {}",
        links,
        ngettext("and %(counter)s more", "and %(counter)s more", more) % {"counter": more},
    )


class InstitutionAlias(models.Model):
    """Another name: a former name, a transliteration, a name in another script."""

    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        related_name="aliases",
        verbose_name=pgettext_lazy("field", "institution"),
    )
    name = models.CharField(_("name"), validators=[visible], max_length=200)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("other name")
        verbose_name_plural = _("other names")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "name"], name="institution_alias_unique"
            ),
            not_blank_constraint("name", "institution_alias"),
        ]

    def __str__(self):
        return self.name


class FocusAreaGroup(models.Model):
    name = models.CharField(_("name"), validators=[visible], max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("focus area group")
        verbose_name_plural = _("focus area groups")
        constraints = [
            not_blank_constraint("name", "focus_area_group"),
            not_blank_constraint("slug", "focus_area_group"),
        ]

    def __str__(self):
        return self.name


class FocusArea(models.Model):
    """A technology or field (5G, artificial intelligence, smart city): one vocabulary shared
    by agreements and labs."""

    name = models.CharField(_("name"), validators=[visible], max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    group = models.ForeignKey(
        FocusAreaGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="areas",
        verbose_name=_("group"),
    )
    description = models.TextField(_("description"), blank=True)

    history = HistoricalRecords()

    class Meta:
        # "artificial intelligence" before "Internet of Things", as names are read.
        ordering = [Lower("name")]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="focus_area_name_unique_ci",
                violation_error_message=_("A focus area with this name already exists."),
            ),
            not_blank_constraint("name", "focus_area"),
            not_blank_constraint("slug", "focus_area"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("agreements:focus-area-detail", self.slug)
