"""Agreements as interchange lines.

Every institution is written as a full object with its parents, so that a file imports into an
empty database; lines, and the lists in them, come in a fixed order, so that export, import
into an empty database and export again give the same bytes.
"""

import json
from itertools import islice

from django.db.models import Prefetch

from agreements.models import AgreementRelation, Participation
from labs.models import LabAgreement
from registry.models import Institution

# Agreements read and serialised at a time: memory stays flat however long the export.
CHUNK_SIZE = 500


def export_lines(agreements):
    """One JSON line, ending in a newline, per agreement of the queryset, ordered by key.

    A generator, so that a download can stream it; the queries it runs do not grow with the
    number of agreements (each chunk is prefetched, institutions are loaded in bulk)."""
    institutions = InstitutionRecords()
    rows = with_related(agreements).order_by("slug").iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        institutions.load(referenced_institutions(chunk))
        for agreement in chunk:
            record = agreement_record(agreement, institutions)
            yield json.dumps(record, ensure_ascii=False) + "\n"


def with_related(agreements):
    """`agreements` with everything a record holds, each relation prefetched into a plain list
    (`to_attr`): a related manager's queryset per object and relation cost more than the SQL."""
    return agreements.select_related("agreement_type").prefetch_related(
        Prefetch("parties", to_attr="party_list"),
        Prefetch(
            "participations",
            Participation.objects.select_related("person"),
            to_attr="participation_list",
        ),
        Prefetch("participation_list__person__aliases", to_attr="alias_list"),
        Prefetch("focus_areas", to_attr="focus_area_list"),
        Prefetch(
            "labagreement_set", LabAgreement.objects.select_related("lab"), to_attr="lab_links"
        ),
        Prefetch("lab_links__lab__labhost_set", to_attr="host_list"),
        Prefetch("lab_links__lab__focus_areas", to_attr="focus_area_list"),
        Prefetch("sources", to_attr="source_list"),
        Prefetch("photos", to_attr="photo_list"),
        Prefetch(
            "relations", AgreementRelation.objects.select_related("target"), to_attr="relation_list"
        ),
    )


def referenced_institutions(agreements):
    for agreement in agreements:
        for party in agreement.party_list:
            yield from (party.institution_id, party.unit_id)
        for participation in agreement.participation_list:
            yield participation.organisation_id
        for link in agreement.lab_links:
            yield from (host.institution_id for host in link.lab.host_list)


def agreement_record(agreement, institutions):
    """One agreement as an interchange object: the single place that says what a line holds.
    `agreement` comes from `with_related`, `institutions` has loaded what it references."""
    party_names = {
        party.pk: institutions.get(party.institution_id).name for party in agreement.party_list
    }
    return {
        "key": agreement.slug,
        "title": agreement.title,
        "agreement_type": agreement.agreement_type.name,
        "status": agreement.status,
        "signed_on": iso(agreement.signed),
        "place": agreement.place or None,
        "term": {
            "starts_on": iso(agreement.starts),
            "ends_on": iso(agreement.ends),
            "years": agreement.term_years,
        },
        "summary": agreement.summary or None,
        "parties": [
            {
                "institution": institutions.record(party.institution_id),
                "unit": institutions.record(party.unit_id),
            }
            for party in agreement.party_list
        ],
        "participants": [
            {
                "person": person_record(participation.person),
                "role": participation.role,
                "title": participation.title or None,
                "organisation": institutions.record(participation.organisation_id),
                "on_behalf_of": party_names.get(participation.party_id),
            }
            for participation in agreement.participation_list
        ],
        "focus_areas": sorted_names(area.name for area in agreement.focus_area_list),
        "labs": [
            lab_record(link, institutions)
            for link in sorted(agreement.lab_links, key=lambda link: (link.lab.name, link.lab.slug))
        ],
        "sources": [
            {
                "url": source.url or None,
                "title": source.title or None,
                "publisher": source.publisher or None,
                "published_on": iso(source.published),
                "note": source.note or None,
            }
            for source in agreement.source_list
        ],
        "photos": [
            {
                "caption": photo.caption or None,
                "image_url": photo_address(photo),
                "credit": photo.credit or None,
            }
            for photo in agreement.photo_list
        ],
        "relations": sorted(
            (
                {"type": relation.type, "key": relation.target.slug}
                for relation in agreement.relation_list
            ),
            key=lambda relation: (relation["type"], relation["key"]),
        ),
    }


def person_record(person):
    # The key always: two people who share a name stay two people after a round trip.
    return {
        "key": person.slug,
        "name": person.name,
        "native_name": person.native_name or None,
        "aliases": sorted_names(alias.name for alias in person.alias_list),
    }


def lab_record(link, institutions):
    lab = link.lab
    return {
        "name": lab.name,
        "status": lab.status,
        "established_on": iso(lab.established),
        "hosts": [institutions.record(host.institution_id) for host in lab.host_list],
        "focus_areas": sorted_names(area.name for area in lab.focus_area_list),
        "description": lab.description or None,
        "outcome": link.outcome,
    }


def photo_address(photo):
    """The image_url a photo is exported with: the address it came from or, for an uploaded
    image, its file on this machine, which an import reads back. A re-import also finds a
    stored photo by it."""
    if photo.image_url:
        return photo.image_url
    return photo.image.path if photo.image else None


class InstitutionRecords:
    """Institutions as full interchange objects, nested parents included. They are loaded in
    bulk, one query per level of nesting rather than one per row, and kept for the export."""

    def __init__(self):
        self.institutions = {}

    def load(self, ids):
        missing = set(ids) - self.institutions.keys() - {None}
        while missing:
            found = list(Institution.objects.filter(pk__in=missing).prefetch_related("aliases"))
            self.institutions.update((institution.pk, institution) for institution in found)
            missing = {institution.parent_id for institution in found}
            missing -= self.institutions.keys() | {None}

    def get(self, pk):
        return self.institutions[pk]

    def record(self, pk):
        if pk is None:
            return None
        institution = self.institutions[pk]
        return {
            "name": institution.name,
            "native_name": institution.native_name or None,
            "acronym": institution.acronym or None,
            "aliases": sorted_names(alias.name for alias in institution.aliases.all()),
            "kind": institution.kind,
            "country": institution.country.code or None,
            "city": institution.city or None,
            "website": institution.website or None,
            "ror": institution.ror or None,
            "wikidata": institution.wikidata or None,
            "parent": self.record(institution.parent_id),
        }


def iso(partial_date):
    return partial_date.isoformat() if partial_date else None


def sorted_names(names):
    return sorted(names, key=lambda name: (name.casefold(), name))
