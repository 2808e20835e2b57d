from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from agreements.models import Agreement
from registry.addresses import record_url
from registry.dates import (
    PartialDate,
    period_start_constraint,
    precision_constraint,
    precision_field,
    settle_partial_dates,
)
from registry.models import FocusArea, Institution
from registry.text import not_blank_constraint, visible


class Lab(models.Model):
    """A joint lab, centre or academy, founded, planned or extended under agreements."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        ESTABLISHED = "established", _("established")
        CLOSED = "closed", _("closed")

    name = models.CharField(_("name"), validators=[visible], max_length=300)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    established_on_precision = precision_field()
    description = models.TextField(_("description"), blank=True)
    hosts = models.ManyToManyField(
        Institution, through="LabHost", related_name="labs", blank=True, verbose_name=_("hosts")
    )
    focus_areas = models.ManyToManyField(
        FocusArea, blank=True, related_name="labs", verbose_name=_("focus areas")
    )
    agreements = models.ManyToManyField(
        Agreement,
        through="LabAgreement",
        related_name="labs",
        blank=True,
        verbose_name=pgettext_lazy("record", "agreements"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[focus_areas])

    class Meta:
        ordering = ["name"]
        verbose_name = _("lab")
        verbose_name_plural = _("labs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["proposed", "established", "closed"]),
                name="lab_status_valid",
            ),
            precision_constraint("established_on", "lab"),
            period_start_constraint("established_on", "lab"),
            not_blank_constraint("name", "lab"),
            not_blank_constraint("slug", "lab"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("labs:detail", self.slug)

    @property
    def established(self):
        return PartialDate.from_fields(self.established_on, self.established_on_precision)

    def clean(self):
        settle_partial_dates(self, "established_on")


class LabHost(models.Model):
    """An institution that hosts a lab. Its own model so that deleting a host is refused."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, verbose_name=_("lab"))
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, verbose_name=pgettext_lazy("field", "institution")
    )
    position = models.PositiveSmallIntegerField(pgettext_lazy("order", "position"), default=0)

    # Edited in the lab's form, and moved by merges of institutions: listed in the lab's
    # history (registry/history.py) as its other parts are.
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("lab host")
        verbose_name_plural = _("lab hosts")
        constraints = [
            models.UniqueConstraint(fields=["lab", "institution"], name="lab_host_once"),
        ]

    def __str__(self):
        return str(self.institution)


class LabAgreement(models.Model):
    """What an agreement did for a lab: planned it, founded it, or extended one that existed."""

    class Outcome(models.TextChoices):
        PROPOSED = "proposed", _("planned under this agreement")
        FOUNDED = "founded", _("founded under this agreement")
        EXTENDED = "extended", _("extended under this agreement")

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, verbose_name=_("lab"))
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, verbose_name=pgettext_lazy("field", "agreement")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lab's agreement")
        verbose_name_plural = _("lab's agreements")
        constraints = [
            models.UniqueConstraint(fields=["lab", "agreement"], name="lab_agreement_once"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["proposed", "founded", "extended"]),
                name="lab_agreement_outcome_valid",
            ),
        ]

    def __str__(self):
        return f"{self.lab}: {self.get_outcome_display()}"
