"""The admin's pages for duplicates, under /admin/duplicates/: the likely pairs of institutions
and of people (backoffice/duplicates.py), a confirmation page that says what a merge will move,
the merge itself (backoffice/merging.py) and "not a duplicate". Only for staff who may merge:
the merge permission of the kind of record (migration backoffice/0003) and its change
permission; others get 403. Writes are POST only.

Also the public side of a merge: the merged-away record's address sends its visitors on."""

import functools
import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agreements.models import Participation, Party
from backoffice.duplicates import likely_duplicates, likely_same_as
from backoffice.merging import (
    InstitutionPlan,
    MergeError,
    merge_institutions,
    merge_people,
    plan_institution_merge,
    plan_person_merge,
)
from backoffice.models import Merge, NotDuplicate, RecordKind
from labs.models import LabHost
from people.models import Person
from registry.logs import staff
from registry.middleware import is_key
from registry.models import Institution

logger = logging.getLogger(__name__)

PAIRS_PER_PAGE = 50


class Kind:
    def __init__(self, kind, model, title, merge, plan):
        self.kind, self.model, self.title = kind, model, title
        self.merge, self.plan = merge, plan
        opts = model._meta
        self.permissions = [
            f"{opts.app_label}.merge_{opts.model_name}",
            f"{opts.app_label}.change_{opts.model_name}",
        ]


KINDS = {
    "institutions": Kind(
        RecordKind.INSTITUTION,
        Institution,
        gettext_lazy("Likely duplicate institutions"),
        merge_institutions,
        plan_institution_merge,
    ),
    "people": Kind(
        RecordKind.PERSON,
        Person,
        gettext_lazy("Likely duplicate people"),
        merge_people,
        plan_person_merge,
    ),
}


# The most likely duplicates of a new record its warning names.
WARNED = 3


def warn_of_likely_duplicates(request, name, record):
    """After `record` (of KINDS[name]) was added: a warning naming the records it is likely
    the same as, found as the list of likely duplicates finds them, each with a link to merge
    the new one into it. Found now, while whoever added it knows what they meant, rather than
    later on the list."""
    kind = KINDS[name]
    pairs = likely_same_as(kind.kind, record.pk)
    if not pairs:
        return
    shown = pairs[:WARNED]
    other_pks = [pair.second if pair.first == record.pk else pair.first for pair in shown]
    others = kind.model.objects.in_bulk(other_pks)
    may = request.user.has_perms(kind.permissions)
    for pair, other_pk in zip(shown, other_pks, strict=True):
        other = others[other_pk]
        why = "; ".join(str(reason) for reason in pair.described())
        message = format_html(
            _("“{record}” may be the same as “{other}” ({why})."),
            record=record,
            other=other,
            why=why,
        )
        if may:
            merge_url = reverse("duplicates:merge", args=[name, other.pk, record.pk])
            message = format_html(
                '{} <a href="{}">{}</a>', message, merge_url, _("If it is, merge them.")
            )
        else:
            message = format_html(
                "{} {}", message, _("If it is, ask someone who may merge records to merge them.")
            )
        messages.warning(request, message)
    if len(pairs) > WARNED:
        messages.warning(
            request,
            _("It may be the same as %(count)d more: see the likely duplicates.")
            % {"count": len(pairs) - WARNED},
        )


def may_merge(user):
    """The kinds of record (keys of KINDS) `user` may merge."""
    return [name for name, kind in KINDS.items() if user.has_perms(kind.permissions)]


def merge_view(view):
    """Signed-in staff (else the admin's login) with the merge permissions of the kind in the
    address (else 403)."""

    def checked(request, kind, **kwargs):
        if kind not in KINDS:
            raise Http404
        if not request.user.has_perms(KINDS[kind].permissions):
            raise PermissionDenied
        return view(request, KINDS[kind], kind, **kwargs)

    return admin.site.admin_view(checked)


def institutions_with_counts(pks):
    """The institutions of `pks` with what points to them, in a fixed number of queries."""
    records = Institution.objects.filter(pk__in=pks).select_related("parent")
    records = {r.pk: r for r in records.prefetch_related("aliases")}

    def count(rows, key, counted):
        counts = rows.values(key).annotate(n=Count(counted, distinct=True)).order_by()
        return dict(counts.values_list(key, "n"))

    agreements = count(Party.objects.filter(institution__in=pks), "institution", "agreement")
    as_unit = count(Party.objects.filter(unit__in=pks), "unit", "agreement")
    units = count(Institution.objects.filter(parent__in=pks), "parent", "pk")
    labs = count(LabHost.objects.filter(institution__in=pks), "institution", "lab")
    people = count(Participation.objects.filter(organisation__in=pks), "organisation", "person")
    for pk, record in records.items():
        record.counts = [
            (_("agreements as a party"), agreements.get(pk, 0)),
            (_("agreements as the unit that signed"), as_unit.get(pk, 0)),
            (_("units"), units.get(pk, 0)),
            (_("labs hosted"), labs.get(pk, 0)),
            (_("people working there"), people.get(pk, 0)),
        ]
    return records


def people_with_counts(pks):
    records = Person.objects.filter(pk__in=pks).prefetch_related("aliases")
    records = {r.pk: r for r in records.annotate(participation_count=Count("participations"))}
    for record in records.values():
        record.counts = [(_("participations"), record.participation_count)]
    return records


class ChooseForm(forms.Form):
    """Two records of one kind by slug, for a pair the list of likely ones does not show."""

    survivor = forms.CharField(label=gettext_lazy("Keep (slug)"))
    duplicate = forms.CharField(label=gettext_lazy("Merge away (slug)"))

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, auto_id="merge-%s", **kwargs)
        self.model = model

    def clean_survivor(self):
        return self.record("survivor")

    def clean_duplicate(self):
        return self.record("duplicate")

    def record(self, name):
        found = self.model.objects.filter(slug=self.cleaned_data[name]).first()
        if found is None:
            raise ValidationError(_("No record has that slug."))
        return found


@require_GET
def duplicate_list(request, kind, name):
    """The likely pairs of one kind, a page at a time, each with both records side by side."""
    return render_list(request, kind, name, ChooseForm(model=kind.model))


def render_list(request, kind, name, choose_form):
    pairs = likely_duplicates(kind.kind)
    page = Paginator(pairs, PAIRS_PER_PAGE).get_page(request.GET.get("page"))
    pks = {pk for pair in page for pk in (pair.first, pair.second)}
    load = institutions_with_counts if kind.model is Institution else people_with_counts
    records = load(pks)
    rows = [
        (pair, records[pair.first], records[pair.second])
        for pair in page
        if pair.first in records and pair.second in records
    ]
    context = {
        **admin.site.each_context(request),
        "title": kind.title,
        "kind": name,
        "kinds": [(other, KINDS[other].title) for other in may_merge(request.user)],
        "page": page,
        "rows": rows,
        "total": len(pairs),
        "opts": kind.model._meta,
        "choose_form": choose_form,
    }
    return render(request, "admin/backoffice/duplicates.html", context)


SHOWN = 20  # examples listed under each line of the confirmation page


def what_moves(plan):
    """The confirmation page's lines: (what, how many, some of them by name)."""

    def agreements(parties):
        return [party.agreement.title for party in parties]

    if isinstance(plan, InstitutionPlan):
        lines = [
            (_("parties to agreements move to the survivor"), agreements(plan.moved_parties)),
            (
                _("parties to agreements the survivor is also a party to become one"),
                [party.agreement.title for party, _target in plan.folded],
            ),
            (_("agreements it signed as a unit name the survivor"), agreements(plan.unit_parties)),
            (
                _("signatories move to the survivor's party in the same agreement"),
                [f"{p.person} — {p.agreement}" for p in plan.signatories],
            ),
            (
                _("participations name the survivor as the person's organisation"),
                [f"{p.person} — {p.agreement}" for p in plan.organisations],
            ),
            (_("units become the survivor's units"), [unit.name for unit in plan.units]),
            (_("labs hosted move to the survivor"), [host.lab.name for host in plan.lab_hosts]),
            (
                _("labs the survivor hosts already (kept once)"),
                [host.lab.name for host in plan.lab_hosts_dropped],
            ),
        ]
    else:
        lines = [
            (
                _("participations move to the survivor"),
                [f"{p.agreement} ({p.get_role_display()})" for p in plan.moved],
            ),
            (
                _("participations in an agreement and role the survivor has become one"),
                [f"{p.agreement} ({p.get_role_display()})" for p, _target in plan.folded],
            ),
        ]
    lines += [
        (_("names become the survivor's aliases"), plan.aliases),
        (_("empty fields of the survivor are filled"), sorted(plan.fills)),
    ]
    return [(label, len(items), items[:SHOWN]) for label, items in lines if items]


@require_http_methods(["GET", "POST"])
def merge(request, kind, name, survivor, duplicate):
    """GET: what merging `duplicate` into `survivor` would move; POST: merge."""
    survivor = get_object_or_404(kind.model, pk=survivor)
    duplicate = get_object_or_404(kind.model, pk=duplicate)
    errors = []
    if request.method == "POST":
        try:
            record = kind.merge(survivor=survivor, duplicate=duplicate, by=request.user)
        except MergeError as error:
            pair = kind.model.objects.filter(pk__in=[survivor.pk, duplicate.pk])
            if pair.count() < 2:
                # Merged or deleted by someone else since this page read them: nothing is
                # left to show of the pair.
                messages.error(request, " ".join(error.messages))
                return redirect("duplicates:list", name)
            errors = error.messages
        else:
            # By ids: a person's name is not for the log, which erase_person cannot reach.
            logger.info(
                "Merge of %s by %s: #%d into #%d (merge #%d)",
                name,
                staff(request.user),
                duplicate.pk,
                survivor.pk,
                record.pk,
            )
            messages.success(
                request,
                _("“%(duplicate)s” was merged into “%(survivor)s”.")
                % {"duplicate": record.duplicate_name, "survivor": survivor},
            )
            return redirect("duplicates:list", name)
    try:
        plan = kind.plan(survivor=survivor, duplicate=duplicate)
    except MergeError as error:
        plan, errors = None, errors or error.messages
    records = (institutions_with_counts if kind.model is Institution else people_with_counts)(
        [survivor.pk, duplicate.pk]
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Merge “%(duplicate)s” into “%(survivor)s”")
        % {"duplicate": duplicate, "survivor": survivor},
        "kind": name,
        "kind_title": kind.title,
        "survivor": records[survivor.pk],
        "duplicate": records[duplicate.pk],
        "plan": plan,
        "lines": what_moves(plan) if plan else [],
        "errors": errors or (plan.problems if plan else []),
        "opts": kind.model._meta,
    }
    return render(
        request,
        "admin/backoffice/merge_confirm.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def not_duplicate(request, kind, name):
    keys = [request.POST.get(key, "") for key in ("first", "second")]
    if not all(map(is_key, keys)):  # the database could not even look such a key up
        messages.error(request, _("Choose two records."))
        return redirect("duplicates:list", name)
    first, second = sorted(map(int, keys))
    found = kind.model.objects.filter(pk__in=[first, second]).count()
    if first == second or found != 2:
        messages.error(request, _("These two records do not exist (any more)."))
        return redirect("duplicates:list", name)
    NotDuplicate.objects.get_or_create(
        kind=kind.kind, first_pk=first, second_pk=second, defaults={"decided_by": request.user}
    )
    messages.success(request, _("The pair will not be shown again."))
    url = reverse("duplicates:list", args=[name])
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


@require_GET
def choose(request, kind, name):
    """Merge two records found by slug, for a pair the list does not show."""
    form = ChooseForm(request.GET, model=kind.model)
    if not form.is_valid():
        # The list again, with the slugs as typed, each refused one read with why, and focused
        # (it was a message at the top of the page, both slugs to type again).
        form.fields[next(iter(form.errors))].widget.attrs["autofocus"] = True
        return render_list(request, kind, name, form)
    chosen = form.cleaned_data
    return redirect("duplicates:merge", name, chosen["survivor"].pk, chosen["duplicate"].pk)


@admin.site.admin_view
def index(request):
    kinds = may_merge(request.user)
    if not kinds:
        raise PermissionDenied
    return redirect("duplicates:list", kinds[0])


duplicate_list = merge_view(duplicate_list)
merge = merge_view(merge)
not_duplicate = merge_view(not_duplicate)
choose = merge_view(choose)


def follow_merges(view, kind, url_name=None):
    """`view` (a public page of a record by slug), which sends the address of a merged-away
    record on to the survivor's for good (301), if the survivor's own page is public: the
    survivor's page named `url_name` (its slug the one argument), by default its own."""

    @functools.wraps(view)  # and so exempt from the CSRF check as `view` is (read_only)
    def page(request, slug):
        try:
            return view(request, slug)
        except Http404:
            if kind.model.objects.filter(slug=slug).exists():
                raise
            merge = (
                Merge.objects.filter(kind=kind.kind, duplicate_slug=slug)
                .select_related("survivor_institution", "survivor_person")
                .first()
            )
            survivor = merge.survivor if merge else None
            if survivor is None:
                raise
            view(request, survivor.slug)  # a 404 too where the survivor is not public
            if url_name:
                address = reverse(url_name, args=[survivor.slug])
            else:
                address = survivor.get_absolute_url()
            # With its query string: a link to a page of an institution's people (?page=3) or
            # of its list of people (?people=2) goes on to the same page of the survivor's.
            if query := request.META.get("QUERY_STRING"):
                address = f"{address}?{query}"
            return redirect(address, permanent=True)

    return page
