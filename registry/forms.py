import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from registry import locks
from registry.dates import DatePrecision
from registry.images import process_image
from registry.models import FocusArea

# A date known to the month or the year as editors type it, the first of each as it is shown
# again: 2019-07, 2019/07, 2019-7 or 2019年7月; 2019 or 2019年.
INPUT_FORMATS = {
    DatePrecision.MONTH: ["%Y-%m", "%Y/%m", "%Y年%m月"],
    DatePrecision.YEAR: ["%Y", "%Y年"],
}
# A day in Chinese, 2019年7月3日: Django's Chinese formats spell it with directives Python's
# strptime does not know (%n, %j), so that it was refused.
DAY_INPUT_FORMATS = ["%Y年%m月%d日"]


def typed_precision(text):
    """The precision of a date typed in one of INPUT_FORMATS, or None (a day, or no date)."""
    for precision, formats in INPUT_FORMATS.items():
        for format in formats:
            try:
                datetime.datetime.strptime(text.strip(), format)
            except ValueError:
                continue
            return precision
    return None


class PartialDatesForm(forms.ModelForm):
    """An admin form whose dates may be known to the month or year only (each beside its
    `<name>_precision` field): "2019-07" or "2019" is read as such, and sets the precision,
    so that nobody need type a day nobody reported. The model's clean() stores the first day
    of the period (registry/dates.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.partial_dates():
            field = self.fields[name]
            field.input_formats = [
                *field.input_formats,
                *DAY_INPUT_FORMATS,
                *(format for formats in INPUT_FORMATS.values() for format in formats),
            ]
            field.error_messages["invalid"] = _(
                "Enter a date as 2019-07-03, or as 2019-07 or 2019 when only the month or the "
                "year is known."
            )
            # Shown as it would be typed: a date known to the month is not the 1st of that
            # month. (Its initial value stays a date, so that an unchanged form is unchanged.)
            precision = self.initial.get(f"{name}_precision")
            if precision in INPUT_FORMATS:
                field.widget.format = INPUT_FORMATS[precision][0]

    def partial_dates(self):
        return [name for name in self.fields if f"{name}_precision" in self.fields]

    def clean(self):
        cleaned_data = super().clean()
        for name in self.partial_dates():
            precision = typed_precision(self.data.get(self.add_prefix(name)) or "")
            if cleaned_data.get(name) and precision:
                cleaned_data[f"{name}_precision"] = precision
        return cleaned_data


class ProcessedImageForm(forms.ModelForm):
    """An admin form (the admin supplies the model and the fields) for a model with an
    uploaded image and the thumbnail made from it, named `image` and `thumbnail` unless
    told otherwise. What is stored is never the upload but what process_image makes of it."""

    image_field = "image"
    thumbnail_field = "thumbnail"
    # Given to the record as it is saved, not before: a form refused (by any of the page's
    # fields) is shown again with the record's thumbnail, where a new upload's, never
    # stored, was a broken image.
    new_thumbnail = None

    def clean(self):
        cleaned_data = super().clean()
        upload = cleaned_data.get(self.image_field)
        if isinstance(upload, UploadedFile):
            try:
                processed = process_image(upload)
            except ValidationError as error:
                self.add_error(self.image_field, error)
            else:
                cleaned_data[self.image_field] = processed.image
                self.new_thumbnail = processed.thumbnail
        elif upload is False:  # "Clear" was ticked: the thumbnail goes with the image.
            self.new_thumbnail = ""
        return cleaned_data

    def save(self, commit=True):
        if self.new_thumbnail is not None:
            setattr(self.instance, self.thumbnail_field, self.new_thumbnail)
        return super().save(commit)


class SavedVersionForm(forms.ModelForm):
    """The page remembers when its record was last saved as it was opened; saving over a later
    save by someone else is refused, with what to do, so nothing is silently lost. The
    record's model has `updated_at` (auto_now), which every save through the admin moves on,
    its rows' (aliases, parties) included."""

    # Kept as sent, spaces and all: any value but the stored one is a conflict, as the
    # agreement's admin lets a page opened on a draft be saved only to be refused here
    # (agreements.admin.saved_since_opened).
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read from the database, not the instance: reverting to an earlier version
        # (simple_history) opens the form on that version's values; and a version of a record
        # deleted since is still shown, read-only.
        if self.instance.pk and (saved := self.saved_version().first()):
            self.fields["loaded_version"].initial = saved[0].isoformat()

    def saved_version(self):
        records = type(self.instance)._default_manager
        return records.filter(pk=self.instance.pk).values_list("updated_at")

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get("loaded_version")
        if self.instance.pk and loaded:
            # The admin saves in a transaction: the lock holds until this save commits, so two
            # saves cannot both pass this check (PostgreSQL; SQLite writes one at a time).
            # FOR NO KEY UPDATE: a row added meanwhile that refers to this record (a party
            # naming the institution) takes a key-share lock, which FOR UPDATE would make
            # wait for this save, while this save waits for that writer in the search's
            # triggers (their writers' lock): a deadlock.
            saved = self.saved_version().select_for_update(no_key=True).first()
            if saved and saved[0].isoformat() != loaded:
                raise ValidationError(
                    _(
                        "Someone else saved this %(record)s after you opened it, so your "
                        "changes were not saved. Copy what you need, open the %(record)s again "
                        "to see their version, and make your changes there."
                    ),
                    params={"record": self.instance._meta.verbose_name},
                    code="edit_conflict",
                )
        return cleaned


def hold_until_saved(model, field, value):
    """Until this transaction ends (the admin saves in one), no other form checks that
    `value` of `model`'s unique `field` is free: two staff adding the same record at once
    both found it free, and the second save was refused by the database's constraint (a
    500); now the second waits, then finds the first's and is told so."""
    if connection.in_atomic_block:
        locks.held_until_commit(locks.UNIQUE_VALUE, f"{model._meta.db_table}.{field}:{value}")


class KeyForm(forms.ModelForm):
    """Names the record that already has the key (slug) typed, rather than Django's "with this
    slug already exists": whoever adds a record again, often from an agreement's "+" pop-up,
    then knows which one to choose instead, or that a namesake needs a key of its own. The
    admin sets `popup` (registry.admin.PopupFormAdmin)."""

    popup = False

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        records = type(self.instance)._default_manager
        hold_until_saved(records.model, "slug", slug)
        holder = records.filter(slug=slug).exclude(pk=self.instance.pk).first()
        if holder is None:
            return slug
        if self.popup:
            message = _(
                "“%(name)s” already has the key “%(slug)s”: if it is the one you mean, close "
                "this window and choose it there; if not, give this one another key."
            )
        else:
            message = _(
                "“%(name)s” already has the key “%(slug)s”: if it is the same, change that one "
                "instead; if not, give this one another key."
            )
        raise ValidationError(message, params={"name": holder, "slug": slug}, code="unique")


class InstitutionForm(SavedVersionForm, KeyForm, ProcessedImageForm):
    image_field = "logo"
    thumbnail_field = "logo_thumbnail"

    def clean(self):
        # A move queues for the tree's lock (Institution.clean) before SavedVersionForm locks
        # the row, as merges and imports take it before any row: holding the row while it
        # waited, it deadlocked with a merge or an import that held the lock and then wrote
        # that row.
        if self.instance.pk and "parent" in self.cleaned_data:
            parent = self.cleaned_data["parent"]
            stored = type(self.instance).objects.filter(pk=self.instance.pk)
            if stored.values_list("parent", flat=True).first() != (parent and parent.pk):
                locks.held_until_commit(locks.INSTITUTION_TREE)
        return super().clean()


class PersonForm(SavedVersionForm, KeyForm):
    pass


class FocusAreaForm(KeyForm):
    """Names the focus area that already has the name typed (in any case), so that whoever
    adds it again, often from an agreement's "+" pop-up, knows which one to choose instead."""

    def clean_name(self):
        name = self.cleaned_data["name"]
        hold_until_saved(FocusArea, "name", name.lower())
        # Compared as the database's unique constraint compares them.
        same = FocusArea.objects.alias(lower=Lower("name")).filter(lower=Lower(Value(name)))
        existing = same.exclude(pk=self.instance.pk).first()
        if existing and self.popup:
            raise ValidationError(
                _("“%(name)s” is already in the list: close this window and choose it there."),
                params={"name": existing.name},
            )
        if existing:
            raise ValidationError(
                _("There is already a focus area named “%(name)s”."), params={"name": existing.name}
            )
        return name

    # The same focus area: that its slug is taken too says no more.

    def clean_slug(self):
        return self.cleaned_data["slug"] if self.has_error("name") else super().clean_slug()

    def validate_unique(self):
        if not self.has_error("name"):
            super().validate_unique()
