"""What changed in a record's parts: the rows edited in its admin form's inlines (an agreement's
parties, people, sources, photos and relations; an institution's aliases and units …), each
kept in simple_history's table of its own model, listed on the record's History page beside
its own versions, field by field (old → new)."""

from dataclasses import dataclass, field

from django.db import models
from django.forms.models import _get_foreign_key
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from registry.dates import PartialDate

# Changed whenever a row above it is removed: listed, it would bury what did change.
UNLISTED = {"position", "updated_at"}
ACTIONS = {"+": _("Added"), "~": _("Changed"), "-": _("Removed")}


@dataclass
class PartChange:
    when: object
    user: object
    action: str  # simple_history's "+", "~" or "-"
    kind: str  # the part's model, as the admin names it
    label: str
    fields: list = field(default_factory=list)  # (field's name, old, new)
    # Changed, but its earlier values were never recorded: an import wrote it in bulk.
    unrecorded: bool = False

    @property
    def action_label(self):
        return ACTIONS[self.action]


def part_changes(record, inlines, *, limit):
    """The latest `limit` changes to the parts of `record` that the `inlines` (InlineModelAdmin
    classes) edit and whose models keep a history; a query per such model, and one per other
    foreign key of theirs."""
    changes = []
    for inline in inlines:
        model = inline.model
        if not hasattr(model, "history"):
            continue
        # The key the inline's form set joins on, found as Django's inlines find it.
        key = _get_foreign_key(type(record), model, fk_name=inline.fk_name)
        versions = list(
            model.history.filter(**{key.attname: record.pk})
            .select_related("history_user")
            .order_by("id", "history_date", "history_id")
        )
        related = related_records(model, versions, skip=key)
        before = {}
        for version in versions:
            changes.append(part_change(version, before.get(version.id), record, key, related))
            before[version.id] = version
    changes.sort(key=lambda part: part.when, reverse=True)
    return changes[:limit]


def related_records(model, versions, *, skip):
    """{field name: {key: record}} for the model's other foreign keys, as the versions name
    them, each read once with what its own name is made of."""
    found = {}
    for fk in model._meta.concrete_fields:
        if not fk.is_relation or fk == skip:
            continue
        keys = {getattr(version, fk.attname) for version in versions} - {None}
        target = fk.related_model
        names_from = [f.name for f in target._meta.concrete_fields if f.is_relation]
        found[fk.name] = target._base_manager.select_related(*names_from).in_bulk(keys)
        if (gone := keys - found[fk.name].keys()) and hasattr(target, "history"):
            # Deleted since (a person removed once nothing named them): named as they were.
            last = target.history.filter(id__in=gone).order_by("id", "-history_date")
            for version in last:
                found[fk.name].setdefault(version.id, version.instance)
    return found


def part_change(version, older, record, key, related):
    instance = version.instance
    setattr(instance, key.name, record)
    for name, records in related.items():
        target = records.get(getattr(instance, f"{name}_id", None))
        if target is not None:
            setattr(instance, name, target)
    part = PartChange(
        when=version.history_date,
        user=version.history_user,
        action=version.history_type,
        kind=type(instance)._meta.verbose_name,
        label=label(instance),
    )
    if version.history_type == "~" and older is None:
        part.unrecorded = True
    elif version.history_type == "~":
        delta = version.diff_against(older, excluded_fields=UNLISTED | {key.name})
        for name in dict.fromkeys(date_of(instance, change.field) for change in delta.changes):
            if hasattr(instance, f"{name}_precision"):  # a partial date, shown as one
                old, new = (partial(v, name) for v in (older, version))
            else:
                attname = instance._meta.get_field(name).attname  # a key, not its record
                old, new = (
                    shown(instance, name, getattr(v, attname), related) for v in (older, version)
                )
            verbose_name = capfirst(instance._meta.get_field(name).verbose_name)
            part.fields.append((verbose_name, old, new))
    return part


def date_of(instance, name):
    """A partial date's precision changes with its date: both are shown as that date."""
    date = name.removesuffix("_precision")
    return date if date != name and hasattr(instance, date) else name


def partial(version, name):
    value = PartialDate.from_fields(getattr(version, name), getattr(version, f"{name}_precision"))
    return value.isoformat() if value else "—"


def label(instance):
    """The part's own name, or its kind and number where what it is named after is gone."""
    try:
        return str(instance)
    except models.ObjectDoesNotExist:
        return f"{instance._meta.verbose_name} {instance.pk}"


def shown(instance, name, value, related):
    """A value as a person reads it: a choice by its label, a record by its name."""
    model_field = instance._meta.get_field(name)
    if value in (None, ""):
        return "—"
    if model_field.is_relation:
        target = related.get(name, {}).get(value)
        return str(target) if target is not None else f"#{value}"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)
