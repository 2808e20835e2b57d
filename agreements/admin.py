from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from agreements.filters import matching_terms, search_terms
from agreements.forms import (
    AgreementForm,
    AgreementRelationForm,
    ParticipationForm,
    ParticipationFormSet,
    PartyFormSet,
    SourceFormSet,
)
from agreements.models import (
    EDITORS,
    PUBLISH_PERMISSION,
    PUBLISHERS,
    TRANSITIONS,
    Agreement,
    AgreementRelation,
    AgreementType,
    Participation,
    Party,
    Photo,
    Source,
    StatusChange,
)
from agreements.notifications import send_move_mails
from agreements.search_index import refreshed_once
from registry.admin import (
    URL_FORMFIELD,
    HistoryAdmin,
    ReadOnlyInline,
    TabularInline,
    thumbnail,
)
from registry.forms import PartialDatesForm, ProcessedImageForm

# The buttons that save and then move the agreement on, beside "Save"
# (templates/admin/agreements/agreement/submit_line.html). Moves that need a comment (send
# back, withdraw) have a page of their own (AgreementAdmin.move_view).
SUBMIT, PUBLISH = "_submit", "_publish"
# What the admin's log and the messages say of each move.
MOVE_DONE = {
    "submit": _("Submitted for review."),
    "publish": _("Published."),
    "send_back": _("Sent back to draft."),
    "take_back": _("Taken back to draft."),
    "withdraw": _("Withdrawn to draft."),
}
# The most agreements a new one's warning names as likely the same.
WARNED = 3
# The titles a move of many agreements lists before asking for its comment; the rest counted.
MOVES_LISTED = 100
# The most agreements one action moves: each is checked, recorded and logged (some 40 ms on
# PostgreSQL), and the page must be done within the 30 s the server gives it (bin/start).
MAX_MOVES = 500


class MoveForm(forms.Form):
    # Focused on arrival: the comment is all the page asks; without it, a keyboard user came
    # to it through the header and the admin's whole sidebar, and after an error too.
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 4, "autofocus": True})
    )

    def __init__(self, *args, transition, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["comment"]
        field.required = transition.needs_comment
        field.label = _("Reason") if transition.name == "withdraw" else _("Comment")
        field.help_text = (
            _("Required: it is kept with the agreement's history and shown to its editors.")
            if transition.needs_comment
            else _("Optional.")
        )


class StatusChangeInline(ReadOnlyInline):
    """The agreement's moves through the review workflow, newest first; a record, not a form."""

    model = StatusChange
    fields = ["at", "from_status", "to_status", "by", "comment"]
    readonly_fields = fields
    verbose_name = _("status change")
    verbose_name_plural = _("review workflow: status changes")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_view_permission(self, request, obj=None):
        # Whoever sees the agreement sees how it moved.
        return request.user.has_perm("agreements.view_agreement")


class MovedByFilter(admin.SimpleListFilter):
    title = _("last moved by")
    parameter_name = "moved_by"

    def lookups(self, request, model_admin):
        users = (
            get_user_model()
            .objects.filter(pk__in=StatusChange.objects.values("by"))
            .order_by("username")
        )
        return [(user.username, user.username) for user in users]

    def queryset(self, request, queryset):
        # The changelist's queryset has with_last_move() already.
        return queryset.filter(moved_by=self.value()) if self.value() else queryset


class PartyInline(TabularInline):
    model = Party
    formset = PartyFormSet
    fields = ["institution", "unit", "position"]
    autocomplete_fields = ["institution", "unit"]
    units_of = {"unit": "institution"}  # and so the autocomplete's unit_fields (registry/urls)

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj else 2  # most agreements have two parties


class ParticipationInline(TabularInline):
    model = Participation
    form = ParticipationForm
    formset = ParticipationFormSet
    fields = ["person", "role", "title", "organisation", "on_behalf_of", "position"]
    autocomplete_fields = ["person", "organisation"]
    extra = 1

    def get_queryset(self, request):
        # With what an institution's choice_label reads (for "signed on behalf of").
        return (
            super()
            .get_queryset(request)
            .select_related("party__institution__parent", "party__unit__parent")
        )

    # The form's field, read: where the inline is read-only (an editor's view of an agreement
    # in review) the admin shows this rather than the form's field.
    @admin.display(description=_("signed on behalf of"))
    def on_behalf_of(self, participation):
        party = participation.party
        return (party.unit or party.institution) if party else self.get_empty_value_display()


class SourceInline(admin.StackedInline):
    model = Source
    form = PartialDatesForm
    formset = SourceFormSet
    formfield_overrides = URL_FORMFIELD
    fields = [
        "url",
        ("title", "publisher"),
        ("published_on", "published_on_precision"),
        "note",
        "position",
    ]
    extra = 1


class PhotoInline(TabularInline):
    model = Photo
    form = ProcessedImageForm
    fields = ["preview", "image", "image_url", "caption", "credit", "position"]
    readonly_fields = ["preview"]
    extra = 0

    @admin.display(description=_("thumbnail"))
    def preview(self, photo):
        return thumbnail(photo.thumbnail)


class AgreementRelationInline(TabularInline):
    model = AgreementRelation
    form = AgreementRelationForm
    fk_name = "source"
    autocomplete_fields = ["target"]
    extra = 0
    verbose_name = _("relation to another agreement")
    verbose_name_plural = _("relations to other agreements")


class SearchRefreshedOnce:
    """A save through this admin refreshes the search's documents and links once, at its end,
    for every agreement its form and inlines touched, rather than once for each row it
    writes. On PostgreSQL, with 20,000 generated agreements: three new other names and a
    native name for the company in 4,609 of them took 12 s (four refreshes of 3 s, most of it
    the trigram index), now 4 s; an agreement of three parties, six people, three
    technologies and two sources 85 to 125 ms, now 35 ms."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic(using=router.db_for_write(self.model)), refreshed_once():
            return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Agreement)
class AgreementAdmin(SearchRefreshedOnce, HistoryAdmin):
    form = AgreementForm
    list_display = [
        "title",
        "party_names",
        "agreement_type",
        "signed",
        "focus_area_names",
        "state",
        "updated_at",
    ]
    list_filter = ["status", MovedByFilter, "agreement_type", "focus_areas"]
    list_select_related = ["agreement_type"]
    date_hierarchy = "signed_on"
    # Each term is found where the public search finds it, drafts included: in the agreement's
    # search document (titles, summaries, places, every name of a party, unit, participant,
    # lab or technology), through its trigram index. Django's search across the eight tables
    # took 6 to 9 s at 100,000 agreements (docs/performance.md).
    search_fields = ["search_document__document__matches"]
    autocomplete_fields = ["focus_areas"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "status",
        "first_published_at",
        "published_at",
        "published_by",
        "created_at",
        "updated_at",
    ]
    # Restoring an earlier version restores its texts, dates and links; the status changes only
    # by a move of the review workflow, and the version is checked as the agreement is now.
    kept_on_restore = ["status", "first_published_at", "published_at", "published_by"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "agreement_type",
                    ("signed_on", "signed_on_precision"),
                    "place",
                    "summary",
                    "focus_areas",
                    "loaded_version",
                ]
            },
        ),
        (
            _("Term"),
            {
                "fields": [
                    ("starts_on", "starts_on_precision"),
                    ("ends_on", "ends_on_precision"),
                    "term_years",
                ]
            },
        ),
        (
            _("Publication"),
            {"fields": readonly_fields},
        ),
    ]
    # Parties come first: a signatory's party is looked up among the saved parties.
    inlines = [
        PartyInline,
        ParticipationInline,
        SourceInline,
        PhotoInline,
        AgreementRelationInline,
        StatusChangeInline,
    ]
    actions = [
        "delete_selected",
        "submit_selected",
        "take_back_selected",
        "publish_selected",
        "send_back_selected",
        "withdraw_selected",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_last_move()
            .prefetch_related(
                Prefetch("parties", queryset=Party.objects.select_related("institution", "unit")),
                "focus_areas",
            )
        )

    def choice_label(self, agreement):
        """How an autocomplete (a relation's other agreement, a lab's) names an agreement: by
        its title, date and key, as an agreement and its renewal often share a title."""
        said = [str(agreement.signed)] if agreement.signed else []
        return f"{agreement.title} ({', '.join([*said, agreement.slug])})"

    def get_search_results(self, request, queryset, search_term):
        # An agreement's slug, as its public address has it, finds that agreement alone.
        slug = search_term.strip()
        if slug and queryset.filter(slug=slug).exists():
            return queryset.filter(slug=slug), False
        # Otherwise the words as the public search reads them (full width, Chinese quotes and
        # commas, a year, a dash beside a space), where Django's own split read "华为、5G" or
        # “smart city” as one word and found nothing. Still the search document alone: one
        # row per agreement, so no duplicates.
        terms = search_terms(search_term)
        return (queryset.filter(matching_terms(terms)) if terms else queryset), False

    @admin.display(description=_("parties"))
    def party_names(self, agreement):
        return "; ".join(str(party) for party in agreement.parties.all())

    @admin.display(description=_("date signed"), ordering="signed_on")
    def signed(self, agreement):
        return agreement.signed

    @admin.display(description=_("focus areas"))
    def focus_area_names(self, agreement):
        return ", ".join(area.name for area in agreement.focus_areas.all())

    @admin.display(description=_("state / moved by"), ordering="moved_at")
    def state(self, agreement):
        """The status, and who last moved it, when (from with_last_move())."""
        if agreement.moved_at is None:
            return agreement.get_status_display()
        state = _("%(status)s — %(by)s, %(when)s") % {
            "status": agreement.get_status_display(),
            "by": agreement.moved_by or _("unknown"),
            "when": date_format(timezone.localtime(agreement.moved_at), "DATETIME_FORMAT"),
        }
        # Why it was sent back or withdrawn (or what the submitter said), where whoever is to
        # act on it looks first.
        if agreement.move_comment:
            return f"{state}: “{Truncator(agreement.move_comment).chars(100)}”"
        return state

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def has_submit_permission(self, request):
        return self.has_change_permission(request)

    def has_change_permission(self, request, obj=None):
        # Editors change drafts only. What awaits review is what the publisher reviews, and a
        # published agreement changes only by a publisher's hand (who may withdraw it to
        # draft for its editors): no editor's save changes what the public sees.
        if (
            obj is not None
            and obj.status != Agreement.Status.DRAFT
            and not self.has_publish_permission(request)
            and not saved_since_opened(request, obj)
        ):
            return False
        return super().has_change_permission(request, obj)

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Nor are its parts theirs to change, whatever their permissions on the parts.
            for inline in inlines:
                inline.has_add_permission = inline.has_change_permission = (
                    inline.has_delete_permission
                ) = lambda request, obj=None: False
                inline.max_num = 0
        return inlines

    def has_delete_permission(self, request, obj=None):
        # A published agreement leaves the public record by a withdrawal, which says who
        # withdrew it and why, tells its submitter, and dates the agreements that named it;
        # then, a draft, it may be deleted. No "Delete" on its page: its "Withdraw" instead.
        if obj is not None and obj.status == Agreement.Status.PUBLISHED:
            return False
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        agreement = self.get_object(request, unquote(object_id))
        # Told so, where the delete would otherwise be allowed: published since its page was
        # opened, say (Django answers 403 to what may not be deleted, saying nothing).
        if (
            agreement is not None
            and agreement.status == Agreement.Status.PUBLISHED
            and super().has_delete_permission(request, agreement)
        ):
            message = _("“%(title)s” is published: withdraw it first, saying why, then delete it.")
            self.message_user(request, message % {"title": agreement}, messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:agreements_agreement_change", args=[agreement.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(
        description=admin_actions.delete_selected.short_description, permissions=["delete"]
    )
    def delete_selected(self, request, queryset):
        """Django's own, but none of the selected may be published (has_delete_permission):
        all or nothing, as a deletion's confirmation lists every one selected."""
        if published := queryset.filter(status=Agreement.Status.PUBLISHED).count():
            message = ngettext(
                "%(count)d of the selected agreements is published: withdraw it first, saying "
                "why, then delete it. Nothing was deleted.",
                "%(count)d of the selected agreements are published: withdraw them first, "
                "saying why, then delete them. Nothing was deleted.",
                published,
            )
            self.message_user(request, message % {"count": published}, messages.ERROR)
            return None
        return admin_actions.delete_selected(self, request, queryset)

    def has_take_back_permission(self, request):
        return self.has_change_permission(request) and not self.has_publish_permission(request)

    def may_move(self, request, agreement, transition):
        if transition.who == PUBLISHERS:
            return self.has_publish_permission(request)
        if transition.who == EDITORS:
            # Whatever the status: an agreement in review is read-only to its editors.
            return self.has_take_back_permission(request)
        return self.has_change_permission(request, agreement)

    def allowed_moves(self, request, agreement):
        return [
            transition
            for transition in TRANSITIONS.values()
            if transition.allowed_from(agreement.status)
            and self.may_move(request, agreement, transition)
        ]

    def move(self, request, agreements, transition, comment=""):
        """Make the move of each of `agreements` and log it, or tell the user why one cannot
        be made; those moved, whose publishers or submitter are mailed once it is committed.
        Of the whole save, for the buttons beside "Save": no mail tells of a rolled-back move."""
        moved = []
        for agreement in agreements:
            try:
                agreement.move(transition.name, by=request.user, comment=comment)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                continue
            self.log_change(request, agreement, f"{MOVE_DONE[transition.name]} {comment}".strip())
            moved.append(agreement)
        if moved:
            transaction.on_commit(
                lambda: self.mail_moves(request, moved, transition, comment.strip())
            )
        return moved

    def mail_moves(self, request, agreements, transition, comment):
        failed = send_move_mails(
            name=transition.name,
            agreements=agreements,
            by=request.user,
            comment=comment,
            absolute_url=request.build_absolute_uri,
        )
        if failed:
            # Logged with the error (agreements.notifications); the moves stay made.
            self.message_user(
                request,
                ngettext(
                    "Done, but %(count)d mail telling of it could not be sent: the error is "
                    "in the log.",
                    "Done, but %(count)d mails telling of it could not be sent: the error is "
                    "in the log.",
                    failed,
                )
                % {"count": failed},
                messages.WARNING,
            )

    # Actions: each moves the selected agreements that can make the move, and says how many
    # could not. Sending back and withdrawing first ask for the comment.

    @admin.action(description=_("Submit selected drafts for review"), permissions=["submit"])
    def submit_selected(self, request, queryset):
        return self.move_selected(request, queryset, "submit")

    @admin.action(description=_("Publish selected agreements"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        return self.move_selected(request, queryset, "publish")

    @admin.action(description=_("Send selected agreements back to draft"), permissions=["publish"])
    def send_back_selected(self, request, queryset):
        return self.move_selected(request, queryset, "send_back")

    @admin.action(
        description=_("Take selected agreements back to draft"), permissions=["take_back"]
    )
    def take_back_selected(self, request, queryset):
        return self.move_selected(request, queryset, "take_back")

    @admin.action(description=_("Withdraw selected agreements to draft"), permissions=["publish"])
    def withdraw_selected(self, request, queryset):
        return self.move_selected(request, queryset, "withdraw")

    def move_selected(self, request, queryset, name):
        transition = TRANSITIONS[name]
        if (selected := queryset.count()) > MAX_MOVES:
            message = _(
                "%(count)d agreements are selected; a move takes at most %(limit)d at a time. "
                "Choose fewer, or narrow the list with its filters first."
            )
            self.message_user(
                request, message % {"count": selected, "limit": MAX_MOVES}, messages.ERROR
            )
            return None
        movable = [agreement for agreement in queryset if transition.allowed_from(agreement.status)]
        skipped = len(queryset) - len(movable)
        comment = ""
        if transition.needs_comment and movable:
            form = MoveForm(
                request.POST if "apply" in request.POST else None, transition=transition
            )
            if not form.is_valid():
                # The form posts the selection back as the list posted it (its page's boxes,
                # and "select all" of its filters), not one field per agreement: the server
                # refuses a request of more than 1,000 fields.
                context = {
                    **self.admin_site.each_context(request),
                    "title": transition.label,
                    "opts": self.opts,
                    "transition": transition,
                    "form": form,
                    "count": len(movable),
                    "agreements": movable[:MOVES_LISTED],
                    "more": max(len(movable) - MOVES_LISTED, 0),
                    "skipped": skipped,
                    "action": request.POST["action"],
                    "select_across": request.POST.get("select_across", "0"),
                    "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                }
                return TemplateResponse(
                    request, "admin/agreements/agreement/move_selected.html", context
                )
            comment = form.cleaned_data["comment"]
        moved = len(self.move(request, movable, transition, comment))
        self.message_user(
            request,
            ngettext("%(move)s: %(count)d agreement.", "%(move)s: %(count)d agreements.", moved)
            % {"move": transition.label, "count": moved},
            messages.SUCCESS if moved else messages.WARNING,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d agreement was left as it is: %(rule)s",
                    "%(count)d agreements were left as they are: %(rule)s",
                    skipped,
                )
                % {"count": skipped, "rule": transition.refusal},
                messages.WARNING,
            )
        return None

    # Pages of their own: one move of one agreement, and what awaits review.

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "awaiting-review/",
                self.admin_site.admin_view(self.awaiting_review_view),
                name=f"{prefix}_awaiting_review",
            ),
            path(
                "<path:object_id>/move/<str:name>/",
                self.admin_site.admin_view(self.move_view),
                name=f"{prefix}_move",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, object_id, name):
        """A form for one move (its comment or reason), sent by POST only."""
        agreement = self.get_object(request, unquote(object_id))
        transition = TRANSITIONS.get(name)
        if agreement is None or transition is None:
            raise Http404
        # Before anything is said of it: the refusal below names the agreement, and staff
        # who may not see agreements learnt a draft's title from it, by its number.
        if not self.has_view_or_change_permission(request, agreement):
            raise PermissionDenied
        change_url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
        # Before the permission, which the status decides for an editor: a draft submitted
        # twice (from a page opened before the first) is told so, not refused.
        if not transition.allowed_from(agreement.status):
            self.message_user(
                request, transition.illegal_message(agreement, agreement.status), messages.ERROR
            )
            return HttpResponseRedirect(change_url)
        if not self.may_move(request, agreement, transition):
            raise PermissionDenied
        form = MoveForm(request.POST or None, transition=transition)
        if request.method == "POST" and form.is_valid():
            if self.move(request, [agreement], transition, form.cleaned_data["comment"]):
                self.message_user(
                    request,
                    _("“%(title)s”: %(done)s")
                    % {"title": agreement, "done": MOVE_DONE[transition.name]},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(move)s: %(title)s") % {"move": transition.label, "title": agreement},
            "opts": self.opts,
            "original": agreement,
            "transition": transition,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/agreements/agreement/move.html", context)

    def awaiting_review_view(self, request):
        """For publishers: the agreements in review, the longest waiting first."""
        if not self.has_publish_permission(request):
            raise PermissionDenied
        waiting = (
            Agreement.objects.filter(status=Agreement.Status.REVIEW)
            .with_last_move()
            .select_related("agreement_type")
            .prefetch_related(
                Prefetch("parties", queryset=Party.objects.select_related("institution", "unit"))
            )
            .order_by("moved_at", "pk")
        )
        page = Paginator(waiting, self.list_per_page).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Awaiting review"),
            "opts": self.opts,
            "page": page,
        }
        return TemplateResponse(request, "admin/agreements/agreement/awaiting_review.html", context)

    # The change page: links to the moves this user may make, and buttons that save and then
    # submit or publish.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        can_publish = self.has_publish_permission(request)
        if PUBLISH in request.POST and not can_publish:
            raise PermissionDenied
        agreement = self.get_object(request, unquote(object_id)) if object_id else None
        extra_context = {
            **(extra_context or {}),
            "can_publish": can_publish,
            "moves": self.allowed_moves(request, agreement) if agreement else [],
            # Shown above the form: why it was sent back, taken back or withdrawn (or what the
            # submitter said), where its editors look first, not only in the table below.
            "last_move": (
                agreement.status_changes.select_related("by").first() if agreement else None
            ),
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        # Once its parties are saved: an agreement entered twice (from two articles on one
        # signing, say) is said so now, not found by its reviewer, or by nobody.
        # Editors may not delete an agreement: they are told who can.
        if self.has_delete_permission(request):
            warning = _(
                "“{agreement}” may be an agreement entered already: "
                '<a href="{url}">“{other}”</a> ({status}). If it is, delete one of them.'
            )
        else:
            warning = _(
                "“{agreement}” may be an agreement entered already: "
                '<a href="{url}">“{other}”</a> ({status}). If it is, ask a publisher to delete '
                "one of them."
            )
        for other in Agreement.objects.likely_same_as(obj)[:WARNED]:
            self.message_user(
                request,
                format_html(
                    warning,
                    agreement=obj,
                    url=reverse("admin:agreements_agreement_change", args=[other.pk]),
                    other=other,
                    status=other.get_status_display(),
                ),
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)

    def save_model(self, request, obj, form, change):
        # Saved as it was opened, it is left as it is, and so is its "last updated" (the
        # public's, and the version an edit conflict is told by); unless a part changed, which
        # save_related finds out once the formsets are saved.
        if not saved_as_opened(form, change):
            renamed = change and obj.status == Agreement.Status.PUBLISHED and key_changed(obj)
            super().save_model(request, obj, form, change)
            if renamed:
                # The records of the published agreements related to it give its key: dated,
                # so that a mirror reading what changed since reads them again, as a move
                # dates them.
                Agreement.objects.published().related_to(obj).parts_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if saved_as_opened(form, change) and any(formset.has_changed() for formset in formsets):
            # Only its parts changed (a party, a source): dated and recorded as before.
            super().save_model(request, form.instance, form, change)
        name = (
            "submit" if SUBMIT in request.POST else "publish" if PUBLISH in request.POST else None
        )
        if name and self.move(request, [form.instance], TRANSITIONS[name]):
            self.message_user(
                request,
                _("“%(title)s”: %(done)s") % {"title": form.instance, "done": MOVE_DONE[name]},
                messages.SUCCESS,
            )


def saved_as_opened(form, change):
    """Whether a change page's own fields are saved as they were opened (its inlines aside). A
    version restored from the history is not: its form opened on that version's values."""
    restoring = getattr(form.instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None) is not None
    return change and not restoring and not form.has_changed()


def key_changed(agreement):
    """Whether `agreement`, changed and not yet saved, is to be saved under another key than
    the one stored (by its form, or a version restored from the history)."""
    stored = Agreement.objects.filter(pk=agreement.pk).values_list("slug", flat=True).first()
    return stored != agreement.slug


def saved_since_opened(request, agreement):
    """Whether this request saves a change page opened before the agreement's last save: the
    form refuses it as an edit conflict (registry.forms.SavedVersionForm), and keeps what the
    editor typed on the page. Refused instead for the status the agreement has moved to since
    (submitted, published), the save would be a 403, and all the editor typed lost."""
    opened = request.POST.get("loaded_version") if request.method == "POST" else None
    return bool(opened) and opened != agreement.updated_at.isoformat()


@admin.register(AgreementType)
class AgreementTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "synonyms", "agreement_count"]
    list_filter = [("agreements", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug", "synonyms"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(agreement_count=Count("agreements"))

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count(self, agreement_type):
        return agreement_type.agreement_count
