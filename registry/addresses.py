"""The addresses of records' pages, made from their routes reversed once: a page that lists
hundreds of records (a large company's page links 359) spent a tenth of its time in
reverse(), 90 to 170 µs a call on the benchmark's machine of 2026-12-04 (a route kept: 12)."""

from urllib.parse import quote

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.urls import get_script_prefix, reverse

MARKER = "slug-goes-here"
# (route name, script prefix, URLconf) -> the address before and after the slug. Neither the
# language (the routes have no language prefix) nor a request's own URLconf (no middleware
# sets one) changes an address here; reading either costs as much as the rest.
_routes = {}


def route(name):
    """(before, after): the address of route `name`, whose one argument is a slug, split where
    the slug goes, as reverse() gives it now."""
    key = (name, get_script_prefix(), settings.ROOT_URLCONF)
    if key not in _routes:
        before, _marker, after = reverse(name, urlconf=key[2], args=[MARKER]).partition(MARKER)
        _routes[key] = (before, after)
    return _routes[key]


def record_url(name, slug):
    """`reverse(name, args=[slug])`: a slug's characters are quoted as reverse() quotes them."""
    before, after = route(name)
    return f"{before}{quote(slug)}{after}"


def web_address_constraint(field, model_name):
    """A URLField's address starts with a scheme its form accepts: one of another ("javascript:")
    would be a link the public clicks. The rest of an address's form is the form's to check."""
    condition = models.Q(**{field: ""})
    for scheme in URLValidator.schemes:
        condition |= models.Q(**{f"{field}__istartswith": f"{scheme}://"})
    return models.CheckConstraint(condition=condition, name=f"{model_name}_{field}_web_address")
