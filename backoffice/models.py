"""What the back office keeps of its own work: merges of duplicate records, and pairs that staff
said are not duplicates (backoffice/merging.py, backoffice/duplicates.py)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from people.models import Person
from registry.models import Institution


class RecordKind(models.TextChoices):
    INSTITUTION = "institution", pgettext_lazy("kind of record", "institution")
    PERSON = "person", pgettext_lazy("kind of record", "person")


class Merge(models.Model):
    """One merge: a duplicate record folded into the one that survives. The duplicate itself is
    deleted, so what it was is kept here as a snapshot, with the ids of every row that moved,
    for review. Its old slug also sends its public page on to the survivor."""

    kind = models.CharField(_("kind"), max_length=12, choices=RecordKind.choices)
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now, editable=False)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    # Where the duplicate's references are now: a later merge of the survivor itself moves
    # this on, so that an old address still finds the record that holds its references.
    survivor_institution = models.ForeignKey(
        Institution,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merges",
        verbose_name=_("survivor (institution)"),
    )
    survivor_person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merges",
        verbose_name=_("survivor (person)"),
    )
    survivor_name = models.CharField(_("survivor at the time"), max_length=200)
    duplicate_pk = models.PositiveIntegerField(_("id of the merged-away record"))
    duplicate_name = models.CharField(_("merged-away record"), max_length=200)
    duplicate_slug = models.CharField(_("merged-away slug"), max_length=80)
    duplicate = models.JSONField(
        _("the merged-away record"),
        encoder=DjangoJSONEncoder,
        help_text=_("Its fields and names, and the ids of the rows that pointed to it."),
    )
    moved = models.JSONField(_("what moved"), encoder=DjangoJSONEncoder, default=dict)
    notes = models.JSONField(
        _("notes"),
        encoder=DjangoJSONEncoder,
        default=list,
        help_text=_("What the merge could not keep as it was, in words."),
    )

    class Meta:
        ordering = ["-merged_at", "-pk"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RecordKind.values), name="merge_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=RecordKind.INSTITUTION, survivor_person__isnull=True)
                | Q(kind=RecordKind.PERSON, survivor_institution__isnull=True),
                name="merge_survivor_of_its_kind",
            ),
        ]
        indexes = [
            # A merged-away public address (/institutions/<slug>/) looks up where it went.
            models.Index(fields=["kind", "duplicate_slug"], name="merge_duplicate_slug_idx"),
        ]

    def __str__(self):
        return f"{self.duplicate_name} → {self.survivor_name}"

    @property
    def survivor(self):
        if self.kind == RecordKind.INSTITUTION:
            return self.survivor_institution
        return self.survivor_person


class NotDuplicate(models.Model):
    """Two records that staff said are not the same, so the list of likely duplicates stops
    showing them. Plain ids, not foreign keys, because one table serves institutions and
    people; a merge moves the survivor's pairs (merging.py), and ids are never reused."""

    kind = models.CharField(_("kind"), max_length=12, choices=RecordKind.choices)
    first_pk = models.PositiveIntegerField(_("first record's id"))
    second_pk = models.PositiveIntegerField(_("second record's id"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        verbose_name = _("pair that is not a duplicate")
        verbose_name_plural = _("pairs that are not duplicates")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RecordKind.values), name="not_duplicate_kind_valid"
            ),
            # Each pair once, in one order.
            models.CheckConstraint(
                condition=Q(first_pk__lt=models.F("second_pk")), name="not_duplicate_ordered"
            ),
            models.UniqueConstraint(
                fields=["kind", "first_pk", "second_pk"], name="not_duplicate_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.first_pk} ≠ {self.second_pk}"
