"""What needs attention: the records that keep the registry from being true and complete,
counted for publishers on one page (backoffice/views.py, under /admin/reports/) and listed by
the admin's changelists, whose filter `?attention=<slug>` (AttentionFilter) selects exactly
the records a problem counts: both read the same `Problem.records`.

Each problem is one query of one model, counted over the whole registry whatever the data.
Not a report of backoffice/reports.py: a report counts the agreements the public search's
filters select, and its rows download as files; these are institutions and people too, not
filtered, and each row is a link to the records themselves.
"""

import datetime
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import connection
from django.db.models import Exists, OuterRef
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, Participation, Party, Source, StatusChange
from people.models import Person
from registry.models import Institution

# How long an agreement may wait in review, and a draft go unchanged, before either is said
# to need attention.
REVIEW_WAITS_DAYS = 14
DRAFT_IDLE_DAYS = 180

PARAMETER = "attention"


def lazy_format(text, **values):
    """`text % values`, translated when shown, in the language of whoever reads it."""
    return lazy(lambda: text % values, str)()


@dataclass(frozen=True)
class Problem:
    slug: str
    label: str
    model: type
    records: object  # (now) -> a queryset of `model`: the records that have the problem

    def url(self):
        opts = self.model._meta
        return (
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            + f"?{PARAMETER}={self.slug}"
        )


def published():
    return Agreement.objects.published()


def published_without(related):
    """Published agreements with no row of `related` (a model with an `agreement` key)."""
    return published().filter(~Exists(related.objects.filter(agreement=OuterRef("pk"))))


def waiting_in_review(now):
    # In review since its last move (a submission); one moved since the cutoff has waited
    # less. Without any recorded move (entered so), since it was created.
    cutoff = now - datetime.timedelta(days=REVIEW_WAITS_DAYS)
    return Agreement.objects.filter(status=Agreement.Status.REVIEW, created_at__lt=cutoff).exclude(
        Exists(StatusChange.objects.filter(agreement=OuterRef("pk"), at__gte=cutoff))
    )


def idle_drafts(now):
    cutoff = now - datetime.timedelta(days=DRAFT_IDLE_DAYS)
    return Agreement.objects.filter(status=Agreement.Status.DRAFT, updated_at__lt=cutoff)


def parties_without_country(now):
    # The institutions named as parties on public pages; a unit is shown beside its
    # institution, whose country is the one counted by the search and the reports.
    parties = Party.objects.filter(agreement__status=Agreement.Status.PUBLISHED)
    return Institution.objects.filter(country="", pk__in=parties.values("institution"))


def people_without_title(now):
    # A title belongs to the role, so a person may have one in one agreement and not in
    # another: only those with none in any published agreement are counted.
    roles = Participation.objects.filter(agreement__status=Agreement.Status.PUBLISHED)
    return Person.objects.filter(pk__in=roles.values("person")).exclude(
        pk__in=roles.exclude(title="").values("person")
    )


def plain_http_sources(now):
    sources = Source.objects.filter(agreement=OuterRef("pk"), url__istartswith="http://")
    return published().filter(Exists(sources))


def units_not_within(now):
    # A unit signs for an institution above it (Party.clean), and a move that would take it
    # from under one is refused (Institution.clean); a party stored before that refusal, or
    # written around the form, is left with a unit outside its institution. Its agreement's
    # form refuses to save until the unit is corrected, and a published one counts towards
    # the unit's new parent on the public pages. Drafts too: they cannot be saved either.
    # Every signing unit's ancestors are walked in one recursive query (UNION: a loop ends).
    party = connection.ops.quote_name(Party._meta.db_table)
    institution = connection.ops.quote_name(Institution._meta.db_table)
    stranded = RawSQL(  # noqa: S611 - table names only
        f"WITH RECURSIVE above (unit_id, id) AS ("  # noqa: S608
        f"SELECT i.id, i.parent_id FROM {institution} i "
        f"WHERE i.parent_id IS NOT NULL AND i.id IN (SELECT unit_id FROM {party}) "
        f"UNION SELECT a.unit_id, i.parent_id FROM above a JOIN {institution} i ON i.id = a.id "
        "WHERE i.parent_id IS NOT NULL) "
        f"SELECT p.agreement_id FROM {party} p WHERE p.unit_id IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM above a WHERE a.unit_id = p.unit_id AND a.id = p.institution_id)",
        [],
    )
    return Agreement.objects.filter(pk__in=stranded)


PROBLEMS = {
    problem.slug: problem
    for problem in [
        Problem(
            "no-source",
            _("Published agreements without a source"),
            Agreement,
            lambda now: published_without(Source),
        ),
        Problem(
            "no-date",
            _("Published agreements without a date of signing"),
            Agreement,
            lambda now: published().filter(signed_on__isnull=True),
        ),
        Problem(
            "no-focus-area",
            _("Published agreements without a technology (focus area)"),
            Agreement,
            lambda now: published_without(Agreement.focus_areas.through),
        ),
        Problem(
            "no-place",
            _("Published agreements without a place"),
            Agreement,
            lambda now: published().filter(place=""),
        ),
        Problem(
            "http-source",
            _("Published agreements with a source at an http:// address (not https)"),
            Agreement,
            plain_http_sources,
        ),
        Problem(
            "waiting-review",
            lazy_format(
                _("Agreements in review for more than %(days)d days"), days=REVIEW_WAITS_DAYS
            ),
            Agreement,
            waiting_in_review,
        ),
        Problem(
            "idle-draft",
            lazy_format(_("Drafts not changed for more than %(days)d days"), days=DRAFT_IDLE_DAYS),
            Agreement,
            idle_drafts,
        ),
        Problem(
            "unit-outside",
            _("Agreements where a party's signing unit is not part of its institution"),
            Agreement,
            units_not_within,
        ),
        Problem(
            "party-no-country",
            _("Institutions party to a published agreement without a country"),
            Institution,
            parties_without_country,
        ),
        Problem(
            "no-title",
            _("People in published agreements without a title in any of their roles"),
            Person,
            people_without_title,
        ),
    ]
}


def counted(now=None):
    """[(problem, how many records have it), ...]: one query each."""
    now = now or timezone.now()
    return [(problem, problem.records(now).count()) for problem in PROBLEMS.values()]


class AttentionFilter(admin.SimpleListFilter):
    """The changelist's records that have one problem of this page's model: the very records
    the needs-attention page counts."""

    title = _("needs attention")
    parameter_name = PARAMETER

    def lookups(self, request, model_admin):
        return [
            (problem.slug, problem.label)
            for problem in PROBLEMS.values()
            if problem.model is model_admin.model
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        problem = PROBLEMS.get(self.value())
        if problem is None or problem.model is not queryset.model:
            # Listing every record instead would say that they all have the problem.
            raise IncorrectLookupParameters(self.value())
        return queryset.filter(pk__in=problem.records(timezone.now()).values("pk"))
