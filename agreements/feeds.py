"""An Atom feed of a search: the agreements published most recently among its results, for a
feed reader to follow a company's new partnerships, a university's or a technology's."""

from collections import namedtuple

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from agreements.filters import filters_in_words
from agreements.models import Party
from agreements.views import filtered_agreements, unreadable
from registry.http import read_only, unless_unchanged

FEED_SIZE = 50
# The most characters of a summary an entry gives, the rest on the agreement's page: a summary
# has no limit, and 50 of 20,000 words each made a feed of 6 MB that every reader polls.
SUMMARY_LENGTH = 1000

Search = namedtuple("Search", ["filterset", "query"])


def search_words(filterset):
    """What a search asked, in words (Technology: 5G), as the reports say their filters: the
    feed's title. Its order changes nothing of a feed."""
    return [
        _("%(label)s: %(value)s") % {"label": label, "value": words}
        for label, words in filters_in_words(filterset, leaving_out={"sort"})
    ]


class SearchFeed(Feed):
    feed_type = Atom1Feed
    description_template = "agreements/feed_entry.html"

    def get_object(self, request, filterset):
        # The search, as the page names it (without a page number). Returned, not kept on
        # the feed: one feed object serves every request, and threads share it.
        query = request.GET.copy()
        query.pop("page", None)
        return Search(filterset, f"?{query.urlencode()}" if query else "")

    def title(self, search):
        words = search_words(search.filterset)
        if not words:
            return _("Partnership Registry: new agreements")
        return _("Partnership Registry: new agreements: %(search)s") % {
            "search": pgettext("between the items of a list", "; ").join(words)
        }

    def subtitle(self, search):
        return _(
            "The %(size)s agreements published most recently among the results of this search."
        ) % {"size": FEED_SIZE}

    def author_name(self):
        # Atom asks for an author of the feed or of each entry: the registry publishes them.
        return _("Partnership Registry")

    def link(self, search):
        return f"{reverse('agreements:search')}{search.query}"

    def feed_url(self, search):
        return f"{reverse('agreements:feed')}{search.query}"

    def items(self, search):
        # Newest in the registry first, whenever signed: what a reader has not seen yet. A
        # withdrawn agreement leaves the feed, as it leaves every public page.
        parties = Party.objects.select_related("institution", "unit")
        return (
            search.filterset.qs.order_by("-published_at", "-pk")
            .select_related("agreement_type")
            .prefetch_related(Prefetch("parties", queryset=parties), "focus_areas")[:FEED_SIZE]
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "SUMMARY_LENGTH": SUMMARY_LENGTH}

    def item_title(self, agreement):
        return agreement.title

    def item_pubdate(self, agreement):
        # As its page and the API date it: first published, though the feed lists it again,
        # newest, when it is published again after a withdrawal.
        return agreement.first_published_at

    def item_updateddate(self, agreement):
        return agreement.updated_at

    def item_categories(self, agreement):
        return [area.name for area in agreement.focus_areas.all()]


SEARCH_FEED = SearchFeed()


@read_only
def feed(request):
    """The feed of the search the query string asks, read as the page and its downloads read
    it; a parameter it cannot read is a 400 naming it, as for a download."""
    filterset, _agreements = filtered_agreements(request)
    if refused := unreadable(filterset):
        return refused
    return unless_unchanged(request, SEARCH_FEED(request, filterset=filterset))
