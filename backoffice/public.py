"""Agreements in the interchange format for the public (the API and the JSON Lines download):
the exporter's records, less what is not public — relations to agreements that are not
published — and with uploaded photos at their public address instead of a server path."""

from agreements.models import Agreement
from backoffice.interchange.exporting import (
    InstitutionRecords,
    agreement_record,
    referenced_institutions,
    with_related,
)

__all__ = ["public_records", "with_related"]


def public_records(agreements, *, request, with_url=True):
    """Records of `agreements` (published ones, read through `with_related`), each with the
    `url` of its public page unless `with_url` is false (a download stays importable).
    A fixed number of queries per call."""
    agreements = list(agreements)
    institutions = InstitutionRecords()
    institutions.load(referenced_institutions(agreements))
    targets = {
        relation.target.slug for agreement in agreements for relation in agreement.relation_list
    }
    published = set(
        Agreement.objects.published().filter(slug__in=targets).values_list("slug", flat=True)
    )
    records = []
    for agreement in agreements:
        record = agreement_record(agreement, institutions)
        record["relations"] = [r for r in record["relations"] if r["key"] in published]
        record["photos"] = [
            {**data, "image_url": photo.image_url or public_image(photo, request)}
            for data, photo in zip(record["photos"], agreement.photo_list, strict=True)
        ]
        if with_url:
            record["url"] = request.build_absolute_uri(agreement.get_absolute_url())
        records.append(record)
    return records


def public_image(photo, request):
    return request.build_absolute_uri(photo.image.url) if photo.image else None
