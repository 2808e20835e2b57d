"""Staff sign-in is limited per account and address: after settings.LOGIN_FAILURE_LIMIT failed
attempts for one account from one address, that pair is refused (429) until
LOGIN_LOCKOUT_MINUTES have passed since the last failure.

Keyed on the pair, as django-axes does by default: a stranger who guesses at an account does
not lock its owner out, and colleagues behind one university address do not lock each other
out. But one address guessing at many accounts (a few common passwords tried on every name
it can think of) would never reach a pair's limit: so an address is also refused, for every
account, after LOGIN_ADDRESS_FAILURE_LIMIT failures in all, far more than a floor of
colleagues mistyping makes. A success clears the pair's count, not the address's: one account
the guesser owns must not wipe the slate.

Our own few lines rather than django-axes: one login view to guard, and the cache to count
in, need no models, authentication backend or middleware of a third party."""

import functools
import hashlib
import logging
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.shortcuts import render

from registry.logs import digest, staff

logger = logging.getLogger(__name__)


def client_address(request):
    """The client's address. Behind TRUSTED_PROXY_COUNT proxies, each of which appends the
    address it saw to X-Forwarded-For, the client is that many entries from the end; anything
    further left was written by the client and proves nothing."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def account_named(request):
    """The account a sign-in named, for the log: by name when there is one, else a digest of
    what was typed, which may be a password typed in the wrong box."""
    typed = unicodedata.normalize("NFKC", request.POST.get("username", ""))
    User = get_user_model()
    if User._default_manager.filter(**{User.USERNAME_FIELD: typed}).exists():
        return typed
    return f"unknown:{digest(typed)}"


def failures_keys(request, *, username=None):
    """The keys of the failures counted for this account (the one typed in the sign-in form
    unless named) from this address, and for this address whatever the account."""
    # The account as the sign-in form reads it (Django's UsernameField normalises to NFKC:
    # "ｐublisher" signs in as "publisher"), so that no other spelling gets tries of its own.
    typed = request.POST.get("username", "") if username is None else username
    username = unicodedata.normalize("NFKC", typed).strip().casefold()
    address = client_address(request)
    return (
        "login-failures:" + hashlib.sha256(f"{username}\n{address}".encode()).hexdigest(),
        "login-failures-from:" + hashlib.sha256(address.encode()).hexdigest(),
    )


def forgive_failures(request, *, username):
    """Clear the account's failures from this address, as a success does: its owner just set
    a new password by mail (registry/password_reset.py), and must not wait out a lockout
    with it in hand. Not the address's, for the reason a success keeps them."""
    pair, _address = failures_keys(request, username=username)
    cache.delete(pair)


def limit_login_attempts(login_view):
    @functools.wraps(login_view)
    def view(request, *args, **kwargs):
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        pair, address = failures_keys(request)
        failures = cache.get_many([pair, address])
        pair_failures, address_failures = failures.get(pair, 0), failures.get(address, 0)
        if (
            pair_failures >= settings.LOGIN_FAILURE_LIMIT
            or address_failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
        ):
            response = render(
                request,
                "registry/login_refused.html",
                {
                    "minutes": settings.LOGIN_LOCKOUT_MINUTES,
                    "any_account": pair_failures < settings.LOGIN_FAILURE_LIMIT,
                },
                status=429,
            )
            response["Retry-After"] = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
            logger.warning(
                "Sign-in refused, locked out: account=%s address=%s",
                account_named(request),
                client_address(request),
            )
            return response
        response = login_view(request, *args, **kwargs)
        # The login view redirects when it signs someone in, and shows the form again when not.
        if response.status_code == 302:
            cache.delete(pair)
            logger.info(
                "Signed in: account=%s address=%s", staff(request.user), client_address(request)
            )
        else:
            logger.warning(
                "Sign-in failed: account=%s address=%s failures=%d/%d address_failures=%d/%d",
                account_named(request),
                client_address(request),
                pair_failures + 1,
                settings.LOGIN_FAILURE_LIMIT,
                address_failures + 1,
                settings.LOGIN_ADDRESS_FAILURE_LIMIT,
            )
            # Not atomic: two attempts at the same instant may count once. A few more guesses
            # in a lockout window is no weakness worth a lock.
            cache.set_many(
                {pair: pair_failures + 1, address: address_failures + 1},
                settings.LOGIN_LOCKOUT_MINUTES * 60,
            )
        return response

    return view
