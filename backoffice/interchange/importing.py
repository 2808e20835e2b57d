"""Importing interchange lines: all of them, or nothing when any line has a problem.

The file is read as a stream, a line at a time, in one transaction. What is stored is read
once into memory (references.py), so that resolving a line's references runs no query.

A line that adds an agreement is resolved and its rows are kept, with the records it
introduces, until a batch of such lines is complete; the batch is then written with a few
bulk inserts per table (writing.py). When the database refuses a batch, each of its lines is
written alone to find the ones it refuses, which are reported like any other problem.

A line whose key is stored is applied in a savepoint of its own, and its agreement exported
before and after: when nothing a reader of the export could see has changed, the savepoint is
rolled back, so that importing a file again adds no rows and no history, and the line counts
as unchanged.
"""

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agreements.models import (
    Agreement,
    AgreementRelation,
    AgreementType,
    Participation,
    Party,
    Photo,
    RelationType,
    Role,
    Source,
    StatusChange,
    same_period,
)
from agreements.search_index import refreshed_once
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
    free_slug,
)
from backoffice.interchange.writing import Rows, write_groups
from labs.models import Lab, LabAgreement
from registry import locks
from registry.cache import data_changed
from registry.images import process_image
from registry.text import normalise_name

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
# The line of the totals (Report.totals) for each kind, translated when it is made; its
# placeholders are the outcomes of KINDS.
TOTALS = {
    "agreements": gettext_noop(
        "agreements: %(created)d created, %(updated)d updated, %(unchanged)d unchanged"
    ),
    "institutions": gettext_noop(
        "institutions: %(created)d created, %(updated)d updated, %(matched)d matched"
    ),
    "people": gettext_noop("people: %(created)d created, %(updated)d updated, %(matched)d matched"),
    "focus areas": gettext_noop("focus areas: %(created)d created, %(matched)d matched"),
    "labs": gettext_noop("labs: %(created)d created, %(updated)d updated, %(matched)d matched"),
}
# An image_url with a scheme (http:, https:, data: …) is an address, kept but never fetched;
# anything else is a file path. Two letters at least, so that C:\ is a path.
WEB_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]+:", re.IGNORECASE)
# New agreements written at a time: large enough that a batch costs a few queries per table,
# small enough that its rows take little memory.
BATCH_LINES = 500
IMPORT_COMMENT = "Set by an import."
UTF_16_MARKS = (b"\xff\xfe", b"\xfe\xff")  # how a UTF-16 file begins (Excel's "Unicode text")
EMPTY_FILE = gettext_noop("The file holds no agreements.")  # translated when told
CHANGE_PERMISSION = "agreements.change_agreement"
PUBLISH_PERMISSION = "agreements.publish_agreement"


@dataclass
class Report:
    """What an import did or, in a dry run, would do: its problems, or how many records of
    each kind were created, updated, left unchanged or matched."""

    dry_run: bool = False
    errors: list = field(default_factory=list)  # "line N: field: what is wrong"
    outcomes: dict = field(default_factory=dict)  # kind -> {primary key: outcome}
    # With details, what each line did, for a preview: line number -> {kind: {primary key:
    # [label, outcome]}}. Off for the command, whose files may have a million lines.
    details: bool = False
    lines: dict = field(default_factory=dict)
    line: int | None = None  # the number of the line being imported
    changes: int = 0  # how many records were created or updated, to tell a line that changes any
    # How many of those were not agreements: what an agreement's export shows of others.
    shared_changes: int = 0
    # Published agreements the import takes off the public site, "title (key)": their lines'
    # status is another, or none, which is draft. Easily done unawares, so always told.
    withdrawn: list = field(default_factory=list)
    # Lines without a key that add an agreement likely stored already, "title (key), like
    # key": most often a file imported twice. Added all the same (the format says a
    # line without a key is a new agreement), but always told.
    added_again: list = field(default_factory=list)
    # With details, what each line updating a stored agreement changes of it: line number ->
    # [the keys of its interchange record that differ], so that a preview says it.
    changed: dict = field(default_factory=dict)

    def record(self, kind, instance, outcome):
        pk = instance.pk
        if outcome in (CREATED, UPDATED):
            self.changes += 1
            self.shared_changes += kind != "agreements"
        outcomes = self.outcomes.setdefault(kind, {})
        if pk not in outcomes or STRENGTH[outcome] > STRENGTH[outcomes[pk]]:
            outcomes[pk] = outcome
        if self.details and self.line is not None:
            done = self.lines.setdefault(self.line, {}).setdefault(kind, {})
            if pk not in done or STRENGTH[outcome] > STRENGTH[done[pk][1]]:
                label = (
                    f"{instance.title} ({instance.slug})" if kind == "agreements" else str(instance)
                )
                done[pk] = [label, outcome]

    def by_line(self):
        """What each line did, without primary keys (which a dry run does not keep):
        [(line number, {kind: {outcome: [labels, sorted]}})], by line."""
        result = []
        for number, kinds in sorted(self.lines.items()):
            summary = {}
            for kind, done in kinds.items():
                for label, outcome in done.values():
                    summary.setdefault(kind, {}).setdefault(outcome, []).append(label)
            for outcomes in summary.values():
                for labels in outcomes.values():
                    labels.sort()
            if number in self.changed:
                summary["changed"] = self.changed[number]
            result.append((number, summary))
        return result

    def counts(self, kind):
        return Counter(self.outcomes.get(kind, {}).values())

    def totals(self):
        """A line per kind of record: how many were created, updated and so on."""
        lines = []
        for kind, outcomes in KINDS.items():
            counts = self.counts(kind)
            lines.append(_(TOTALS[kind]) % {outcome: counts[outcome] for outcome in outcomes})
        if self.withdrawn:
            lines.append(
                _("taken off the public site (no longer published): %(count)d, %(agreements)s")
                % {"count": len(self.withdrawn), "agreements": "; ".join(sorted(self.withdrawn))}
            )
        if self.added_again:
            lines.append(
                _(
                    "added again without a key, though likely stored (the same title and date): "
                    "%(count)d, %(agreements)s"
                )
                % {"count": len(self.added_again), "agreements": "; ".join(self.added_again)}
            )
        return lines

    def logged(self):
        """The report in one line of the log: what the file did or would do, or how many
        problems it has and the first (the command prints them all)."""
        if self.errors:
            return f"refused, {len(self.errors)} problem(s), the first: {self.errors[0]}"
        agreements = self.counts("agreements")
        return (
            f"agreements created={agreements[CREATED]} updated={agreements[UPDATED]} "
            f"unchanged={agreements[UNCHANGED]} withdrawn={len(self.withdrawn)}"
        )

    def summary(self):
        dry_run = _("Dry run: nothing was changed. The import would give:")
        lines = [dry_run] if self.dry_run else []
        return "\n".join(lines + self.totals())


def import_lines(lines, *, dry_run=False, base_dir=None, user=None, details=False):
    """Import interchange lines (str, or bytes as read from a file opened in binary mode).

    Every line is checked; when any has a problem, or in a dry run, nothing is changed and the
    report says what is wrong or what would have been done. `base_dir` is the folder of the
    import file: photos given as local paths are read from it (relative paths) or from
    anywhere on this machine (absolute ones). With None no local file is read, which is right
    for a file uploaded through the browser: the server's files are not its uploader's.
    `user` is the person importing through the admin: the file may only do what they may
    (Importer.check_permissions), and the status changes it makes name them (history rows name the
    signed-in user by themselves). `details` keeps what each line did (Report.by_line)."""
    report = Report(dry_run=dry_run, details=details)
    importer = Importer(report, base_dir=None if base_dir is None else Path(base_dir), user=user)
    try:
        with transaction.atomic(), refreshed_once():
            one_import_at_a_time()
            importer.load()
            for line, agreement in read_lines(lines):
                importer.take(line, agreement)
            importer.finish()
            report.errors = [error for line in importer.lines for error in line.errors]
            if not importer.lines:  # most likely the wrong file, as a spreadsheet says
                report.errors = [_(EMPTY_FILE)]
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


def one_import_at_a_time():
    """Wait for any other import (or preview) to end before reading what is stored. Two at
    once read the registry as it was before either: both then made the same new
    institution, person, focus area or lab, and the second was refused with a duplicate key
    once the first committed; now it matches what the first made. (SQLite writes one
    transaction at a time already.)

    Then the lock of parents being changed (registry 0009), which an import may change, before
    it locks any row: taken later, by a trigger, while a move in the admin that holds it waits
    for a row the import locked, the two waited for each other."""
    locks.held_until_commit(locks.IMPORTS)
    locks.held_until_commit(locks.INSTITUTION_TREE)


def physical_lines(lines):
    """Lines as read from a file opened in binary mode (split at "\\n" alone) split again at
    "\\r", as an upload's are: a file saved with "\\r" line ends by an old editor is read the
    same by both routes. (JSON escapes both characters in a text, so neither is ever in one.)"""
    for chunk in lines:
        # A blank line splits into no lines, but is one of the file's: it is counted.
        yield from (chunk.splitlines() or [chunk]) if isinstance(chunk, bytes) else [chunk]


def read_lines(lines):
    """Each non-blank line read, one at a time: (its Line, the agreement it describes or None
    when there is none to read)."""
    line_of_key = {}
    first = True  # no line read yet
    for number, text in enumerate(physical_lines(lines), start=1):
        if number == 1 and isinstance(text, bytes) and text[:2] in UTF_16_MARKS:
            # Each line would be "not UTF-8": said once, with what to do.
            line = Line(number)
            line.error("agreement", _("the file is UTF-16, not UTF-8: save it as UTF-8"))
            yield line, None
            return
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                line = Line(number)
                line.error("agreement", _("is not UTF-8: %(error)s") % {"error": error})
                yield line, None
                continue
        if number == 1:
            text = text.removeprefix("\ufeff")  # a byte order mark, as some editors write
        if not text.strip():
            continue
        if first and text.strip() in ("{", "["):
            # JSON written over several lines: each line would be "not valid JSON".
            line = Line(number)
            message = _(
                "not valid JSON: each agreement is one JSON object on a line of its own "
                "(JSON Lines), and this file is written over several"
            )
            line.error("agreement", message)
            yield line, None
            return
        first = False
        line, agreement = read_line(number, text)
        if agreement is not None and agreement.key in line_of_key:
            message = _("%(key)s is the key of line %(line)s")
            line.error(
                "key", message % {"key": repr(agreement.key), "line": line_of_key[agreement.key]}
            )
        elif agreement is not None and agreement.key:
            line_of_key[agreement.key] = number
        yield line, agreement


class Importer:
    def __init__(self, report, *, base_dir, user=None):
        self.report = report
        self.base_dir = base_dir
        self.user = user
        self.lines = []  # every line read, each with its problems
        self.keys_in_file = set()  # the keys of the lines read so far
        self.made_keys = {}  # key -> the number of the line without one it was made for
        # (agreement pk, RelationData, Line) of relations to keys not seen yet: a later line
        # may add them.
        self.later_relations = []
        # agreement pk -> (Line, [RelationData]) of the lines that give relations, checked at
        # the end against the relations the other way (refuse_relations_both_ways).
        self.relating = {}
        self.new_images = []  # photos whose image files this import stored
        self.batch = 0  # new agreements waiting in self.rows
        self.stored_lines = []  # lines whose keys are stored, waiting for apply_stored
        # Stored agreements whose parts (parties, people, sources …) a line changed and whose
        # own fields it did not, so that no save dated them: dated at the end, in one UPDATE.
        self.parts_changed = set()

    def load(self):
        """Read what is stored: at the start, and after a line has been rolled back."""
        self.rows = Rows()
        self.types = AgreementType.by_normalised_name()
        self.institutions = Institutions(self.report, self.rows)
        self.people = People(self.report, self.rows)
        self.focus_areas = FocusAreas(self.report, self.rows)
        self.labs = Labs(self.report, self.rows)
        self.agreements = dict(Agreement.objects.values_list("slug", "pk"))
        # The stored agreements past draft: in review or published.
        self.reviewed = dict(
            Agreement.objects.exclude(status=Agreement.Status.DRAFT).values_list("slug", "status")
        )

    def check_permissions(self, data):
        """A file may only do what the person importing it may do in the admin: changing a
        stored agreement needs the change permission, publishing or withdrawing one the
        publish permission (and so does changing one past draft: see `write`)."""
        user, line = self.user, data.line
        if data.key in self.agreements and not user.has_perm(CHANGE_PERMISSION):
            message = _("%(key)s is stored; you may add agreements, not change them")
            line.error("key", message % {"key": repr(data.key)})
        was_published = self.reviewed.get(data.key) == Agreement.Status.PUBLISHED
        published = data.fields["status"] == Agreement.Status.PUBLISHED
        if was_published != published and not self.may_publish():
            if was_published:
                line.error("status", _("you may not withdraw it; a publisher may"))
            else:
                line.error("status", _("you may not publish it; a publisher may"))

    def may_publish(self):
        return self.user is None or self.user.has_perm(PUBLISH_PERMISSION)

    def take(self, line, data):
        """One line read: a new agreement joins the batch; one whose key is stored is applied
        once the batch is written."""
        self.lines.append(line)
        self.report.line = line.number
        if data is None:
            return
        if data.key:
            self.keys_in_file.add(data.key)
        if self.user is not None:
            self.check_permissions(data)
        if data.key in self.made_keys:
            # Not the agreement that line added, to be changed: most likely another one.
            made_for = self.made_keys[data.key]
            message = _("%(key)s is the key made for line %(line)s from its title")
            line.error("key", message % {"key": repr(data.key), "line": made_for})
            return
        if data.key in self.agreements:
            self.write_batch()
            self.stored_lines.append(data)
            if len(self.stored_lines) >= BATCH_LINES:
                self.apply_stored()
            return
        self.apply_stored()
        self.report.line = line.number  # which applying the lines before it moved
        self.rows.start(line)
        self.add(data)
        if self.batch >= BATCH_LINES:
            self.write_batch()

    def finish(self):
        self.apply_stored()
        self.write_batch()
        self.add_later_relations()
        self.refuse_relations_both_ways()
        if self.parts_changed:
            Agreement.objects.filter(pk__any_of=list(self.parts_changed)).parts_changed()

    def apply_stored(self):
        """The lines waiting whose keys are stored, in their order. A line that is exactly its
        agreement's export, and names only what is stored as it is, is left alone without a
        write (a file imported again); from the first line that is not, each is applied."""
        waiting, self.stored_lines = self.stored_lines, []
        if not waiting:
            return
        stored = Agreement.objects.filter(slug__in={data.key for data in waiting})
        # Both in the database's order of keys, which export_lines follows.
        keys = stored.order_by("slug").values_list("slug", flat=True)
        exports = dict(zip(keys, export_lines(stored), strict=True))
        changed_from, learnt = None, False
        with transaction.atomic():
            for index, data in enumerate(waiting):
                if data.line.errors or data.text.rstrip("\r\n") + "\n" != exports.get(data.key):
                    changed_from = index  # found out from the text alone: nothing to undo
                    break
                if not self.left_alone(data):
                    # Undo what finding out may have written, and forget what it learnt.
                    transaction.set_rollback(True)
                    changed_from, learnt = index, True
                    break
        if changed_from is None:
            return
        if learnt:
            self.load()  # seconds at 100,000 agreements: not for a line that differs in text
        # An agreement's export from before the batch is what it still is before its line (a
        # key is in a file once) unless a line since has changed a record other than an
        # agreement, which it may show; then it is exported again.
        shared_changes = self.report.shared_changes
        for data in waiting[changed_from:]:
            fresh = self.report.shared_changes == shared_changes
            self.apply(data, before=exports.get(data.key) if fresh else None)

    def left_alone(self, data):
        """Whether a line that is exactly its agreement's export leaves it and all it names as
        they are; if so, what it names is recorded as matched and the agreement as unchanged,
        as `apply` would."""
        line = data.line
        self.report.line = line.number
        errors, changes = len(line.errors), self.report.changes
        self.rows.start(line)
        self.agreement_type(data)
        self.participants(data, self.parties(data))
        self.resolve_focus_areas(data.focus_areas, line)
        self.labs_of(data)
        _stored, later = self.relations(data)
        self.rows.take()  # nothing, unless it changes something
        if len(line.errors) > errors or later or self.report.changes > changes:
            del line.errors[errors:]  # found again when the line is applied
            return False
        title, pk = data.fields["title"], self.agreements[data.key]
        self.report.record("agreements", Agreement(pk=pk, slug=data.key, title=title), UNCHANGED)
        return True

    def write_batch(self):
        groups, self.batch = self.rows.take(), 0
        try:
            write_groups(groups)
        except DatabaseError:
            # Which lines does the database refuse? Each line's rows alone tell.
            for group in groups:
                try:
                    write_groups([group])
                except DatabaseError as error:
                    message = _("the database refused it: %(error)s") % {"error": error}
                    group.line.error("agreement", message)

    def add(self, data):
        """Resolve a line that adds an agreement, and keep its rows for the batch."""
        resolved = self.resolve(data, None)
        if resolved is None:
            return
        agreement_type, parties, participants, focus_areas, labs, relations, later, photos = (
            resolved
        )
        rows = self.rows
        agreement = rows.add(self.new_agreement(data, agreement_type))
        self.agreements[agreement.slug] = agreement.pk
        if agreement.status != Agreement.Status.DRAFT:
            # As save_agreement records it: a status set by a file is a move of the workflow.
            rows.add(
                StatusChange(
                    agreement_id=agreement.pk,
                    from_status=Agreement.Status.DRAFT,
                    to_status=agreement.status,
                    by=self.user,
                    comment=IMPORT_COMMENT,
                )
            )
        rows.link(agreement, "focus_areas", focus_areas)
        # Parties and participations as values (writing.VALUE_FIELDS), naming others by key.
        pk = agreement.pk
        party_keys = [rows.ids.take(Party) for _party in parties]
        for position, (institution, unit) in enumerate(parties):
            rows.add_values(
                Party, (party_keys[position], pk, institution.pk, unit and unit.pk, position)
            )
        for position, (participant, person, organisation, party) in enumerate(participants):
            rows.add_values(
                Participation,
                (
                    pk,
                    person.pk,
                    participant.role,
                    participant.title,
                    organisation and organisation.pk,
                    None if party is None else party_keys[party],
                    position,
                ),
            )
        for position, fields in enumerate(data.sources):
            rows.add(Source(agreement_id=pk, position=position, **fields))
        for photo in photos:
            photo.agreement = agreement
            rows.add(photo)
        self.new_images += [photo for photo in photos if photo.image]
        for lab, outcome in labs:
            rows.add(LabAgreement(lab_id=lab.pk, agreement_id=pk, outcome=outcome))
        for kind, target in relations:
            rows.add(AgreementRelation(source_id=pk, target_id=target, type=kind))
        self.later_relations += [(agreement.pk, relation, data.line) for relation in later]
        if data.relations:
            self.relating[agreement.pk] = (data.line, data.relations)
        self.report.record("agreements", agreement, CREATED)
        self.batch += 1

    def new_agreement(self, data, agreement_type):
        fields = data.fields
        slug = data.key or free_slug(Agreement, fields["title"], self.agreements, max_length=100)
        agreement = Agreement(slug=slug, agreement_type=agreement_type, **fields)
        if not data.key:
            self.made_keys[slug] = data.line.number
            self.tell_if_stored(agreement)
        if fields["status"] == Agreement.Status.PUBLISHED:
            agreement.mark_published(by=self.user)
        return agreement

    def tell_if_stored(self, agreement):
        """Report a line without a key that adds an agreement the registry likely has: the
        one holding the key its title makes, of the same title and signed in the same period.
        A query only when that key is taken, which a file imported once seldom meets."""
        key = free_slug(Agreement, agreement.title, (), max_length=100)
        if key == agreement.slug:
            return
        other = Agreement.objects.filter(slug=key).first()
        if (
            other is not None
            and normalise_name(other.title) == normalise_name(agreement.title)
            and same_period(other.signed, agreement.signed)
        ):
            self.report.added_again.append(
                _("%(agreement)s, like %(key)s")
                % {"agreement": f"{agreement.title} ({agreement.slug})", "key": key}
            )

    def resolve(self, data, stored_pk):
        """Everything a line names, found or added; None when the line has problems."""
        resolved = (
            self.agreement_type(data),
            parties := self.parties(data),
            self.participants(data, parties),
            self.resolve_focus_areas(data.focus_areas, data.line),
            self.labs_of(data),
            *self.relations(data),
            self.photos(data, stored_pk),
        )
        return None if data.line.errors else resolved

    def apply(self, data, *, before=None):
        """A line whose key is stored, in a savepoint of its own. `before`: its agreement's
        export as it stands, if known."""
        self.report.line = data.line.number  # applied after the lines read since
        new_images = []
        try:
            with transaction.atomic():
                self.rows.start(data.line)
                outcome = self.write(data, new_images, before=before)
                if outcome != UPDATED:
                    transaction.set_rollback(True)
        except DatabaseError as error:
            message = _("the database refused it: %(error)s") % {"error": error}
            data.line.error("agreement", message)
            outcome = None
            self.load()
        except BaseException:
            delete_images(new_images)  # interrupted midway: see import_lines
            raise
        if outcome in (CREATED, UPDATED):
            self.new_images += new_images
        else:
            delete_images(new_images)

    def write(self, data, new_images, *, before=None):
        """Resolve everything the line names, and write the agreement if all is well.
        Returns the agreement's outcome, or None when the line has problems."""
        stored_pk = self.agreements[data.key]
        if before is None:
            before = self.export(stored_pk)
        resolved = self.resolve(data, stored_pk)
        if resolved is None:
            return None
        agreement_type, parties, participants, focus_areas, labs, relations, later, photos = (
            resolved
        )
        write_groups(self.rows.take())  # the records the line introduces
        agreement, saved = self.save_agreement(data, stored_pk, agreement_type)
        # As focus_areas.set() would, in as many queries, telling whether they changed.
        stored_areas = set(agreement.focus_areas.values_list("pk", flat=True))
        wanted_areas = {area.pk for area in focus_areas}
        agreement.focus_areas.remove(*(stored_areas - wanted_areas))
        agreement.focus_areas.add(*(wanted_areas - stored_areas))
        parts_changed = stored_areas != wanted_areas or bool(later)
        party_rows, old_parties, wrote = sync(
            agreement.parties.all(),
            [
                Party(agreement=agreement, institution=institution, unit=unit, position=position)
                for position, (institution, unit) in enumerate(parties)
            ],
            key=attrgetter("institution_id"),
            fields=["unit_id", "position"],
        )
        parts_changed |= wrote
        _rows, old_participations, wrote = sync(
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
        parts_changed |= wrote
        # Signatories leave a party before it goes: the database refuses the other order.
        delete(old_participations + old_parties)
        _rows, old_sources, wrote = sync(
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
        parts_changed |= wrote
        for photo in photos:
            photo.agreement = agreement
        new_images += [photo for photo in photos if photo.image]
        _rows, old_photos, wrote = sync(
            agreement.photos.all(),
            photos,
            key=photo_address,
            fields=["caption", "credit", "image_url", "position"],
        )
        parts_changed |= wrote
        _rows, old_labs, wrote = sync(
            LabAgreement.objects.filter(agreement=agreement),
            [LabAgreement(lab=lab, agreement=agreement, outcome=outcome) for lab, outcome in labs],
            key=attrgetter("lab_id"),
            fields=["outcome"],
        )
        parts_changed |= wrote
        _rows, old_relations, wrote = sync(
            agreement.relations.all(),
            [
                AgreementRelation(source=agreement, target_id=target, type=kind)
                for kind, target in relations
            ],
            key=attrgetter("type", "target_id"),
            fields=[],
        )
        parts_changed |= wrote
        old_rows = old_sources + old_photos + old_labs + old_relations
        delete(old_rows)
        parts_changed |= bool(old_rows or old_participations or old_parties)

        after = self.export(agreement.pk)
        outcome = UPDATED if later or after != before else UNCHANGED
        if outcome == UPDATED and self.report.details:
            self.report.changed[data.line.number] = changed_keys(before, after, later)
        status = self.reviewed.get(data.key)
        if outcome == UPDATED and status and not self.may_publish():
            # As in the admin, editors change drafts only: what is in review or published
            # changes by a publisher's hand. Known only now, so that a file that repeats it
            # as it is still imports.
            label = Agreement.Status(status).label
            message = _("%(key)s is %(status)s; only a publisher may change it")
            data.line.error("key", message % {"key": repr(data.key), "status": label})
            return None
        if outcome == UPDATED and parts_changed and not saved:
            self.parts_changed.add(agreement.pk)
        self.report.record("agreements", agreement, outcome)
        self.later_relations += [(agreement.pk, relation, data.line) for relation in later]
        if data.relations:
            self.relating[agreement.pk] = (data.line, data.relations)
        return outcome

    def export(self, pk):
        return "".join(export_lines(Agreement.objects.filter(pk=pk)))

    def agreement_type(self, data):
        agreement_type = self.types.get(normalise_name(data.agreement_type))
        if data.agreement_type and agreement_type is None:
            known = "; ".join(sorted({kind.name for kind in self.types.values()}))
            if known:
                message = _("unknown type %(type)s; known: %(known)s")
            else:
                message = _("unknown type %(type)s; known: none")
            values = {"type": repr(data.agreement_type), "known": known}
            data.line.error("agreement_type", message % values)
        return agreement_type

    def parties(self, data):
        """The (institution, unit) of each party; None for what could not be resolved."""
        line, parties = data.line, []
        for party in data.parties:
            institution = party.institution and self.institutions.resolve(party.institution, line)
            unit = party.unit and self.institutions.resolve(party.unit, line, within=institution)
            if institution and unit:
                self.institutions.attach_unit(unit, institution, party.unit.path, line)
            if institution and institution in (other for other, _unit in parties):
                message = _("%(institution)s is a party already") % {"institution": institution}
                line.error(party.institution.path, message)
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
                message = already_in_role(participant.role) % {"person": person.name}
                line.error(at(participant.path, "person"), message)
            elif person:
                roles.add((person.pk, participant.role))
            participants.append((participant, person, organisation, party))
        return participants

    def party_signed_for(self, ref, parties, line):
        """The index of the party (by its institution or its unit) that a reference names."""
        if any(institution is None for institution, _unit in parties):
            return None  # a party could not be resolved, and that is reported already
        pks = self.institutions.matches(ref)
        found = [
            index
            for index, (institution, unit) in enumerate(parties)
            if pks & {institution.pk, unit and unit.pk}
        ]
        if len(found) == 1:
            return found[0]
        if found:
            message = _("%(name)s matches more than one party")
        else:
            message = _("%(name)s is not one of the parties")
        line.error(ref.path, message % {"name": repr(ref.name)})
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
            if lab in (other for other, _outcome in links):
                message = _("%(lab)s is named already") % {"lab": lab.name}
                line.error(at(lab_data.path, "name"), message)
                continue
            founded = (lab_data.status or lab.status) != Lab.Status.PROPOSED
            default = LabAgreement.Outcome.FOUNDED if founded else LabAgreement.Outcome.PROPOSED
            links.append((lab, lab_data.outcome or default))
        return links

    def relations(self, data):
        """(type, pk) of each related agreement that is stored or added by an earlier line,
        and the relations to keys not seen yet, which a later line of the file may add."""
        line, stored, later, seen = data.line, [], [], set()
        for relation in data.relations:
            path = at(relation.path, "key")
            if (relation.type, relation.key) in seen:
                message = _("%(type)s %(key)s is given twice")
                line.error(path, message % {"type": relation.type, "key": repr(relation.key)})
            elif relation.key == data.key:
                line.error(path, _("an agreement cannot be related to itself"))
            elif relation.key in self.agreements:
                stored.append((relation.type, self.agreements[relation.key]))
            else:
                later.append(relation)
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
            address = self.local_path(photo_data.image_url) or photo_data.image_url or None
            photo = Photo(
                caption=photo_data.caption,
                credit=photo_data.credit,
                image_url=address or "",
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

    def local_path(self, address):
        """The whole path of a file a photo is read from, as it is kept and exported: a path
        relative to the import's file means nothing beside another file."""
        if self.reads_file(address):
            return os.path.normpath(self.base_dir / address)  # an absolute one stays as it is
        return None

    def read_image(self, photo_data, line):
        path = self.base_dir / photo_data.image_url  # an absolute path stays as it is
        try:
            with path.open("rb") as file:
                return process_image(file)
        except OSError as error:
            message = _("cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}
            line.error(at(photo_data.path, "image_url"), message)
        except ValidationError as error:
            line.error(at(photo_data.path, "image_url"), " ".join(error.messages))
        return None

    def save_agreement(self, data, stored_pk, agreement_type):
        agreement = Agreement.objects.get(pk=stored_pk)
        publishing = (
            data.fields["status"] == Agreement.Status.PUBLISHED
            and agreement.status != Agreement.Status.PUBLISHED
        )
        moved_from = agreement.status
        changed = assign(agreement, agreement_type_id=agreement_type.pk, **data.fields)
        if publishing:
            agreement.mark_published(by=self.user)
        if changed:
            agreement.save()
        if agreement.status != moved_from:
            if Agreement.Status.PUBLISHED in (moved_from, agreement.status):
                # As Agreement.move dates them: their public records name it, or no longer.
                related = Agreement.objects.published().related_to(agreement)
                self.parts_changed.update(related.values_list("pk", flat=True))
            if moved_from == Agreement.Status.PUBLISHED:
                self.report.withdrawn.append(f"{agreement.title} ({agreement.slug})")
            # A move of the review workflow made by a file, recorded as every move is.
            StatusChange.objects.create(
                agreement=agreement,
                from_status=moved_from,
                to_status=agreement.status,
                by=self.user,
                comment=IMPORT_COMMENT,
            )
        return agreement, changed

    def add_later_relations(self):
        rows = []
        for source, relation, line in self.later_relations:
            if target := self.agreements.get(relation.key):
                row = AgreementRelation(source_id=source, target_id=target, type=relation.type)
                rows.append((row, line))
            elif relation.key not in self.keys_in_file:
                message = _("no agreement has the key %(key)s, stored or in this file") % {
                    "key": repr(relation.key)
                }
                line.error(at(relation.path, "key"), message)
            # Otherwise the line of that key could not be imported, and says why.
        for row, line in rows:
            self.rows.start(line)
            self.rows.add(row)
        self.write_batch()

    def refuse_relations_both_ways(self):
        """Each kind of relation says which of two agreements came after, or rests on, the
        other: two that relate both ways contradict each other. Checked once every line is
        written, so that a file may turn a stored relation around (the line of one agreement
        gives it, the other's no longer does)."""
        if not self.relating:
            return
        other_way = AgreementRelation.objects.filter(
            source=OuterRef("target"), target=OuterRef("source")
        )
        found = (
            AgreementRelation.objects.filter(source__any_of=list(self.relating))
            .annotate(other_type=Subquery(other_way.values("type")[:1]))
            .filter(other_type__isnull=False)
            .values_list("source", "type", "target__slug", "other_type")
        )
        message = _(
            "%(key)s %(type)s this agreement already: two agreements relate in one direction only"
        )
        for source, kind, key, other_type in found:
            line, relations = self.relating[source]
            path = next(r.path for r in relations if (r.type, r.key) == (kind, key))
            other = {"key": repr(key), "type": RelationType(other_type).label}
            line.error(at(path, "key"), message % other)

    def delete_new_images(self):
        delete_images(self.new_images)


def already_in_role(role):
    """What is said of a person given twice in one role of an agreement (a whole sentence
    for each role, to translate): its placeholder is the person's name."""
    if role == Role.SIGNATORY:
        return _("%(person)s is a signatory of this agreement already")
    if role == Role.WITNESS:
        return _("%(person)s is a witness of this agreement already")
    return _("%(person)s is an attendee of this agreement already")


def sync(stored, wanted, *, key, fields):
    """Make one list of an agreement (its parties, its sources …) the `wanted` unsaved rows.

    A wanted row takes the place of a stored row with the same key, which is saved only if one
    of `fields` differs, so that unchanged rows keep their history as it is. Returns the rows in
    their new order, the stored rows no longer wanted, for the caller to delete, and whether
    any row was written."""
    unclaimed = {}
    for row in stored:
        unclaimed.setdefault(key(row), []).append(row)
    rows, wrote = [], False
    for row in wanted:
        claimed = unclaimed.get(key(row))
        if claimed:
            stored_row = claimed.pop(0)
            if assign(stored_row, **{name: getattr(row, name) for name in fields}):
                stored_row.save()
                wrote = True
            row = stored_row
        else:
            row.save()
            wrote = True
        rows.append(row)
    return rows, [row for rows_left in unclaimed.values() for row in rows_left], wrote


def assign(instance, **values):
    """Set the values that differ; whether there were any."""
    changed = {name: value for name, value in values.items() if getattr(instance, name) != value}
    for name, value in changed.items():
        setattr(instance, name, value)
    return bool(changed)


def delete(rows):
    for row in rows:
        row.delete()


def changed_keys(before, after, later):
    """The keys of an agreement's record (its export line) that differ between `before` and
    `after`, in the record's order; `later`: relations to agreements yet to be written."""
    before, after = json.loads(before), json.loads(after)
    keys = [key for key in after if before.get(key) != after[key]]
    if later and "relations" not in keys:
        keys.append("relations")
    return keys


def delete_images(photos):
    """Image files are not part of the transaction: take back those of rolled-back photos."""
    for photo in photos:
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
