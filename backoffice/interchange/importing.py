"""Importing interchange lines: all of them, or nothing when any line has a problem.

Each line is applied in a savepoint of its own. A line whose key is stored is exported before
and after: when nothing a reader of the export could see has changed, the savepoint is rolled
back, so that importing a file again adds no rows and no history, and the line counts as
unchanged. A line the database refuses is rolled back and reported like any other problem,
and the lines after it are still checked.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from agreements.models import (
    Agreement,
    AgreementRelation,
    AgreementType,
    Participation,
    Party,
    Photo,
    Source,
)
from backoffice.interchange.exporting import export_lines, photo_address
from backoffice.interchange.reading import Line, at, read_line
from backoffice.interchange.references import (
    CREATED,
    MATCHED,
    UPDATED,
    FocusAreas,
    Institutions,
    Labs,
    People,
)
from labs.models import Lab, LabAgreement
from registry.cache import data_changed
from registry.images import process_image
from registry.text import normalise_name, unique_slug

UNCHANGED = "unchanged"
# The strongest outcome of a record wins: one created by a line and matched by the next was
# created by the import.
STRENGTH = {MATCHED: 0, UNCHANGED: 0, UPDATED: 1, CREATED: 2}
KINDS = {
    "agreements": (CREATED, UPDATED, UNCHANGED),
    "institutions": (CREATED, UPDATED, MATCHED),
    "people": (CREATED, UPDATED, MATCHED),
    "focus areas": (CREATED, MATCHED),
    "labs": (CREATED, UPDATED, MATCHED),
}
# An image_url with a scheme (http:, https:, data: …) is an address, kept but never fetched;
# anything else is a file path. Two letters at least, so that C:\ is a path.
WEB_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]+:", re.IGNORECASE)


@dataclass
class Report:
    """What an import did or, in a dry run, would do: its problems, or how many records of
    each kind were created, updated, left unchanged or matched."""

    dry_run: bool = False
    errors: list = field(default_factory=list)  # "line N: field: what is wrong"
    outcomes: dict = field(default_factory=dict)  # kind -> {primary key: outcome}

    def record(self, kind, pk, outcome):
        outcomes = self.outcomes.setdefault(kind, {})
        if pk not in outcomes or STRENGTH[outcome] > STRENGTH[outcomes[pk]]:
            outcomes[pk] = outcome

    def counts(self, kind):
        return Counter(self.outcomes.get(kind, {}).values())

    def summary(self):
        lines = ["Dry run: nothing was changed. The import would give:"] if self.dry_run else []
        for kind, outcomes in KINDS.items():
            counts = self.counts(kind)
            lines.append(
                f"{kind}: " + ", ".join(f"{counts[outcome]} {outcome}" for outcome in outcomes)
            )
        return "\n".join(lines)


def import_lines(lines, *, dry_run=False, base_dir=None):
    """Import interchange lines (str, or bytes as read from a file opened in binary mode).

    Every line is checked; when any has a problem, or in a dry run, nothing is changed and the
    report says what is wrong or what would have been done. `base_dir` is the folder of the
    import file: photos given as local paths are read from it (relative paths) or from
    anywhere on this machine (absolute ones). With None no local file is read, which is right
    for a file uploaded through the browser: the server's files are not its uploader's."""
    report = Report(dry_run=dry_run)
    read, agreements = read_all(lines)
    importer = Importer(
        report,
        base_dir=None if base_dir is None else Path(base_dir),
        keys_in_file={agreement.key for agreement in agreements if agreement.key},
    )
    try:
        with transaction.atomic():
            importer.load()
            for agreement in agreements:
                importer.apply(agreement)
            importer.add_later_relations()
            report.errors = [error for line in read for error in line.errors]
            if report.errors or dry_run:
                transaction.set_rollback(True)
            else:
                data_changed()
    except BaseException:
        # Interrupted midway (a crash, Ctrl-C): the transaction is rolled back, and the image
        # files stored so far, which no transaction covers, go with it.
        importer.delete_new_images()
        raise
    if report.errors or dry_run:
        importer.delete_new_images()
    return report


def read_all(lines):
    """Every non-blank line read, and the agreements that could be read."""
    read, agreements, line_of_key = [], [], {}
    for number, text in enumerate(lines, start=1):
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                read.append(line := Line(number))
                line.error("agreement", f"is not UTF-8: {error}")
                continue
        if not text.strip():
            continue
        line, agreement = read_line(number, text)
        read.append(line)
        if agreement is None:
            continue
        if agreement.key in line_of_key:
            line.error("key", f"{agreement.key!r} is the key of line {line_of_key[agreement.key]}")
        elif agreement.key:
            line_of_key[agreement.key] = number
        agreements.append(agreement)
    return read, agreements


class Importer:
    def __init__(self, report, *, base_dir, keys_in_file):
        self.report = report
        self.base_dir = base_dir
        self.keys_in_file = keys_in_file
        self.later_relations = []  # (agreement pk, RelationData) to agreements of later lines
        self.new_images = []  # photos whose image files this import stored

    def load(self):
        """Read what is stored: at the start, and after a line has been rolled back."""
        self.types = AgreementType.by_normalised_name()
        self.institutions = Institutions(self.report)
        self.people = People(self.report)
        self.focus_areas = FocusAreas(self.report)
        self.labs = Labs(self.report)
        self.agreements = dict(Agreement.objects.values_list("slug", "pk"))

    def apply(self, data):
        new_images = []
        try:
            with transaction.atomic():
                outcome = self.write(data, new_images)
                if outcome == UNCHANGED:
                    transaction.set_rollback(True)
        except DatabaseError as error:
            data.line.error("agreement", f"the database refused it: {error}")
            outcome = None
            self.load()
        except BaseException:
            delete_images(new_images)  # interrupted midway: see import_lines
            raise
        if outcome in (CREATED, UPDATED):
            self.new_images += new_images
        else:
            delete_images(new_images)

    def write(self, data, new_images):
        """Resolve everything the line names, and write the agreement if all is well.
        Returns the agreement's outcome, or None when the line has problems."""
        line = data.line
        stored_pk = self.agreements.get(data.key)
        before = self.export(stored_pk) if stored_pk else None
        agreement_type = self.agreement_type(data)
        parties = self.parties(data)
        participants = self.participants(data, parties)
        focus_areas = self.resolve_focus_areas(data.focus_areas, line)
        labs = self.labs_of(data)
        relations, later_relations = self.relations(data)
        photos = self.photos(data, stored_pk)
        if line.errors:
            return None

        agreement = self.save_agreement(data, stored_pk, agreement_type)
        agreement.focus_areas.set(focus_areas)
        party_rows, old_parties = sync(
            agreement.parties.all(),
            [
                Party(agreement=agreement, institution=institution, unit=unit, position=position)
                for position, (institution, unit) in enumerate(parties)
            ],
            key=attrgetter("institution_id"),
            fields=["unit_id", "position"],
        )
        _, old_participations = sync(
            agreement.participations.all(),
            [
                Participation(
                    agreement=agreement,
                    person=person,
                    role=participant.role,
                    title=participant.title,
                    organisation=organisation,
                    party=None if party is None else party_rows[party],
                    position=position,
                )
                for position, (participant, person, organisation, party) in enumerate(participants)
            ],
            key=attrgetter("person_id", "role"),
            fields=["title", "organisation_id", "party_id", "position"],
        )
        # Signatories leave a party before it goes: the database refuses the other order.
        delete(old_participations + old_parties)
        _, old_sources = sync(
            agreement.sources.all(),
            [
                Source(agreement=agreement, position=position, **fields)
                for position, fields in enumerate(data.sources)
            ],
            key=attrgetter("url"),
            fields=[
                "title",
                "publisher",
                "published_on",
                "published_on_precision",
                "note",
                "position",
            ],
        )
        for photo in photos:
            photo.agreement = agreement
        new_images += [photo for photo in photos if photo.image]
        _, old_photos = sync(
            agreement.photos.all(),
            photos,
            key=photo_address,
            fields=["caption", "credit", "image_url", "position"],
        )
        _, old_labs = sync(
            LabAgreement.objects.filter(agreement=agreement),
            [LabAgreement(lab=lab, agreement=agreement, outcome=outcome) for lab, outcome in labs],
            key=attrgetter("lab_id"),
            fields=["outcome"],
        )
        _, old_relations = sync(
            agreement.relations.all(),
            [
                AgreementRelation(source=agreement, target_id=target, type=kind)
                for kind, target in relations
            ],
            key=attrgetter("type", "target_id"),
            fields=[],
        )
        delete(old_sources + old_photos + old_labs + old_relations)

        if before is None:
            outcome = CREATED
        elif later_relations or self.export(agreement.pk) != before:
            outcome = UPDATED
        else:
            outcome = UNCHANGED
        self.report.record("agreements", agreement.pk, outcome)
        self.later_relations += [(agreement.pk, relation) for relation in later_relations]
        return outcome

    def export(self, pk):
        return "".join(export_lines(Agreement.objects.filter(pk=pk)))

    def agreement_type(self, data):
        agreement_type = self.types.get(normalise_name(data.agreement_type))
        if data.agreement_type and agreement_type is None:
            known = "; ".join(sorted({kind.name for kind in self.types.values()})) or "none"
            data.line.error(
                "agreement_type", f"unknown type {data.agreement_type!r}; known: {known}"
            )
        return agreement_type

    def parties(self, data):
        """The (institution, unit) of each party; None for what could not be resolved."""
        line, parties = data.line, []
        for party in data.parties:
            institution = party.institution and self.institutions.resolve(party.institution, line)
            unit = party.unit and self.institutions.resolve(party.unit, line)
            if institution and unit:
                self.institutions.attach_unit(unit, institution, party.unit.path, line)
            if institution and institution in (other for other, _ in parties):
                line.error(party.institution.path, f"{institution} is a party already")
            parties.append((institution, unit))
        return parties

    def participants(self, data, parties):
        """(data, person, organisation, index of the party signed for) of each participant."""
        line, participants, roles = data.line, [], set()
        for participant in data.participants:
            person = self.people.resolve(participant.person, line)
            organisation = participant.organisation and self.institutions.resolve(
                participant.organisation, line
            )
            party = participant.on_behalf_of and self.party_signed_for(
                participant.on_behalf_of, parties, line
            )
            if person and (person.pk, participant.role) in roles:
                message = f"{person.name} is a {participant.role} of this agreement already"
                line.error(at(participant.path, "person"), message)
            elif person:
                roles.add((person.pk, participant.role))
            participants.append((participant, person, organisation, party))
        return participants

    def party_signed_for(self, ref, parties, line):
        """The index of the party (by its institution or its unit) that a reference names."""
        if any(institution is None for institution, _ in parties):
            return None  # a party could not be resolved, and that is reported already
        pks = self.institutions.matches(ref)
        found = [
            index
            for index, (institution, unit) in enumerate(parties)
            if pks & {institution.pk, unit and unit.pk}
        ]
        if len(found) == 1:
            return found[0]
        problem = "is not one of the parties" if not found else "matches more than one party"
        line.error(ref.path, f"{ref.name!r} {problem}")
        return None

    def resolve_focus_areas(self, names, line):
        areas = (self.focus_areas.resolve(name, path, line) for path, name in names)
        return list(dict.fromkeys(area for area in areas if area))

    def labs_of(self, data):
        """(lab, outcome) of each lab the agreement names."""
        line, links = data.line, []
        for lab_data in data.labs:
            hosts = [self.institutions.resolve(ref, line) for ref in lab_data.hosts]
            focus_areas = self.resolve_focus_areas(lab_data.focus_areas, line)
            lab = self.labs.resolve(lab_data, list(filter(None, hosts)), focus_areas, line)
            if lab is None:
                continue
            if lab in (other for other, _ in links):
                line.error(at(lab_data.path, "name"), f"{lab.name} is named already")
                continue
            founded = (lab_data.status or lab.status) != Lab.Status.PROPOSED
            default = LabAgreement.Outcome.FOUNDED if founded else LabAgreement.Outcome.PROPOSED
            links.append((lab, lab_data.outcome or default))
        return links

    def relations(self, data):
        """(type, pk) of each related agreement that is stored, and the relations to
        agreements that a later line of the file adds."""
        line, stored, later, seen = data.line, [], [], set()
        for relation in data.relations:
            path = at(relation.path, "key")
            if (relation.type, relation.key) in seen:
                line.error(path, f"{relation.type} {relation.key!r} is given twice")
            elif relation.key == data.key:
                line.error(path, "an agreement cannot be related to itself")
            elif relation.key in self.agreements:
                stored.append((relation.type, self.agreements[relation.key]))
            elif relation.key in self.keys_in_file:
                later.append(relation)
            else:
                line.error(
                    path, f"no agreement has the key {relation.key!r}, stored or in this file"
                )
            seen.add((relation.type, relation.key))
        return stored, later

    def photos(self, data, stored_pk):
        """Unsaved photos; one read from a local file that is not stored yet carries the
        processed image. A stored photo with the same address keeps its image: importing a
        file again reads no image again."""
        stored = Counter(
            map(photo_address, Photo.objects.filter(agreement_id=stored_pk) if stored_pk else [])
        )
        photos = []
        for position, photo_data in enumerate(data.photos):
            address = photo_data.image_url or None
            photo = Photo(
                caption=photo_data.caption,
                credit=photo_data.credit,
                image_url=photo_data.image_url,
                position=position,
            )
            if stored[address]:
                stored[address] -= 1
            elif self.reads_file(address) and (processed := self.read_image(photo_data, data.line)):
                photo.image, photo.thumbnail = processed.image, processed.thumbnail
            photos.append(photo)
        return photos

    def reads_file(self, address):
        return address and self.base_dir and not WEB_ADDRESS.match(address)

    def read_image(self, photo_data, line):
        path = self.base_dir / photo_data.image_url  # an absolute path stays as it is
        try:
            with path.open("rb") as file:
                return process_image(file)
        except OSError as error:
            line.error(at(photo_data.path, "image_url"), f"cannot read {path}: {error.strerror}")
        except ValidationError as error:
            line.error(at(photo_data.path, "image_url"), " ".join(error.messages))
        return None

    def save_agreement(self, data, stored_pk, agreement_type):
        if stored_pk:
            agreement = Agreement.objects.get(pk=stored_pk)
        else:
            title = data.fields["title"]
            agreement = Agreement(slug=data.key or unique_slug(Agreement, title, max_length=100))
        publishing = (
            data.fields["status"] == Agreement.Status.PUBLISHED
            and agreement.status != Agreement.Status.PUBLISHED
        )
        changed = assign(agreement, agreement_type_id=agreement_type.pk, **data.fields)
        if publishing:
            agreement.published_at = timezone.now()
        if changed or not stored_pk:
            agreement.save()
        self.agreements[agreement.slug] = agreement.pk
        return agreement

    def add_later_relations(self):
        for source, relation in self.later_relations:
            # A target missing here is one whose line failed, which says why.
            if target := self.agreements.get(relation.key):
                AgreementRelation.objects.create(
                    source_id=source, target_id=target, type=relation.type
                )

    def delete_new_images(self):
        delete_images(self.new_images)


def sync(stored, wanted, *, key, fields):
    """Make one list of an agreement (its parties, its sources …) the `wanted` unsaved rows.

    A wanted row takes the place of a stored row with the same key, which is saved only if one
    of `fields` differs, so that unchanged rows keep their history as it is. Returns the rows in
    their new order, and the stored rows no longer wanted, for the caller to delete."""
    unclaimed = {}
    for row in stored:
        unclaimed.setdefault(key(row), []).append(row)
    rows = []
    for row in wanted:
        claimed = unclaimed.get(key(row))
        if claimed:
            stored_row = claimed.pop(0)
            if assign(stored_row, **{name: getattr(row, name) for name in fields}):
                stored_row.save()
            row = stored_row
        else:
            row.save()
        rows.append(row)
    return rows, [row for rows_left in unclaimed.values() for row in rows_left]


def assign(instance, **values):
    """Set the values that differ; whether there were any."""
    changed = {name: value for name, value in values.items() if getattr(instance, name) != value}
    for name, value in changed.items():
        setattr(instance, name, value)
    return bool(changed)


def delete(rows):
    for row in rows:
        row.delete()


def delete_images(photos):
    """Image files are not part of the transaction: take back those of rolled-back photos."""
    for photo in photos:
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
