"""What every response passes through: the health check, addresses holding a NUL character,
admin selections that name no row, the Content Security Policy, and a friendly 503 while the
database cannot be reached."""

import logging

from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.core.exceptions import BadRequest
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import has_vary_header, patch_vary_headers
from django.utils.translation import gettext as _

from api.views import error as api_error

logger = logging.getLogger(__name__)

HEALTH_PATH = "/health/"
RETRY_AFTER_SECONDS = 30


class HealthCheckMiddleware:
    """Answers /health/ with JSON: 200 when the database and the cache answer, 503 when
    either does not. The cache in Redis (REDIS_URL) holds sign-ins' sessions and failure
    counts: without it no one signs in, so an app server that cannot reach it is unwell.

    A middleware placed first rather than a view, so that it runs before the host check and
    the HTTPS redirect: load balancers and container health checks ask by address over plain
    HTTP. It says nothing a stranger could use, and is never cached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"status": "method not allowed"}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        found = {"database": self.database(), "cache": self.cache()}
        healthy = all(state == "ok" for state in found.values())
        response = JsonResponse(
            {"status": "ok" if healthy else "unavailable", **found}, status=200 if healthy else 503
        )
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @staticmethod
    def database():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as error:
            logger.error("Health check: the database does not answer: %s", error)
            return "down"
        return "ok"

    @staticmethod
    def cache():
        try:
            cache.get(HEALTH_PATH)
        # Each backend fails its own way: Redis's ConnectionError, the database's errors.
        except Exception as error:  # noqa: BLE001
            logger.error("Health check: the cache does not answer: %s", error)
            return "down"
        return "ok"


class NulCharacterMiddleware:
    """A NUL character (`%00`) means nothing in an address, and PostgreSQL refuses one in any
    text: a path holding one is not found, a parameter holding one a bad request, before any
    view (the admin's lists and autocompletes included) reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        nul_in_path = "\x00" in request.path
        if nul_in_path or "%00" in request.META.get("QUERY_STRING", ""):
            # Refused before LocaleMiddleware chooses the language: chosen here, so that the
            # page saying so is in the visitor's.
            translation.activate(translation.get_language_from_request(request))
            if nul_in_path:
                raise Http404("No page has a NUL character in its address.")
            raise BadRequest("A parameter of the address holds a NUL character.")
        return self.get_response(request)


class AdminSelectionMiddleware:
    """An admin action runs on the rows whose keys the list's checkboxes send. A key that is
    not a whole number within the database's range (only a crafted request sends one) was a
    server error where Django looked the rows up; it is a bad request, before any admin reads
    it. Every table here is keyed by a whole number."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and request.path.startswith("/admin/")
            and not all(map(is_key, request.POST.getlist(ACTION_CHECKBOX_NAME)))
        ):
            raise BadRequest("A selected row's key is not a number.")
        return self.get_response(request)


def is_key(text):
    """Whether `text` is a whole number a 64-bit key can hold."""
    try:
        return abs(int(text)) < 2**63
    except ValueError:
        return False


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY with every response. Our own few lines rather
    than django-csp: the policy is one fixed string, since no page has inline script or style
    (so no nonces), and Django 6.0 brings its own that this will give way to."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class CacheHeadersMiddleware:
    """What a cache in front (a CDN, a proxy, a browser) may keep of an answer.

    The language is chosen by the language cookie as well as by Accept-Language, but Django's
    LocaleMiddleware names only the header in Vary: a cache could give a feed or the API's
    description that one reader had in Chinese (by the cookie) to the next who asked in
    English. So an answer that varies with the language varies with Cookie too.

    An answer that says nothing of caching says `no-cache`: kept, but asked for again (a 304
    where it has an ETag). Without it a cache may keep an answer with a Last-Modified (the
    feed, the sitemaps) for a tenth of its age, and a withdrawn agreement with it. Answers
    that must not be kept say so themselves (a draft's preview, the admin, /health/)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if has_vary_header(response, "Accept-Language"):
            patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


class DatabaseUnavailableMiddleware:
    """A request that cannot reach the database gets a page asking to come back shortly (JSON
    for the API), with status 503, instead of a server error. Nothing is kept from the
    failure: the next request tries the database again, so the site recovers by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        # One line, not a traceback per request while the database is down.
        logger.error(
            "The database is unavailable (%s %s): %s", request.method, request.path, exception
        )
        if request.path.startswith("/api/"):
            message = _("The registry is unavailable; try again shortly.")
            response = api_error(503, {"database": [message]})
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
