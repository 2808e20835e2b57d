"""Erasing a person on request (privacy): the record and every copy of their names that the
back office keeps, which deleting the record in the admin leaves behind.

A delete removes the person, their other names and, through the search's triggers or views,
them from every search document; but simple_history keeps a snapshot of each version of the
person and their other names (names, native names, the reason of a merge), the admin's log
keeps the name it was deleted under, and a merge keeps a copy of each duplicate merged into
them. Here, in the back office, because the agreements' history is touched too.

The agreements' history stays readable: its rows of the person's participations are kept,
without the title they held, and read "participation 12" (registry/history.py finds no
version of the person to name them by); the admin's log says "a removed person".
"""

import json
import re

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from agreements.models import Participation
from agreements.search_index import refreshed_once
from backoffice.models import Merge, NotDuplicate, RecordKind
from people.models import Person, PersonAlias
from registry.cache import data_changed


def erase_person(*, person_id):
    """Delete person `person_id`, if not deleted already, and purge their names from the
    history, the admin's log and the record of merges; refused, with the agreements named,
    while they still take part in one (remove them there first, in the agreement's admin,
    where the removal is recorded). Returns how many rows of each kind were removed or
    emptied."""
    with transaction.atomic(), refreshed_once():
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None and not Person.history.filter(id=person_id).exists():
            raise ValidationError(
                _("No person #%(id)s, now or in the history.") % {"id": person_id}
            )
        if person is not None:
            refuse_while_taking_part(person)
        # The records merged into this one were the same person under another name.
        merges = merged_into(person_id)
        ids = {person_id, *(merge.duplicate_pk for merge in merges)}
        Merge.objects.filter(pk__in=[merge.pk for merge in merges]).delete()
        if person is not None:
            person.delete()  # its aliases with it; both leave a last version, purged below
        names = known_names(ids)
        counts = {
            "people": Person.history.filter(id__in=ids).delete()[0],
            "other names": PersonAlias.history.filter(person_id__in=ids).delete()[0],
            "participations": Participation.history.filter(person_id__in=ids).update(
                title="", history_change_reason=None
            ),
            "merges": len(merges),
            "pairs": NotDuplicate.objects.filter(kind=RecordKind.PERSON)
            .filter(Q(first_pk__in=ids) | Q(second_pk__in=ids))
            .delete()[0],
            "log entries": LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Person),
                object_id__in=[str(pk) for pk in ids],
            ).delete()[0],
            "log messages": unnamed_in_log(names),
        }
        data_changed()
    return counts


def refuse_while_taking_part(person):
    """Refused, naming the agreements, while `person` takes part in any: they are removed
    there first, where the removal is recorded. The command's preview says it too."""
    agreements = sorted(
        {p.agreement.title for p in person.participations.select_related("agreement")}
    )
    if agreements:
        raise ValidationError(
            _("%(name)s still takes part in: %(agreements)s. Remove them there first.")
            % {"name": person.name, "agreements": "; ".join(agreements)}
        )


def merged_into(person_id):
    """The merges of duplicates into the person, and into those before them. A merge keeps its
    survivor until the survivor is deleted (SET_NULL); after, the versions of the survivor
    (and of each duplicate, for the merges into it) still name the duplicate by its id in the
    reason of the merge's save ("#12", in any language)."""
    merges = list(Merge.objects.filter(kind=RecordKind.PERSON, survivor_person_id=person_id))
    orphans = list(Merge.objects.filter(kind=RecordKind.PERSON, survivor_person__isnull=True))
    searched, ids = set(), {person_id, *(merge.duplicate_pk for merge in merges)}
    while ids - searched:
        searching = ids - searched
        searched |= searching
        reasons = " ".join(
            Person.history.filter(id__in=searching)
            .exclude(history_change_reason=None)
            .values_list("history_change_reason", flat=True)
        )
        for merge in orphans:
            if merge not in merges and re.search(rf"#{merge.duplicate_pk}\b", reasons):
                merges.append(merge)
                ids.add(merge.duplicate_pk)
    return merges


def known_names(ids):
    """Every name the person was known by, as their versions and other names' versions keep."""
    names = set()
    for name, native_name in Person.history.filter(id__in=ids).values_list("name", "native_name"):
        # Also as a person reads, "Zhang Yong (张勇)", to be replaced whole.
        names.update([name, native_name, f"{name} ({native_name})" if native_name else ""])
    names.update(PersonAlias.history.filter(person_id__in=ids).values_list("name", flat=True))
    return {name for name in names if name}


def unnamed_in_log(names):
    """The admin's log of other records' changes names the parts an inline added, changed or
    deleted as they read then ("Zhang Yong (witness)"): each such name becomes "a removed
    person". Returns how many log entries were rewritten."""
    # Stored as JSON, whose strings escape letters beyond ASCII.
    encoded = Q()
    for name in names:
        encoded |= Q(change_message__contains=json.dumps(name)[1:-1])
    if not names:
        return 0
    removed = _("a removed person")
    # Longest first, so that "Zhang Yong (张勇)" goes whole before "Zhang Yong" alone.
    ordered = sorted(names, key=len, reverse=True)
    entries = list(LogEntry.objects.filter(encoded))
    for entry in entries:
        try:
            message = json.loads(entry.change_message)
        except ValueError:  # a message in words, as a few actions log
            message = entry.change_message
        for name in ordered:
            message = replaced(message, name, removed)
        entry.change_message = message if isinstance(message, str) else json.dumps(message)
    LogEntry.objects.bulk_update(entries, ["change_message"])
    return len(entries)


def replaced(value, name, by):
    """`value` (a message in JSON: lists, dicts, strings) with `name` replaced everywhere."""
    if isinstance(value, str):
        return value.replace(name, by)
    if isinstance(value, list):
        return [replaced(item, name, by) for item in value]
    if isinstance(value, dict):
        return {key: replaced(item, name, by) for key, item in value.items()}
    return value
