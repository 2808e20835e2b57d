from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.addresses import record_url
from registry.text import not_blank_constraint, visible


class Person(models.Model):
    """Someone who signed, witnessed or attended an agreement. Titles are not kept here: a
    person's title belongs to each agreement (see Participation), because titles change."""

    name = models.CharField(_("name"), validators=[visible], max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        allow_unicode=True,
        help_text=_("Also the person's key in import files: it tells apart namesakes."),
    )
    native_name = models.CharField(
        _("native-script name"), validators=[visible], max_length=200, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # An institution's page lists its people by name a page at a time: in this order,
        # the first page is found without reading all of them (agreements/pages.py).
        indexes = [models.Index(fields=["name", "id"], name="person_name_idx")]
        # What the forms and the importer refuse, refused also to a write past them.
        constraints = [
            not_blank_constraint("name", "person"),
            not_blank_constraint("slug", "person"),
            not_blank_constraint("native_name", "person", optional=True),
        ]

    def __str__(self):
        return f"{self.name} ({self.native_name})" if self.native_name else self.name

    def get_absolute_url(self):
        return record_url("agreements:person-detail", self.slug)

    def all_names(self):
        names = [self.name, self.native_name] + [alias.name for alias in self.aliases.all()]
        return [name for name in dict.fromkeys(names) if name]


class PersonAlias(models.Model):
    """The same person reported under another name ("Zhang Yong" and "Daniel Zhang")."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("person")
    )
    name = models.CharField(_("name"), validators=[visible], max_length=200)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("other name")
        verbose_name_plural = _("other names")
        constraints = [
            models.UniqueConstraint(fields=["person", "name"], name="person_alias_unique"),
            not_blank_constraint("name", "person_alias"),
        ]

    def __str__(self):
        return self.name
