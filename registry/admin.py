from dataclasses import replace
from itertools import pairwise

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import (
    IS_POPUP_VAR,
    IncorrectLookupParameters,
    get_content_type_for_model,
)
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import (
    BadRequest,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.forms import BoundField
from django.http import Http404, HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.html import format_html, strip_tags
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME
from simple_history.models import DeletedObject, ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_reverse_field_name

from registry.forms import FocusAreaForm, InstitutionForm
from registry.history import date_of, part_changes, partial
from registry.models import FocusArea, FocusAreaGroup, Institution, InstitutionAlias, with_units

# The back office's name in its header and its pages' titles, rather than Django's.
admin.site.site_header = _("Partnership Registry: back office")
admin.site.site_title = _("Partnership Registry")


def counted(model, lookup, **options):
    """`Count(lookup, **options)` of each row of `model`, as a subquery: counted for the rows
    a list shows (or sorts, when sorted by it). Annotated as an aggregate, the whole table was
    grouped with the relation's rows to show one page, and again for its count: at 100,000
    agreements the lists of institutions and people took 400 to 500 ms. (A row's subquery is
    also worked out for the rows an `OFFSET` skips, so a deep page costs more than the first.)"""
    rows = model._default_manager.filter(pk=OuterRef("pk")).order_by()
    return Subquery(rows.annotate(n=Count(lookup, **options)).values("n"))


class ReadableChoices:
    """An admin autocomplete that redraws a form showing only the values its records could
    have. Django's looks each chosen value up again, so a hand-made request with a value no
    key can be ("abc") failed with a server error rather than the field's own "Select a
    valid choice".

    Django's also looks up the record it shows, once per field of each row of an inline: an
    agreement of 50 parties and 200 people took 900 queries to show. Given the record its form
    holds already (`chosen`: see PreloadedRows), it shows that one while it is the value."""

    chosen = None

    def optgroups(self, name, value, attr=None):
        related = self.field.remote_field
        options = related.model._meta
        key = options.get_field(related.field_name) if related.many_to_one else options.pk
        value = [v for v in value if readable(key, v)]
        chosen = self.chosen
        if chosen is not None and [str(v) for v in value] == [str(getattr(chosen, key.attname))]:
            return self.chosen_groups(name, getattr(chosen, key.attname))
        return super().optgroups(name, value, attr)

    def chosen_groups(self, name, value):
        """What Django's optgroups gives for the one value of `chosen`."""
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        label = self.choices.field.label_from_instance(self.chosen)
        options.append(self.create_option(name, value, label, True, len(options)))
        return [(None, options, 0)]


def readable(field, value):
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


def label_relations(model_admin):
    """The relations a model admin's `choice_label` reads, to select with the records it names
    (an institution's parent): not one query per record named."""
    return getattr(model_admin, "choice_label_related", [])


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """Django's autocomplete, naming each record as its model admin's `choice_label(record)`
    does where it has one, rather than by its `__str__`: an agreement and its renewal often
    share a title, and chosen by title alone, a relation could be made to the wrong one.

    A field of `unit_fields` (a party's signing unit, which must be a unit of the party's
    institution: Party.clean) offers units only, and given `within=<institution id>` (the
    row's institution, sent by static/js/admin.js) only the units below that institution, at
    any depth: offered every institution of the registry, an editor picked a branch of the
    wrong company, and learnt of it only when the whole form was refused."""

    unit_fields = ()

    def get_queryset(self):
        found = super().get_queryset().select_related(*label_relations(self.model_admin))
        # Records of one name (units of different companies) in a lasting order: by name
        # alone, PostgreSQL gave them in any, and a page of 20 could repeat or skip one.
        found = found.order_by(*(found.query.order_by or found.model._meta.ordering), "pk")
        if self.source_field not in self.unit_fields:
            return found
        within = self.request.GET.get("within", "")
        if not within:  # no institution chosen yet
            return found.filter(parent__isnull=False)
        key = Institution._meta.pk
        try:
            # Within the database's range too: a larger number failed in the query (a 500).
            within = key.clean(within, None)
        except ValidationError as error:
            raise BadRequest(f"within: {within!r} is not an institution's id.") from error
        return found.filter(pk__in=with_units(within)).exclude(pk=within)

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if label := getattr(self.model_admin, "choice_label", None):
            result["text"] = label(obj)
        return result


class ReadableAutocompleteSelect(ReadableChoices, AutocompleteSelect):
    pass


class ReadableAutocompleteSelectMultiple(ReadableChoices, AutocompleteSelectMultiple):
    pass


class ReadableAutocompletes:
    """For a ModelAdmin or an inline: its autocomplete fields are ReadableChoices."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self.readable(ReadableAutocompleteSelect, db_field, request, kwargs)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and db_field.name in self.get_autocomplete_fields(request):
            # The record chosen is named as the autocomplete's results name it.
            related_admin = self.admin_site.get_model_admin(db_field.related_model)
            if label := getattr(related_admin, "choice_label", None):
                formfield.label_from_instance = label
                related = label_relations(related_admin)
                formfield.queryset = formfield.queryset.select_related(*related)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self.readable(ReadableAutocompleteSelectMultiple, db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # {a field: the field of the same form or row whose institution's units it offers}, as
    # the autocomplete's `within` (LabelledAutocompleteJsonView, static/js/admin.js).
    units_of = {}

    def readable(self, widget, db_field, request, kwargs):
        """Give an autocomplete field `widget`, where Django would give its own."""
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            attrs = (
                {"data-units-of": self.units_of[db_field.name]}
                if db_field.name in self.units_of
                else None
            )
            kwargs["widget"] = widget(
                db_field, self.admin_site, attrs=attrs, using=kwargs.get("using")
            )


class Cell(BoundField):
    """A field in a row of a tabular inline. Its help text is drawn once, as the tooltip of
    its column's heading, not beside it: the description Django gives it named an element
    ("id_…_helptext") no page has, and a screen reader read the field without its help. It
    tells its help itself (aria-description), and is described by its errors, drawn in its
    cell, when it has any."""

    @property
    def aria_describedby(self):
        if self.auto_id and not self.is_hidden and self.errors:
            return f"{self.auto_id}_error"
        return None

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.help_text and not (widget or self.field.widget).is_hidden:
            attrs.setdefault("aria-description", strip_tags(self.help_text))
        return attrs


class LabelledCells:
    """A formset whose fields are each named by their label (aria-label), and told their
    help (Cell). In a tabular inline the label is only the heading of a column: a screen
    reader read a row's fields as "combo box, edit text, check box", and a field without a
    name is no help to fill in."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            field.bound_field_class = Cell
            # The admin's wrapper of a related field (its add and change links) draws the
            # widget it wraps, with that widget's attributes: its own are the original's.
            widget = getattr(field.widget, "widget", field.widget)
            if not widget.is_hidden:
                widget.attrs.setdefault("aria-label", form[name].label)


class PreloadedRows:
    """An inline formset whose rows show what they hold without a query each: the record of
    the page they belong to (a relation's or a lab's link names it), and the records their
    autocompletes show (ReadableChoices), where the inline's queryset selects them."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = form.instance
        if row.pk is not None and getattr(row, self.fk.attname) == self.instance.pk:
            self.fk.set_cached_value(row, self.instance)
        for name, field in form.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if not isinstance(widget, ReadableChoices) or widget.allow_multiple_selected:
                continue
            try:
                key = form.instance._meta.get_field(name)
            except FieldDoesNotExist:  # a field of the form's own (ParticipationForm's)
                continue
            if key.many_to_one and key.is_cached(form.instance):
                widget.chosen = key.get_cached_value(form.instance)


class TabularInline(ReadableAutocompletes, admin.TabularInline):
    """The inline every admin of the registry uses. Its queryset should select_related its
    autocomplete fields: their rows are then shown without a query each (PreloadedRows)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (LabelledCells, PreloadedRows, formset), {})

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        # (select_related() of no field would follow every foreign key.)
        autocompletes = self.get_autocomplete_fields(request)
        if not autocompletes:
            return rows
        # And what each record's choice_label reads (an institution's parent).
        labels = [
            f"{name}__{related}"
            for name in autocompletes
            for related in label_relations(
                self.admin_site.get_model_admin(self.model._meta.get_field(name).related_model)
            )
        ]
        return rows.select_related(*autocompletes, *labels)


class ReadOnlyInline(TabularInline):
    """Rows shown for what they tell, written elsewhere: none is added, changed or deleted
    here."""

    extra = 0

    def has_add_permission(self, request, obj):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChangesHelper(HistoricalRecordContextHelper):
    """A changed value as the admin shows it: a choice by its label ("in review"), not its
    stored value; no value as "—", not "None"; a record deleted since by the name it had."""

    def prepare_delta_change_value(self, change, value):
        if change.field in self.partial_dates:  # made readable already: see dated_changes
            return value
        field = self.model._meta.get_field(change.field)
        if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
            return "—"
        if isinstance(value, DeletedObject):
            return deleted_name(value)
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        prepared = super().prepare_delta_change_value(change, value)
        if isinstance(prepared, list):
            return [deleted_name(v) if isinstance(v, DeletedObject) else v for v in prepared]
        return prepared

    @cached_property
    def partial_dates(self):
        return {
            f.name for f in self.model._meta.concrete_fields if is_partial_date(self.model, f.name)
        }


def is_partial_date(model, name):
    return any(f.name == f"{name}_precision" for f in model._meta.concrete_fields)


def dated_changes(changes, newer, older):
    """A date known to the month or year changes with its precision: both are shown as one
    partial date ("2019-07 → 2019-07-09"), as the record shows it, never as a day nobody
    reported ("2019-07-01") beside a change of "precision"."""
    model = type(newer.instance)
    shown, dates = [], {}
    for change in changes:
        name = date_of(newer.instance, change.field)
        if not is_partial_date(model, name):
            shown.append(change)
        elif name not in dates:
            dates[name] = ModelChange(name, partial(older, name), partial(newer, name))
            shown.append(dates[name])
    return shown


def deleted_name(deleted):
    """A record deleted since, by the name its history last gave it, where it keeps one."""
    model = deleted.model
    last = None
    if hasattr(model, "history"):
        versions = model.history.filter(**{model._meta.pk.attname: deleted.pk})
        last = versions.order_by("-history_date").first()
    name = str(last.instance) if last else f"#{deleted.pk}"
    return _("%(name)s (deleted since)") % {"name": name}


class DateHierarchyChecked:
    """Django's lists refuse a bad filter by showing the list without it (`?e=1`); but the
    date hierarchy's year, month or day makes a date without that care, and a year of 9999
    or of thirty digits was a server error."""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error


class ChangeListWithoutDistinct(ChangeList):
    """See WithoutDistinct."""

    def get_queryset(self, request, exclude_parameters=None):
        found = super().get_queryset(request, exclude_parameters)
        if not found.query.distinct:
            return found
        rows = self.root_queryset.filter(pk__in=found.order_by().values("pk"))
        return self.apply_select_related(rows).order_by(*found.query.order_by)


class WithoutDistinct:
    """A filter or search through a relation of many rows (a person's roles, an agreement's
    technologies, an institution's aliases) finds each row once by `pk IN (the matches)`,
    where Django makes the whole query DISTINCT: over every selected column, a `counted()`
    one too, worked out for every joined row. At 100,000 agreements the people filtered by
    role took 7.7 s, the institutions' autocomplete counted 3,500 rows to show 20."""

    def get_changelist(self, request, **kwargs):
        return ChangeListWithoutDistinct

    def get_search_results(self, request, queryset, search_term):
        # The autocomplete's search, which makes its results DISTINCT by itself.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if may_have_duplicates:
            found = queryset.filter(pk__in=found.values("pk"))
        return found, False


class HistoryAdmin(
    ReadableAutocompletes, DateHierarchyChecked, WithoutDistinct, SimpleHistoryAdmin
):
    """simple_history's page of every change to the object itself, who made it and when; then
    the changes to its parts edited in the inlines (aliases, parties, people, sources), each
    kept in the history of its own model (registry/history.py); then the admin's log of the
    latest saves through this form."""

    object_history_template = "admin/history_with_form_log.html"
    object_history_form_template = "admin/history_version_form.html"
    form_log_length = 100
    # Restoring an earlier version is the publishers' call (the permission of that role,
    # made by backoffice's staff-groups migration); others see old versions, read-only.
    restore_permission = "agreements.publish_agreement"
    # Changed by every save: it would only clutter the list of what changed.
    unlisted_changes = ["updated_at"]
    # Fields that restoring an earlier version leaves as they are now (not in its form).
    kept_on_restore = []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Every admin of a record here: a posted form shown again was refused. A browser does
        # not let a page fill a file box in again, so the files chosen (photos, a logo) are
        # gone from it: said, or the form corrected and saved goes without them.
        if request.method == "POST" and request.FILES:
            message = _(
                "The form was not saved, so the files chosen in it were not kept either: choose "
                "them again before saving."
            )
            self.message_user(request, message, messages.WARNING)
            # And beside each file box whose file was lost, naming it: a photo among several
            # rows, or in a row scrolled past, was easily saved without its image.
            for form in refused_forms(context):
                for field in form:
                    upload = request.FILES.get(field.html_name)
                    if upload is not None and not form.has_error(field.name):
                        form.add_error(field.name, file_not_kept(upload.name))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def revert_disabled(self, request, obj=None):
        return (
            super().revert_disabled(request, obj)
            or not request.user.has_perm(self.restore_permission)
            or (obj is not None and not self.exists(obj.pk))
        )

    def exists(self, key):
        return self.model._base_manager.filter(pk=key).exists()

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        key = key_or_404(self.model, object_id)
        key_or_404(self.model.history.model, version_id)
        if request.method == "POST":
            # simple_history only hides the button; the POST itself must be refused too.
            if not request.user.has_perm(self.restore_permission):
                raise PermissionDenied
            # A record deleted or merged away: "restoring" a version of it would save it
            # anew, outside the deletion's or the merge's record (a merged duplicate back
            # beside its survivor). Its versions stay readable.
            if not self.exists(key):
                message = _("This record has been deleted: its versions can be read, not restored.")
                self.message_user(request, message, messages.ERROR)
                return HttpResponseRedirect(request.path)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        version = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
        if version is not None and self.kept_on_restore and self.exists(obj.pk):
            # Before the form checks the version: as the record it would change, not as the
            # record was then (a draft's date to come, restored onto a published agreement).
            obj.refresh_from_db(fields=self.kept_on_restore)
        form = super().get_form(request, obj, **kwargs)
        if version is None:
            return form
        # An earlier version (simple_history's page of it) has its own values of its
        # many-to-many fields (an agreement's focus areas): the form showed the record's
        # current ones as the version's, and restoring it kept them.
        linked = {
            field.name: [
                getattr(link, f"{get_m2m_reverse_field_name(field)}_id")
                for link in getattr(version, field.name).all()
            ]
            for field in version._history_m2m_fields
            if field.name in form.base_fields
        }

        class VersionForm(form):
            def __init__(self, *args, initial=None, **kwargs):
                super().__init__(*args, initial={**linked, **(initial or {})}, **kwargs)

        return VersionForm

    def get_historical_record_context_helper(self, request, historical_record):
        return ChangesHelper(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """simple_history's field-by-field changes (old → new) of each version against the
        one before it, less `unlisted_changes`. A page's oldest version too, against the
        latest of the next page: it listed no change, as if it had been made without one."""
        versions = list(historical_records)
        if versions and (before := versions[-1].prev_record):
            versions.append(before)
        for newer, older in pairwise(versions):
            delta = newer.diff_against(
                older,
                excluded_fields=self.unlisted_changes,
                foreign_keys_are_objs=foreign_keys_are_objs,
            )
            delta = replace(delta, changes=dated_changes(delta.changes, newer, older))
            helper = self.get_historical_record_context_helper(request, newer)
            newer.history_delta_changes = helper.context_for_delta_changes(delta)

    def history_view(self, request, object_id, extra_context=None):
        key = key_or_404(self.model, object_id)
        record = self.model._base_manager.filter(pk=key).first()
        if record is None:
            # Deleted: its parts went with it, each deletion recorded with who made it.
            versions = self.model.history.filter(**{self.opts.pk.attname: key})
            last = versions.order_by("-history_date", "-history_id").first()
            record = last.instance if last else None
        parts = part_changes(record, self.inlines, limit=self.form_log_length) if record else []
        form_log = (
            LogEntry.objects.filter(
                content_type=get_content_type_for_model(self.model), object_id=unquote(object_id)
            )
            .select_related("user")
            .order_by("-action_time")[: self.form_log_length]
        )
        extra_context = {**(extra_context or {}), "form_log": form_log, "part_changes": parts}
        return super().history_view(request, object_id, extra_context)


def refused_forms(context):
    """The forms of a change page shown again: the record's and its inlines' rows."""
    yield context["adminform"].form
    for inline in context.get("inline_admin_formsets", []):
        yield from inline.formset.forms


def file_not_kept(name):
    # Said rather than kept: keeping it would store each upload of a refused page on the
    # server, for a page that may never be sent again, under a name the page sends back.
    return ValidationError(
        _("“%(name)s” was not kept, as the form was not saved: choose it again."),
        params={"name": name},
        code="file_not_kept",
    )


def key_or_404(model, text):
    """The primary key of `model` that an address gives, or a 404: simple_history looks up
    what the address holds as it is, and "abc" (or a number past 64 bits) is a server error."""
    try:
        key = model._meta.pk.to_python(unquote(text))
    except ValidationError:
        raise Http404 from None
    if not 0 < key < 2**63:
        raise Http404
    return key


def view_on_site(request, content_type_id, object_id):
    """The admin's "View on site" (/admin/r/<type>/<key>/), for staff who may see that kind
    of record in the admin. Django's sends anyone signed in to the admin on to any record's
    address, and a draft's address is its title (its slug): staff in no group read drafts'
    titles by their numbers."""
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        model = None
    if model is None:  # no such type, or the type of a model gone since
        raise Http404
    try:
        model_admin = admin.site.get_model_admin(model)
    except NotRegistered:
        raise PermissionDenied from None
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    return shortcut(request, content_type_id, object_id)


# Addresses typed without a scheme ("www.huawei.com") are taken as https, as Django 6 will.
URL_FORMFIELD = {models.URLField: {"assume_scheme": "https"}}


def thumbnail(image):
    """A stored thumbnail as an <img>; sized by the height attribute, not a style, which a
    strict Content-Security-Policy would block."""
    return format_html('<img src="{}" alt="" height="48">', image.url) if image else ""


class InstitutionAliasInline(TabularInline):
    model = InstitutionAlias
    extra = 1


class UnitInline(ReadOnlyInline):
    """The institution's units (branches, colleges), listed here and edited on their own
    pages, where each names this institution as its parent."""

    model = Institution
    fk_name = "parent"
    fields = ["name", "acronym", "kind", "city"]
    readonly_fields = fields
    show_change_link = True
    verbose_name = _("unit")
    verbose_name_plural = _("units")


class PopupFormAdmin(admin.ModelAdmin):
    """Tells the form whether it is an agreement's "+" pop-up (`form.popup`), where the way out
    of a duplicate is to close the window and choose the record already there."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.popup = IS_POPUP_VAR in request.GET or IS_POPUP_VAR in request.POST
        return form


@admin.register(Institution)
class InstitutionAdmin(PopupFormAdmin, HistoryAdmin):
    """Registered again by the back office, which warns of duplicates (backoffice/admin.py)."""

    form = InstitutionForm
    formfield_overrides = URL_FORMFIELD
    list_display = [
        "name",
        "logo_preview",
        "acronym",
        "native_name",
        "other_names",
        "kind",
        "country_name",
        "parent",
        "agreement_count",
    ]
    list_filter = ["kind", ("country", CountryFilter), ("parent", admin.EmptyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "native_name", "acronym", "aliases__name", "slug", "ror", "wikidata"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["logo_preview", "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "native_name",
                    "acronym",
                    "kind",
                    "parent",
                    "loaded_version",
                ]
            },
        ),
        (_("Where"), {"fields": ["country", "city", "website"]}),
        (_("Logo"), {"fields": ["logo", "logo_preview"]}),
        (_("Identifiers"), {"fields": ["ror", "wikidata", "created_at", "updated_at"]}),
    ]
    inlines = [InstitutionAliasInline, UnitInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(agreement_count=counted(Institution, "parties"))
            .prefetch_related("aliases")
        )

    choice_label_related = ["parent"]

    def choice_label(self, institution):
        """How an autocomplete names an institution: with its parent, where it has one, as
        units of different companies often share a name ("Tianjin Branch")."""
        if institution.parent_id is None:
            return institution.name
        return _("%(unit)s (%(parent)s)") % {
            "unit": institution.name,
            "parent": institution.parent.name,
        }

    @admin.display(description=_("logo thumbnail"))
    def logo_preview(self, institution):
        return thumbnail(institution.logo_thumbnail)

    @admin.display(description=_("aliases"))
    def other_names(self, institution):
        return ", ".join(alias.name for alias in institution.aliases.all())

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, institution):
        # Shown by the field itself, each row looked its country up among 250 choices made
        # again for it: 100 ms for a page of 100.
        return institution.country.name or None

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, institution):
        return institution.agreement_count


@admin.register(FocusArea)
class FocusAreaAdmin(PopupFormAdmin, HistoryAdmin):
    list_display = ["name", "slug", "group", "agreement_count"]
    list_filter = ["group", ("agreements", admin.EmptyFieldListFilter)]
    list_select_related = ["group"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    form = FocusAreaForm

    def get_queryset(self, request):
        agreement_count = counted(FocusArea, "agreements")
        return super().get_queryset(request).annotate(agreement_count=agreement_count)

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, area):
        return area.agreement_count


@admin.register(FocusAreaGroup)
class FocusAreaGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "area_count"]
    list_filter = [("areas", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug", "areas__name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        area_count = counted(FocusAreaGroup, "areas")
        return super().get_queryset(request).annotate(area_count=area_count)

    @admin.display(description=_("focus areas"), ordering="area_count")
    def area_count(self, group):
        return group.area_count
