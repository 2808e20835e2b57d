from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from people.models import Person
from registry.addresses import record_url, web_address_constraint
from registry.cache import data_changed
from registry.dates import (
    DatePart,
    DatePrecision,
    PartialDate,
    latest_today,
    month_number,
    period_start_constraint,
    precision_constraint,
    precision_field,
    settle_partial_dates,
)
from registry.models import FocusArea, Institution
from registry.text import normalise_name, not_blank_constraint, visible


class AgreementType(models.Model):
    """The editable vocabulary of agreement types, each with the synonyms importers accept."""

    name = models.CharField(_("name"), validators=[visible], max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    synonyms = models.CharField(
        _("synonyms"),
        max_length=300,
        blank=True,
        help_text=_("Other names for this type, separated by commas."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("agreement type")
        verbose_name_plural = _("agreement types")
        constraints = [
            # clean() compares every name and synonym as normalise_name does; the database
            # can compare the names at least without case (ASCII's alone on SQLite).
            models.UniqueConstraint(
                Lower("name"),
                name="agreement_type_name_unique_ci",
                violation_error_message=_("An agreement type with this name already exists."),
            ),
            not_blank_constraint("name", "agreement_type"),
            not_blank_constraint("slug", "agreement_type"),
        ]

    def __str__(self):
        return self.name

    def all_names(self):
        return [self.name] + [s.strip() for s in self.synonyms.split(",") if s.strip()]

    def clean(self):
        # An importer finds a type by any of its names, compared as normalise_name compares
        # them: a name two types share would find only one of them.
        others = {
            key: kind for key, kind in AgreementType.by_normalised_name().items() if kind != self
        }
        for field, names in (("name", [self.name]), ("synonyms", self.all_names()[1:])):
            for name in names:
                if other := others.get(normalise_name(name)):
                    raise ValidationError(
                        {
                            field: _(
                                "“%(name)s” already names the type “%(other)s” (names are "
                                "compared without case, accents or extra spaces)."
                            )
                            % {"name": name, "other": other}
                        }
                    )

    @classmethod
    def by_normalised_name(cls):
        return {
            normalise_name(name): kind for kind in cls.objects.all() for name in kind.all_names()
        }


def last_public_under(key):
    """The id of the agreement last public under `key`, now or before (its key since
    changed, or it withdrawn or deleted: the history keeps its versions), or None for a key
    never public, a draft's or none, of which nothing may be said. For an address no
    agreement the visitor may see has."""
    return (
        Agreement.history.filter(slug=key, status=Agreement.Status.PUBLISHED)
        .exclude(history_type="-")  # a deletion's record repeats the version before it
        .order_by("-history_date", "-history_id")
        .values_list("id", flat=True)
        .first()
    )


def same_period(one, other):
    """Whether two dates of signing (PartialDate or None) may be the same day: their periods
    (a day, a month, a year) overlap; an unknown date may be any."""
    if one is None or other is None:
        return True
    return one.date <= other.last_day and other.date <= one.last_day


class AgreementQuerySet(models.QuerySet):
    def likely_same_as(self, agreement):
        """Other agreements likely to be `agreement` entered twice: signed by the same
        institutions in the same period (the month, or the year where either is known only to
        the year; any date where either has none), or of the same title. In a few queries."""
        institutions = set(agreement.parties.values_list("institution", flat=True))
        same_parties = (
            Party.objects.filter(institution__in=institutions)
            .values("agreement")
            .annotate(shared=models.Count("institution", distinct=True))
            .filter(shared=len(institutions))
            .values("agreement")
        )
        others = (
            self.exclude(pk=agreement.pk)
            .filter(Q(pk__in=same_parties) | Q(title__iexact=agreement.title.strip()))
            .prefetch_related("parties")
        )
        title = normalise_name(agreement.title)
        return [
            other
            for other in others
            if normalise_name(other.title) == title
            or (
                {party.institution_id for party in other.parties.all()} == institutions
                and same_period(agreement.signed, other.signed)
            )
        ]

    def published(self):
        """What the public may see. Every public page, API answer, search, facet, chart and
        export starts here."""
        return self.filter(status=Agreement.Status.PUBLISHED)

    def parts_changed(self):
        """Date these agreements updated now, in one UPDATE, without saving each: a write
        that changed their parts and not the agreements themselves (an import's, a lab's
        links) changed what the public sees of them, which their `updated_at` says (the page,
        the feed, the sitemap, and the API's `updated_since` that mirrors read)."""
        return self.update(updated_at=timezone.now())

    def related_to(self, agreement):
        """Those with a relation to or from `agreement` (a pk or an Agreement): while it is
        published, their pages name it, and the records of those relating to it (the API's,
        a download's) give its key."""
        return self.filter(
            Q(pk__in=AgreementRelation.objects.filter(target=agreement).values("source"))
            | Q(pk__in=AgreementRelation.objects.filter(source=agreement).values("target"))
        )

    def with_last_move(self):
        """Each agreement with when, by whom (`moved_by`: a username) and with what comment
        its status last changed; None for one that never moved."""
        moves = StatusChange.objects.filter(agreement=OuterRef("pk")).order_by("-at", "-pk")
        return self.annotate(
            moved_at=Subquery(moves.values("at")[:1]),
            moved_by=Subquery(moves.values("by__username")[:1]),
            move_comment=Subquery(moves.values("comment")[:1]),
        )

    def listed(self):
        """With what a list of agreements shows of each, and only that: its title, date, place
        and type, and the names of its parties and signing units, in a fixed number of
        queries. The other columns (summaries, timestamps, an institution's every field) were
        a fifth of the time of a large company's page, which lists 20 agreements."""
        names = ["name", "native_name", "acronym", "slug"]
        parties = Party.objects.select_related("institution", "unit").only(
            "agreement",
            "position",
            *(f"{to}__{name}" for to in ("institution", "unit") for name in names),
        )
        return (
            self.select_related("agreement_type")
            .only(
                "slug", "title", "signed_on", "signed_on_precision", "place", "agreement_type__name"
            )
            .prefetch_related(models.Prefetch("parties", queryset=parties))
        )


class Agreement(models.Model):
    class Status(models.TextChoices):
        # Only PUBLISHED is public. A withdrawn agreement goes back to DRAFT, the reason kept
        # in its StatusChange: it is corrected and reviewed again like any draft.
        DRAFT = "draft", _("draft")
        REVIEW = "review", _("in review")
        PUBLISHED = "published", _("published")

    slug = models.SlugField(
        _("key"),
        max_length=100,
        unique=True,
        help_text=_(
            "Stable identifier, used in the agreement's address and as its key in import files:"
            " lower-case letters, digits and hyphens, by convention the main parties' short"
            " names and the year signed (ecnu-huawei-2019). Changed after publication, it"
            " changes the public address."
        ),
    )
    title = models.CharField(_("title"), validators=[visible], max_length=300)
    agreement_type = models.ForeignKey(
        AgreementType, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("type")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    signed_on = models.DateField(_("date signed"), null=True, blank=True)
    signed_on_precision = precision_field()
    place = models.CharField(_("place"), max_length=300, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    starts_on = models.DateField(_("term starts"), null=True, blank=True)
    starts_on_precision = precision_field()
    ends_on = models.DateField(_("term ends"), null=True, blank=True)
    ends_on_precision = precision_field()
    term_years = models.PositiveSmallIntegerField(_("term in years"), null=True, blank=True)
    focus_areas = models.ManyToManyField(
        FocusArea, blank=True, related_name="agreements", verbose_name=_("focus areas")
    )
    # When it was last made public: a withdrawn agreement published again moves it (and to the
    # top of the feeds, which it had left).
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    # When it was first made public, which its page and the API give as the record's date of
    # publication: kept through a withdrawal, as the address others cited from that day on
    # stays the same record.
    first_published_at = models.DateTimeField(
        _("first published at"), null=True, blank=True, editable=False
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AgreementQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[focus_areas])

    class Meta:
        # Ending in the key, so that agreements of one date and title keep one order: pages
        # of a search never repeat or skip one, and a download lists them as shown.
        ordering = [F("signed_on").desc(nulls_last=True), "title", "-pk"]
        # In context: "agreements" alone is also a column of counts.
        verbose_name = pgettext_lazy("record", "agreement")
        verbose_name_plural = pgettext_lazy("record", "agreements")
        permissions = [("publish_agreement", "Can publish and withdraw agreements")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "review", "published"]),
                name="agreement_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="agreement_published_has_date",
            ),
            # As clean() and the importer compare them (PartialDate.last_day): an end known
            # to the month or year may run to the period's last day, so "from May 2020 to
            # some time in 2020" (2020-05-01 to 2020-01-01) is a term.
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on_precision=DatePrecision.DAY, ends_on__gte=F("starts_on"))
                | (
                    Q(ends_on_precision=DatePrecision.MONTH)
                    & Q(GreaterThanOrEqual(month_number("ends_on"), month_number("starts_on")))
                )
                | (
                    Q(ends_on_precision=DatePrecision.YEAR)
                    & Q(
                        GreaterThanOrEqual(
                            DatePart("ends_on", "year"), DatePart("starts_on", "year")
                        )
                    )
                ),
                name="agreement_term_ends_after_start",
                violation_error_message=_("The term cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(term_years__isnull=True) | Q(term_years__gte=1),
                name="agreement_term_years_positive",
                violation_error_message=_("A term lasts at least one year."),
            ),
            precision_constraint("signed_on", "agreement"),
            precision_constraint("starts_on", "agreement"),
            precision_constraint("ends_on", "agreement"),
            period_start_constraint("signed_on", "agreement"),
            period_start_constraint("starts_on", "agreement"),
            period_start_constraint("ends_on", "agreement"),
            not_blank_constraint("title", "agreement"),
            not_blank_constraint("slug", "agreement"),
        ]
        indexes = [
            # The public list: published agreements, newest first.
            models.Index(fields=["status", "signed_on"], name="agreement_status_signed_idx"),
            # The admin's list sorted by last change, newest first (or oldest, read backwards):
            # a page read from here rather than by sorting every agreement (290 ms at 100,000).
            models.Index(fields=["-updated_at", "-id"], name="agreement_updated_idx"),
            # The feeds: the latest published, read from here rather than by sorting every
            # published agreement (the whole feed 219 → 36 ms at 100,000; a company's 160 → 57).
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(status="published"),
                name="agreement_published_idx",
            ),
            # PostgreSQL has more, which SQLite cannot make (migrations 0006 and 0011).
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return record_url("agreements:detail", self.slug)

    @property
    def signed(self):
        return PartialDate.from_fields(self.signed_on, self.signed_on_precision)

    @property
    def starts(self):
        return PartialDate.from_fields(self.starts_on, self.starts_on_precision)

    @property
    def ends(self):
        return PartialDate.from_fields(self.ends_on, self.ends_on_precision)

    def signed_after_today(self):
        """Whether its date of signing is still to come (for a date known to the month or
        year, its period starts after today): a draft may be entered ahead of the ceremony,
        but what is published has been signed. Today where the signing was: see
        latest_today."""
        return self.signed_on is not None and self.signed_on > latest_today()

    def clean(self):
        settle_partial_dates(self, "signed_on", "starts_on", "ends_on")
        if self.starts and self.ends and self.ends.last_day < self.starts.date:
            raise ValidationError({"ends_on": _("The term cannot end before it starts.")})
        if self.status == self.Status.PUBLISHED and self.signed_after_today():
            raise ValidationError(
                {"signed_on": _("A published agreement has been signed: this date is to come.")}
            )

    # The review workflow. Each move is checked against TRANSITIONS and recorded as a
    # StatusChange; who may make it (Transition.who) is for the caller.

    def submit(self, *, by, comment=""):
        """An editor asks for this draft to be reviewed and published."""
        self.move("submit", by=by, comment=comment)

    def publish(self, *, by, comment=""):
        """Make a draft, or an agreement in review, public."""
        self.move("publish", by=by, comment=comment)

    def send_back(self, *, by, comment):
        """Return an agreement in review to draft, saying what needs changing."""
        self.move("send_back", by=by, comment=comment)

    def take_back(self, *, by, comment):
        """An editor takes back what awaits review, to change it before it is reviewed, saying
        why (for the publishers, who see it leave the review)."""
        self.move("take_back", by=by, comment=comment)

    def withdraw(self, *, by, reason):
        """Take a published agreement off the public site, back to draft, saying why."""
        self.move("withdraw", by=by, comment=reason)

    def mark_published(self, *, by):
        """Set what a publication records, unsaved: when and by whom, and the first time,
        kept through a withdrawal (the date the public record cites). For a move or an import."""
        self.published_at, self.published_by = timezone.now(), by
        self.first_published_at = self.first_published_at or self.published_at

    def move(self, name, *, by, comment=""):
        transition = TRANSITIONS[name]
        comment = comment.strip()
        with transaction.atomic():
            # The status as stored, under a lock: of two publishers acting on the same
            # agreement at once, the second sees the first one's move and is refused. No key
            # lock: rows referring to the agreement may be added meanwhile (see
            # registry.forms.SavedVersionForm).
            current = (
                Agreement.objects.select_for_update(no_key=True)
                .values_list("status", flat=True)
                .get(pk=self.pk)
            )
            transition.check(self, current, comment)
            self.status = transition.target
            fields = ["status", "updated_at"]
            if transition.target == self.Status.PUBLISHED:
                self.mark_published(by=by)
                fields += ["published_at", "published_by", "first_published_at"]
            self._history_user = by  # simple_history's record of this save names who moved it
            self.save(update_fields=fields)
            StatusChange.objects.create(
                agreement=self, from_status=current, to_status=self.status, by=by, comment=comment
            )
            if self.Status.PUBLISHED in (current, self.status):
                # What the public sees of the published agreements related to it changed too:
                # dated, so that a mirror reading what changed since reads them again.
                Agreement.objects.published().related_to(self).parts_changed()
                data_changed()


# Who may make a move (the admin checks: AgreementAdmin.may_move): whoever may change the
# agreement, publishers, or editors who may not publish (a publisher sends back instead,
# saying why).
CHANGERS, PUBLISHERS, EDITORS = "changers", "publishers", "editors"
PUBLISH_PERMISSION = "agreements.publish_agreement"


@dataclass(frozen=True)
class Transition:
    """A move of the review workflow: from which statuses, to which, who may make it and
    whether it must say why."""

    name: str
    label: str
    sources: tuple
    target: str
    who: str  # CHANGERS, PUBLISHERS or EDITORS
    needs_comment: bool
    refusal: str  # what may make this move, for the message refusing an illegal one

    def allowed_from(self, status):
        return status in self.sources

    def illegal_message(self, agreement, status):
        return _("“%(title)s” is %(status)s: %(rule)s") % {
            "title": agreement,
            "status": Agreement.Status(status).label,
            "rule": self.refusal,
        }

    def check(self, agreement, status, comment):
        if not self.allowed_from(status):
            raise ValidationError(
                self.illegal_message(agreement, status), code="illegal_transition"
            )
        if self.needs_comment and not comment:
            raise ValidationError(
                {"comment": _("Say why: %(move)s needs a comment.") % {"move": self.label}},
                code="comment_required",
            )
        if self.target != Agreement.Status.DRAFT and not agreement.parties.exists():
            # The admin asks for a party on saving; this holds for agreements saved otherwise.
            raise ValidationError(
                _("“%(title)s” has no party: add the institutions that signed it first.")
                % {"title": agreement},
                code="no_party",
            )
        if self.target == Agreement.Status.PUBLISHED and agreement.signed_after_today():
            raise ValidationError(
                _("“%(title)s” is signed on %(date)s, which is to come: publish it once signed.")
                % {"title": agreement, "date": agreement.signed},
                code="not_yet_signed",
            )


TRANSITIONS = {
    transition.name: transition
    for transition in [
        Transition(
            "submit",
            _("Submit for review"),
            (Agreement.Status.DRAFT,),
            Agreement.Status.REVIEW,
            who=CHANGERS,
            needs_comment=False,
            refusal=_("only a draft can be submitted for review."),
        ),
        # A publisher may publish a draft directly: they are the reviewers.
        Transition(
            "publish",
            _("Publish"),
            (Agreement.Status.DRAFT, Agreement.Status.REVIEW),
            Agreement.Status.PUBLISHED,
            who=PUBLISHERS,
            needs_comment=False,
            refusal=_("only a draft or an agreement in review can be published."),
        ),
        Transition(
            "send_back",
            _("Send back to draft"),
            (Agreement.Status.REVIEW,),
            Agreement.Status.DRAFT,
            who=PUBLISHERS,
            needs_comment=True,
            refusal=_("only an agreement in review can be sent back."),
        ),
        # Before a publisher has acted: what is taken back can be changed and submitted again.
        # Every move back to draft says why (StatusChange's constraint), this one too.
        Transition(
            "take_back",
            _("Take back to draft"),
            (Agreement.Status.REVIEW,),
            Agreement.Status.DRAFT,
            who=EDITORS,
            needs_comment=True,
            refusal=_("only an agreement in review can be taken back."),
        ),
        Transition(
            "withdraw",
            _("Withdraw"),
            (Agreement.Status.PUBLISHED,),
            Agreement.Status.DRAFT,
            who=PUBLISHERS,
            needs_comment=True,
            refusal=_("only a published agreement can be withdrawn."),
        ),
    ]
}


class StatusChange(models.Model):
    """One move of an agreement through the review workflow: who, when, from which status to
    which, and why. Written by Agreement.move() (and the importer), never edited."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=pgettext_lazy("field", "agreement"),
    )
    from_status = models.CharField(_("from"), max_length=10, choices=Agreement.Status.choices)
    to_status = models.CharField(_("to"), max_length=10, choices=Agreement.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    comment = models.TextField(_("comment or reason"), blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(from_status__in=["draft", "review", "published"])
                & Q(to_status__in=["draft", "review", "published"])
                & ~Q(from_status=F("to_status")),
                name="status_change_valid",
            ),
            # Sending back and withdrawing say why; so does an import that withdraws.
            models.CheckConstraint(
                condition=~Q(to_status="draft") | ~Q(comment=""),
                name="status_change_to_draft_says_why",
            ),
        ]
        indexes = [
            # An agreement's latest move (AgreementQuerySet.with_last_move), per changelist row.
            models.Index(fields=["agreement", "-at"], name="status_change_latest_idx"),
        ]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


def position_field():
    """A row's place among its agreement's parties, people, sources or photos."""
    return models.PositiveSmallIntegerField(pgettext_lazy("order", "position"), default=0)


class Party(models.Model):
    """An institution that is party to an agreement, and the unit of it that actually signed
    (a branch, a college, a business group), if the source names one."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="parties",
        verbose_name=pgettext_lazy("field", "agreement"),
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="parties",
        verbose_name=pgettext_lazy("field", "institution"),
    )
    unit = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parties_as_unit",
        verbose_name=_("unit"),
        help_text=_("The part of the institution that signed, if the source names one."),
    )
    position = position_field()

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "institution"], name="party_institution_once"
            ),
            models.CheckConstraint(
                condition=~Q(unit=F("institution")), name="party_unit_not_institution"
            ),
        ]

    def __str__(self):
        return f"{self.institution} ({self.unit})" if self.unit_id else str(self.institution)

    def clean(self):
        if self.unit_id and self.institution_id and self.institution not in self.unit.ancestors():
            raise ValidationError(
                {
                    "unit": _("%(unit)s is not part of %(institution)s.")
                    % {"unit": self.unit, "institution": self.institution}
                }
            )


class Role(models.TextChoices):
    SIGNATORY = "signatory", _("signatory")
    WITNESS = "witness", _("witness")
    ATTENDEE = "attendee", _("attendee")


class Participation(models.Model):
    """A person's role in one agreement, with the title and organisation they had then."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=pgettext_lazy("field", "agreement"),
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="participations", verbose_name=_("person")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    title = models.CharField(
        pgettext_lazy("a person's", "title"),
        max_length=300,
        blank=True,
        help_text=_("The title the person held at the time."),
    )
    organisation = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participations",
        verbose_name=_("organisation"),
        help_text=_("Where the person worked at the time; need not be a party."),
    )
    # RESTRICT, not PROTECT: deleting a party a signatory signed for is refused, but deleting
    # the whole agreement takes its parties and participations with it.
    party = models.ForeignKey(
        Party,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="signatories",
        verbose_name=_("signed on behalf of"),
    )
    position = position_field()

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "person", "role"], name="participation_once_per_role"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="participation_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(role=Role.SIGNATORY) | Q(party__isnull=True),
                name="participation_party_only_for_signatory",
            ),
            # That a signatory's party belongs to the same agreement spans two tables; a
            # trigger enforces it (migration 0002).
        ]

    def __str__(self):
        return f"{self.person} ({self.get_role_display()})"

    @property
    def title_alone(self):
        """The title without the organisation's name at its end: the pages show the
        organisation beside it, and sources often write "Vice Dean, College of Intelligence
        and Computing" as the title."""
        suffix = f", {self.organisation.name}" if self.organisation_id else None
        if suffix and self.title.endswith(suffix) and len(self.title) > len(suffix):
            return self.title[: -len(suffix)]
        return self.title

    def organisations_named(self):
        """What the public page names after the title: the organisation, and the institution
        it is a unit of ("School of Software, ECNU"), each unless the title names it already
        ("Vice Dean of the College of Intelligence and Computing")."""
        organisation = self.organisation
        if organisation is None:
            return []
        title = self.title_alone.casefold()
        return [
            institution
            for institution in (organisation, organisation.parent)
            if institution is not None and institution.name.casefold() not in title
        ]

    def clean(self):
        if self.party_id and self.role != Role.SIGNATORY:
            raise ValidationError({"party": _("Only a signatory signs on behalf of a party.")})
        if self.party_id and self.agreement_id and self.party.agreement_id != self.agreement_id:
            raise ValidationError({"party": _("That party belongs to another agreement.")})


class Source(models.Model):
    """An article that reports the agreement. Sources may disagree; each is kept as it is."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="sources",
        verbose_name=pgettext_lazy("field", "agreement"),
    )
    url = models.URLField(_("address"), max_length=500, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    published_on_precision = precision_field()
    note = models.TextField(
        _("note"),
        blank=True,
        help_text=_("What this source says that others do not, or contradicts."),
    )
    position = position_field()

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "url"], condition=~Q(url=""), name="source_url_once"
            ),
            precision_constraint("published_on", "source"),
            period_start_constraint("published_on", "source"),
            web_address_constraint("url", "source"),
        ]

    def __str__(self):
        return self.title or self.url or self.publisher

    @property
    def published(self):
        return PartialDate.from_fields(self.published_on, self.published_on_precision)

    def clean(self):
        settle_partial_dates(self, "published_on")


class Photo(models.Model):
    """An image of the agreement: the signing ceremony, a site visit."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="photos",
        verbose_name=pgettext_lazy("field", "agreement"),
    )
    image = models.ImageField(_("image"), upload_to="photos/", blank=True)
    thumbnail = models.ImageField(
        _("thumbnail"), upload_to="photos/thumbnails/", blank=True, editable=False
    )
    image_url = models.CharField(
        _("original address"),
        max_length=500,
        blank=True,
        help_text=_("Where the image was found, as given by the source or import file."),
    )
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True)
    position = position_field()

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return self.caption or self.image_url or f"Photo {self.pk}"

    @property
    def original_url(self):
        """The web address the image was found at, to link to; "" for anything else an import
        may have given (a path on the importer's machine)."""
        return self.image_url if self.image_url.startswith(("https://", "http://")) else ""


class RelationType(models.TextChoices):
    FOLLOWS = "follows", _("follows")
    RENEWS = "renews", _("renews")
    AMENDS = "amends", _("amends")
    SUPERSEDES = "supersedes", _("supersedes")
    IMPLEMENTS = "implements", _("implements")


class AgreementRelation(models.Model):
    """`source` follows / renews / amends / supersedes / implements `target`."""

    source = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="relations",
        verbose_name=pgettext_lazy("field", "agreement"),
    )
    target = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="incoming_relations",
        verbose_name=pgettext_lazy("relation", "other agreement"),
    )
    type = models.CharField(_("type"), max_length=12, choices=RelationType.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["type", "target__slug"]
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "type"], name="agreement_relation_once"
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")),
                name="agreement_relation_not_to_itself",
                violation_error_message=_("An agreement cannot relate to itself."),
            ),
            models.CheckConstraint(
                condition=Q(type__in=RelationType.values), name="agreement_relation_type_valid"
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.get_type_display()} {self.target}"

    def clean(self):
        # Each kind says which of the two came after, or rests on, the other: both ways
        # contradict each other. (Not a constraint: no unique index can say it of every
        # kind, and a file may turn a relation around; the importer checks it at its end.)
        if self.source_id is None or self.target_id is None:
            return
        other_way = AgreementRelation.objects.filter(
            source=self.target_id, target=self.source_id
        ).first()
        if other_way is not None:
            message = _(
                "“%(other)s” %(type)s this agreement already: two agreements relate in one"
                " direction only."
            )
            values = {"other": other_way.source, "type": other_way.get_type_display()}
            raise ValidationError({"target": message % values})


# The search's derived, read-only relations (migration 0008), registered with this app.
from agreements.search_index import SearchDocument, SearchLink, SearchTotal  # noqa: E402, F401
