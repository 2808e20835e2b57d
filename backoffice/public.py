"""Agreements in the interchange format for the public (the API and the JSON Lines download):
the exporter's records, less what is not public — drafts, and relations to them — and with
uploaded photos at their public address instead of a server path."""

from backoffice.interchange.exporting import AgreementRecords
from registry.addresses import record_url


def public_reader(request, *, dates=False):
    """The records of published agreements, read a chunk at a time (`.read(pks)`), as a
    download is: a file that imports into another registry. `dates`: with when each was
    published and last updated, as the API gives them."""
    # A photo's web address as it was given; any other (a path an import read the image
    # from, on the server) names nothing anyone else can read: the image held here instead.
    return AgreementRecords(
        public=True,
        photo_address=lambda photo: photo.original_url or public_image(photo, request),
        dates=dates,
    )


def public_records(pks, *, request):
    """Records of the published agreements with these primary keys, in that order, each with
    the `url` of its public page and its dates, as the API gives them. A fixed number of queries."""
    records = public_reader(request, dates=True).read(pks)
    for record in records:
        record["url"] = request.build_absolute_uri(record_url("agreements:detail", record["key"]))
    return records


def public_image(photo, request):
    return request.build_absolute_uri(photo.image.url) if photo.image else None
