"""A forgotten password: Django's own reset by mail, with the admin's pages (styled and
translated by Django), for active staff only, and limited like sign-in (registry/login_limit.py)
so that the form cannot be used to flood a mailbox or to send mail for the whole staff.

The answer is the same whether the address has an account or not: a link is sent only to an
active staff user with a usable password, and every request is counted alike."""

import functools
import hashlib
import logging
import unicodedata

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.urls import path, re_path
from django.utils.translation import gettext_noop

from registry.login_limit import client_address, forgive_failures
from registry.logs import digest, staff

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60 * 60

# Two messages of Django 5.2's pages that its Chinese catalogue lacks (the sign-in page's link
# here, the mail's reminder of the username): marked so that our catalogue translates them.
gettext_noop("Forgotten your login credentials?")
gettext_noop("In case you’ve forgotten, you are:")


class StaffPasswordResetForm(PasswordResetForm):
    def get_users(self, email):
        # Django's already leaves out inactive users and those without a usable password; a
        # user taken off staff has no back office to go back to.
        self.accounts = [user for user in super().get_users(email) if user.is_staff]
        return self.accounts

    def save(self, *args, request, **kwargs):
        super().save(*args, request=request, **kwargs)
        # The address typed is said only as a digest when no account has it: a stranger's
        # address, or a colleague's private one, is not for the log.
        accounts = ",".join(map(staff, self.accounts)) or (
            "none email=" + digest(self.cleaned_data["email"].casefold())
        )
        logger.info(
            "Password reset asked: accounts=%s address=%s", accounts, client_address(request)
        )


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # Its owner proved the mailbox theirs: a lockout from here ends, as a success's would.
        forgive_failures(self.request, username=form.user.get_username())
        logger.info(
            "Password reset done: account=%s address=%s",
            staff(form.user),
            client_address(self.request),
        )
        return response


def requests_keys(request):
    """The keys of the requests counted for this mail address, and from this network address."""
    email = unicodedata.normalize("NFKC", request.POST.get("email", "")).strip().casefold()
    return (
        "password-reset-mail:" + hashlib.sha256(email.encode()).hexdigest(),
        "password-reset-from:" + hashlib.sha256(client_address(request).encode()).hexdigest(),
    )


def limit_reset_requests(reset_view):
    @functools.wraps(reset_view)
    def view(request, *args, **kwargs):
        if request.method != "POST":
            return reset_view(request, *args, **kwargs)
        mail, address = requests_keys(request)
        counts = cache.get_many([mail, address])
        mail_count, address_count = counts.get(mail, 0), counts.get(address, 0)
        if (
            mail_count >= settings.PASSWORD_RESET_MAIL_LIMIT
            or address_count >= settings.PASSWORD_RESET_ADDRESS_LIMIT
        ):
            response = render(request, "registry/password_reset_refused.html", status=429)
            response["Retry-After"] = str(WINDOW_SECONDS)
            logger.warning("Password reset refused, too many: address=%s", client_address(request))
            return response
        response = reset_view(request, *args, **kwargs)
        # Redirected to "sent" when the form was valid, whoever the address belongs to.
        if response.status_code == 302:
            cache.set_many({mail: mail_count + 1, address: address_count + 1}, WINDOW_SECONDS)
        return response

    return view


def not_offered(request, *args, **kwargs):
    raise Http404


def patterns(*, offered):
    """The reset's addresses, under the admin's; named as Django's views and the admin's
    sign-in page look for them (its link shows when "admin_password_reset" exists)."""
    if not offered:
        return [re_path(r"^", not_offered)]
    titles = {"site_header": admin.site.site_header, "site_title": admin.site.site_title}
    reset = auth_views.PasswordResetView.as_view(
        form_class=StaffPasswordResetForm,
        extra_context=titles,
        # The mail's subject and signature name the registry, not the host it was asked on.
        extra_email_context={"site_name": admin.site.site_title},
    )
    return [
        path("", limit_reset_requests(reset), name="admin_password_reset"),
        path(
            "sent/",
            auth_views.PasswordResetDoneView.as_view(extra_context=titles),
            name="password_reset_done",
        ),
        path(
            "<uidb64>/<token>/",
            PasswordResetConfirmView.as_view(extra_context=titles),
            name="password_reset_confirm",
        ),
        path(
            "done/",
            auth_views.PasswordResetCompleteView.as_view(extra_context=titles),
            name="password_reset_complete",
        ),
    ]
