"""Answers to clients that ask again (a script polling the API, a feed reader)."""

from django.utils.cache import get_conditional_response, set_response_etag


def unless_unchanged(request, response):
    """An answer with an ETag, or a 304 to a client that holds that answer already: the answer
    is made either way, but not sent again. No Cache-Control: a withdrawn agreement must leave
    every answer at once, so each is asked for again."""
    if response.status_code != 200:
        return response
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response)
