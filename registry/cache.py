"""Caching of what is expensive to compute and rarely changes: the facets, charts and pages of
results of a search, and the record of an institution's page.

Every cached value is stored under the current *generation*, a number kept in the shared cache.
The code paths that change what the public sees (publish and withdraw, every admin save or
delete, the importer) call `data_changed()`, which moves to a new generation: from then on no
request reads a value computed before the change, on any app server. Old entries simply expire.

Off unless SEARCH_CACHE is set (settings.py): the tests build data with factories, which pass
by those code paths, and the benchmark measures the site with it off and on.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "registry:generation"


def generation():
    value = cache.get(GENERATION_KEY)
    if value is None:
        # First use, or the cache lost it: start from the clock, a generation no value stored
        # before can have.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY)
    return value


def new_generation():
    """From now on no request reads a value stored before."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # lost: as in generation(), the clock gives a new one
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


def data_changed():
    """Call after any write the public could see. Runs once the transaction commits, so that
    a value computed from the old data in between is not kept under the new generation."""
    transaction.on_commit(new_generation)


def cached(name, key, compute, *, valid=None):
    """`compute()`, or its value stored for `name` and `key` under the current generation;
    a stored value that `valid(value)` finds stale is computed and stored again."""
    if not settings.SEARCH_CACHE:
        return compute()
    full_key = f"registry:{generation()}:{name}:{key}"
    value = cache.get(full_key)
    if value is None or (valid is not None and not valid(value)):
        value = compute()
        cache.set(full_key, value, timeout=settings.SEARCH_CACHE_SECONDS)
    return value


class AdminWritesMiddleware:
    """Every admin request that may have written (a POST: a save, a delete, an action, an
    upload) starts a new generation. The admin has many write paths, the vocabulary's included;
    catching them here, where they all pass, misses none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "POST" and request.path.startswith("/admin/"):
            data_changed()
        return response
