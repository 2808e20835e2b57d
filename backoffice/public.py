"""Agreements in the interchange format for the public (the API and the JSON Lines download):
the exporter's records, less what is not public — relations to agreements that are not
published — and with uploaded photos at their public address instead of a server path."""

from backoffice.interchange.exporting import AgreementRecords
from registry.addresses import record_url


def public_records(pks, *, request, with_url=True):
    """Records of the published agreements with these primary keys, in that order, each with
    the `url` of its public page unless `with_url` is false (a download stays importable).
    A fixed number of queries per call."""
    records = AgreementRecords(
        public=True, photo_address=lambda photo: photo.image_url or public_image(photo, request)
    ).read(pks)
    if with_url:
        for record in records:
            record["url"] = request.build_absolute_uri(
                record_url("agreements:detail", record["key"])
            )
    return records


def public_image(photo, request):
    return request.build_absolute_uri(photo.image.url) if photo.image else None
