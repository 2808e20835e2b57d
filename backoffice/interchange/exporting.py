"""Agreements as interchange lines.

Every institution is written as a full object with its parents, so that a file imports into an
empty database; lines, and the lists in them, come in a fixed order, so that export, import
into an empty database and export again give the same bytes.
"""

import datetime
import json
from collections import defaultdict
from itertools import islice

from agreements.models import Agreement, AgreementRelation, Participation, Party, Photo, Source
from labs.models import Lab, LabAgreement, LabHost
from people.models import Person, PersonAlias
from registry.dates import PartialDate
from registry.models import Institution, InstitutionAlias

# Agreements read and serialised at a time: memory stays flat however long the export.
CHUNK_SIZE = 500


def export_lines(agreements):
    """One JSON line, ending in a newline, per agreement of the queryset, ordered by key."""
    for record in export_records(agreements):
        yield json.dumps(record, ensure_ascii=False) + "\n"


def export_records(agreements):
    """The record of each agreement of the queryset, ordered by key.

    A generator, so that a download can stream it; the queries it runs do not grow with the
    number of agreements (a chunk is read at a time, a query per table)."""
    records = AgreementRecords()
    keys = agreements.order_by("slug").values_list("pk", flat=True).iterator(CHUNK_SIZE)
    while chunk := list(islice(keys, CHUNK_SIZE)):
        yield from records.read(chunk)


def photo_address(photo):
    """The image_url a photo is exported with: the address it came from or, for an uploaded
    image, its file on this machine, which an import reads back. A re-import also finds a
    stored photo by it."""
    if photo.image_url:
        return photo.image_url
    return photo.image.path if photo.image else None


class AgreementRecords:
    """Agreements as interchange objects: the single place that says what a line holds.

    A chunk of agreements is read a query per table, as plain rows: read as model instances
    through prefetches, the ORM's work on some 1,200 of them took two thirds of an API page's
    time. An institution's record is made once and kept from one chunk to the next, as a few
    thousand recur through the whole registry; people's and labs' are made for each chunk.

    `public`: published agreements only, and relations only to those: nothing public names a
    draft.
    `photo_address(photo)`: a Photo's image_url (by default the one an import reads back).
    `dates`: with the record's `published_at` (first) and `updated_at`, as the API gives them;
    not in a file, which would differ at each export of the same agreements."""

    def __init__(self, *, public=False, photo_address=photo_address, dates=False):
        self.public = public
        self.dates = dates
        self.photo_address = photo_address
        self.institutions = InstitutionRecords()

    def read(self, pks):
        """The records of the agreements with these primary keys, in that order."""
        agreements = self.agreements().filter(pk__any_of=pks)
        agreements = agreements.values_list(
            *("pk", "slug", "title", "agreement_type__name", "status", "place", "term_years"),
            *("signed_on", "signed_on_precision", "starts_on", "starts_on_precision"),
            *("ends_on", "ends_on_precision", "summary", "first_published_at", "updated_at"),
            named=True,
        )
        agreements = {row.pk: row for row in agreements}
        parties = grouped(
            Party.objects.filter(agreement__any_of=pks), "agreement", "pk", "institution", "unit"
        )
        participations = grouped(
            Participation.objects.filter(agreement__any_of=pks),
            "agreement",
            *("person", "role", "title", "organisation", "party"),
        )
        lab_links = grouped(
            LabAgreement.objects.filter(agreement__any_of=pks), "agreement", "lab", "outcome"
        )
        focus_areas = grouped(
            Agreement.focus_areas.through.objects.filter(agreement__any_of=pks),
            "agreement",
            "focusarea__name",
        )
        sources = grouped(
            Source.objects.filter(agreement__any_of=pks),
            "agreement",
            *("url", "title", "publisher", "published_on", "published_on_precision", "note"),
        )
        photos = defaultdict(list)
        for photo in Photo.objects.filter(agreement__any_of=pks):
            photos[photo.agreement_id].append(photo)
        relations = AgreementRelation.objects.filter(
            source__any_of=pks, target__in=self.agreements()
        )
        relations = grouped(relations, "source", "type", "target__slug")

        lab_keys = {link.lab for links in lab_links.values() for link in links}
        lab_hosts = grouped(LabHost.objects.filter(lab__any_of=lab_keys), "lab", "institution")
        self.institutions.load(
            [
                *(
                    key
                    for rows in parties.values()
                    for row in rows
                    for key in (row.institution, row.unit)
                ),
                *(row.organisation for rows in participations.values() for row in rows),
                *(row.institution for rows in lab_hosts.values() for row in rows),
            ]
        )
        people = self.people({row.person for rows in participations.values() for row in rows})
        labs = self.labs(lab_keys, lab_hosts)
        return [
            self.record(
                agreements[pk],
                parties=parties[pk],
                participations=participations[pk],
                lab_links=lab_links[pk],
                focus_areas=focus_areas[pk],
                sources=sources[pk],
                photos=photos[pk],
                relations=relations[pk],
                people=people,
                labs=labs,
            )
            for pk in pks
            # Not one that was deleted, or unpublished, since its key was read.
            if pk in agreements
        ]

    def agreements(self):
        return Agreement.objects.published() if self.public else Agreement.objects.all()

    def record(
        self,
        agreement,
        *,
        parties,
        participations,
        lab_links,
        focus_areas,
        sources,
        photos,
        relations,
        people,
        labs,
    ):
        institution = self.institutions.record
        party_names = {party.pk: self.institutions.name(party.institution) for party in parties}
        lab_records = sorted((labs[link.lab], link.outcome) for link in lab_links)
        dates = (
            {
                "published_at": utc(agreement.first_published_at),
                "updated_at": utc(agreement.updated_at),
            }
            if self.dates
            else {}
        )
        return {
            "key": agreement.slug,
            "title": agreement.title,
            "agreement_type": agreement.agreement_type__name,
            "status": agreement.status,
            "signed_on": iso(agreement.signed_on, agreement.signed_on_precision),
            "place": agreement.place or None,
            "term": {
                "starts_on": iso(agreement.starts_on, agreement.starts_on_precision),
                "ends_on": iso(agreement.ends_on, agreement.ends_on_precision),
                "years": agreement.term_years,
            },
            "summary": agreement.summary or None,
            "parties": [
                {"institution": institution(party.institution), "unit": institution(party.unit)}
                for party in parties
            ],
            "participants": [
                {
                    "person": people[row.person],
                    "role": row.role,
                    "title": row.title or None,
                    "organisation": institution(row.organisation),
                    "on_behalf_of": party_names.get(row.party),
                }
                for row in participations
            ],
            "focus_areas": sorted_names(row.focusarea__name for row in focus_areas),
            # By the lab's name and key; the outcome is the agreement's own.
            "labs": [{**lab, "outcome": outcome} for (_order, lab), outcome in lab_records],
            "sources": [
                {
                    "url": source.url or None,
                    "title": source.title or None,
                    "publisher": source.publisher or None,
                    "published_on": iso(source.published_on, source.published_on_precision),
                    "note": source.note or None,
                }
                for source in sources
            ],
            "photos": [
                {
                    "caption": photo.caption or None,
                    "image_url": self.photo_address(photo),
                    "credit": photo.credit or None,
                }
                for photo in photos
            ],
            "relations": sorted(
                ({"type": row.type, "key": row.target__slug} for row in relations),
                key=lambda relation: (relation["type"], relation["key"]),
            ),
            **dates,
        }

    def people(self, pks):
        """{pk: record} of the people of `pks`. Read for each chunk, not kept as institutions are:
        a long export names tens of thousands."""
        aliases = grouped(PersonAlias.objects.filter(person__any_of=pks), "person", "name")
        people = {}
        for person in Person.objects.filter(pk__any_of=pks).values_list(
            "pk", "slug", "name", "native_name", named=True
        ):
            # The key always: two people who share a name stay two after a round trip.
            people[person.pk] = {
                "key": person.slug,
                "name": person.name,
                "native_name": person.native_name or None,
                "aliases": sorted_names(row.name for row in aliases[person.pk]),
            }
        return people

    def labs(self, pks, hosts):
        """{pk: (order among an agreement's labs, record but for the outcome, which is the
        agreement's)} of the labs of `pks`. `hosts`: their LabHost rows by lab, the institutions
        loaded. Read for each chunk, as people are."""
        focus_areas = grouped(
            Lab.focus_areas.through.objects.filter(lab__any_of=pks), "lab", "focusarea__name"
        )
        labs = {}
        for lab in Lab.objects.filter(pk__any_of=pks).values_list(
            *("pk", "name", "slug", "status", "established_on", "established_on_precision"),
            "description",
            named=True,
        ):
            labs[lab.pk] = (
                (lab.name, lab.slug),
                {
                    "name": lab.name,
                    "status": lab.status,
                    "established_on": iso(lab.established_on, lab.established_on_precision),
                    "hosts": [self.institutions.record(row.institution) for row in hosts[lab.pk]],
                    "focus_areas": sorted_names(row.focusarea__name for row in focus_areas[lab.pk]),
                    "description": lab.description or None,
                },
            )
        return labs


class InstitutionRecords:
    """Institutions as full interchange objects, nested parents included. They are read in
    bulk, one query per level of nesting rather than one per row, and each record is made once."""

    def __init__(self):
        self.rows = {}
        self.aliases = {}
        self.records = {}

    def load(self, pks):
        missing = set(pks) - self.rows.keys() - {None}
        while missing:
            aliases = grouped(
                InstitutionAlias.objects.filter(institution__any_of=missing), "institution", "name"
            )
            found = list(
                Institution.objects.filter(pk__any_of=missing).values_list(
                    *("pk", "name", "native_name", "acronym", "kind", "country", "city"),
                    *("website", "ror", "wikidata", "parent"),
                    named=True,
                )
            )
            for row in found:
                self.rows[row.pk] = row
                self.aliases[row.pk] = sorted_names(alias.name for alias in aliases[row.pk])
            missing = {row.parent for row in found} - self.rows.keys() - {None}

    def name(self, pk):
        return self.rows[pk].name

    def record(self, pk):
        if pk is None:
            return None
        if pk not in self.records:
            row = self.rows[pk]
            self.records[pk] = {
                "name": row.name,
                "native_name": row.native_name or None,
                "acronym": row.acronym or None,
                "aliases": self.aliases[pk],
                "kind": row.kind,
                "country": row.country or None,
                "city": row.city or None,
                "website": row.website or None,
                "ror": row.ror or None,
                "wikidata": row.wikidata or None,
                "parent": self.record(row.parent),
            }
        return self.records[pk]


def grouped(queryset, key, *fields):
    """The rows of `queryset` (named tuples of `fields`) by their `key` field, each group in the
    queryset's order."""
    groups = defaultdict(list)
    for row in queryset.values_list(key, *fields, named=True):
        groups[row[0]].append(row)
    return groups


def iso(date, precision):
    partial = PartialDate.from_fields(date, precision)
    return partial.isoformat() if partial else None


def utc(moment):
    """ISO 8601 in UTC, to the second: 2021-05-03T08:00:00Z."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sorted_names(names):
    return sorted(names, key=lambda name: (name.casefold(), name))
