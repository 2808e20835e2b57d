"""Mail of the review workflow, to staff alone: publishers learn what awaits their review, an
editor what became of what they submitted (published, sent back, withdrawn).

Sent by the admin once its moves are committed (AgreementAdmin.move): the moves themselves
(Agreement.move), the importer and the management commands send none. One mail per
recipient for all the agreements one action moved, never one per agreement.

The users have no language of their own: each mail says what happened in each of the site's
languages (the site's own first), and lists the agreements once."""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from agreements.models import PUBLISH_PERMISSION, Agreement, StatusChange

logger = logging.getLogger(__name__)

# What each move's mail says, to its publishers (submit) or to the agreements' submitter.
SAID = {
    "submit": lambda count: ngettext(
        "%(user)s submitted %(count)d agreement for review.",
        "%(user)s submitted %(count)d agreements for review.",
        count,
    ),
    "publish": lambda count: ngettext(
        "%(user)s published %(count)d agreement you submitted.",
        "%(user)s published %(count)d agreements you submitted.",
        count,
    ),
    "send_back": lambda count: ngettext(
        "%(user)s sent %(count)d agreement you submitted back to draft.",
        "%(user)s sent %(count)d agreements you submitted back to draft.",
        count,
    ),
    "withdraw": lambda count: ngettext(
        "%(user)s withdrew %(count)d agreement you submitted to draft: it is no longer public.",
        "%(user)s withdrew %(count)d agreements you submitted to draft: they are no longer public.",
        count,
    ),
}


def send_move_mails(*, name, agreements, by, comment, absolute_url):
    """Mail those whom `by`'s move `name` of `agreements` (committed) concerns;
    `absolute_url(path)` makes a link. A mail that cannot be made or sent is logged, and
    counted in the number returned: the moves stay made."""
    if not settings.REVIEW_MAIL or name not in SAID:
        return 0
    try:
        mails = move_mails(
            name=name, agreements=agreements, by=by, comment=comment, absolute_url=absolute_url
        )
    except Exception:
        logger.exception("The mail of a review move (%s) could not be made", name)
        return 1
    return send(mails)


def move_mails(*, name, agreements, by, comment, absolute_url):
    """The mails of one move of `agreements`: one to each recipient, listing theirs."""
    said = {"name": name, "by": by, "comment": comment, "absolute_url": absolute_url}
    if name == "submit":
        return [
            mail_to(user, agreements=agreements, **said) for user in publishers().exclude(pk=by.pk)
        ]
    # Whoever submitted each for the review that led here; in a few queries, however many.
    latest_submit = StatusChange.objects.filter(
        agreement=OuterRef("pk"), to_status=Agreement.Status.REVIEW
    ).order_by("-at", "-pk")
    moved = Agreement.objects.filter(pk__in=[agreement.pk for agreement in agreements]).annotate(
        submitter=Subquery(latest_submit.values("by")[:1])
    )
    by_submitter = {}
    for agreement in moved:
        by_submitter.setdefault(agreement.submitter, []).append(agreement)
    users = get_user_model().objects.filter(pk__in=by_submitter).exclude(pk=by.pk)
    submitters = staff_with_mail(users)
    return [mail_to(user, agreements=by_submitter[user.pk], **said) for user in submitters]


def staff_with_mail(users):
    """Who may be told of agreements not public: active staff, and with a mail address."""
    return users.filter(is_active=True, is_staff=True).exclude(email="").order_by("pk")


def publishers():
    # Whom the admin lets publish: with the permission, their own or a group's, or superusers.
    return staff_with_mail(get_user_model().objects.with_perm(PUBLISH_PERMISSION))


def mail_to(user, *, name, agreements, by, comment, absolute_url):
    count, who = len(agreements), by.get_full_name() or by.get_username()
    sentences, paragraphs = [], []
    for language in dict.fromkeys([settings.LANGUAGE_CODE, *dict(settings.LANGUAGES)]):
        with translation.override(language):
            sentence = SAID[name](count) % {"user": who, "count": count}
            label = gettext("Reason") if name == "withdraw" else gettext("Comment")
        sentences.append(sentence.rstrip(".。"))
        paragraphs.append(f"{sentence}\n{label}: {comment}" if comment else sentence)
    # What the catalogue does not translate yet is said once.
    lines = [f"{paragraph}\n" for paragraph in dict.fromkeys(paragraphs)]
    for agreement in agreements:
        lines += [
            f"- {agreement.title}",
            "  " + absolute_url(reverse("admin:agreements_agreement_change", args=[agreement.pk])),
        ]
        if name == "publish":
            lines.append("  " + absolute_url(agreement.get_absolute_url()))
    with translation.override(settings.LANGUAGE_CODE):
        subject = f"{admin.site.site_title}: {' / '.join(dict.fromkeys(sentences))}"
    return mail.EmailMessage(subject, "\n".join(lines) + "\n", to=[user.email])


def send(mails):
    """Send each mail over one connection; log each that fails. How many failed."""
    if not mails:
        return 0
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception:
        logger.exception("Review mails not sent: the mail server could not be reached")
        return len(mails)
    failed = 0
    try:
        for message in mails:
            # Any error of any backend: the move is made, and one failure stops no other mail.
            try:
                connection.send_messages([message])
            except Exception:
                logger.exception("A review mail to %s was not sent", ", ".join(message.to))
                failed += 1
    finally:
        connection.close()
    return failed
