"""Answers to clients that ask again (a script polling the API, a feed reader), and to those
that ask a page to do what it cannot."""

import functools

from django.shortcuts import render
from django.utils.cache import get_conditional_response, set_response_etag
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = ("GET", "HEAD")


def unless_unchanged(request, response):
    """An answer with an ETag, or a 304 to a client that holds that answer already: the answer
    is made either way, but not sent again. No lifetime (registry.middleware.CacheHeaders
    Middleware says `no-cache`): a withdrawn agreement must leave every answer at once, so
    each is asked for again."""
    if response.status_code != 200:
        return response
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response)


def read_only(view):
    """A public page, file or feed: GET and HEAD, and to any other method a 405 naming them, on
    the site's own page in the visitor's language (Django's `require_safe` answers a blank
    page). Exempt from the CSRF check, which ran first and refused a POST with its 403 ("this
    form could not be sent") where no form was: such a view writes nothing to forge."""

    @functools.wraps(view)
    def read(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return method_not_allowed(request, SAFE_METHODS)
        return view(request, *args, **kwargs)

    return csrf_exempt(read)


def method_not_allowed(request, allowed):
    response = render(request, "405.html", status=405)
    response["Allow"] = ", ".join(allowed)
    return response
