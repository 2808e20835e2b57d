"""Pages of the public lists: `?page=` read, and a page that does not exist said so (page 1
is shown instead), rather than quietly showing another."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.utils.translation import gettext as _


def page_of(request, items, per_page, *, count=None):
    """The page of `items` that `?page=` asks for; `count`, when counted already."""
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count
    number = request.GET.get("page", "1")
    if not number.isdecimal() or not 1 <= int(number) <= paginator.num_pages:
        no_such_page(request, number)
        number = 1
    return paginator.page(number)


def no_such_page(request, number):
    messages.error(request, _("There is no page %(page)s; this is page 1.") % {"page": number[:20]})
