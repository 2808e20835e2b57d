"""Likely duplicates among institutions and among people, for staff to merge or dismiss.

Two records are a likely pair when
- their names are one name written differently (case, accents, full-width letters, spaces:
  `registry.text.normalise_name`), or the same words in another order or punctuation;
- one's native-script name or alias is the other's name, or both have one native-script name;
- one's acronym is the other's name (or native-script name or alias);
- their names are nearly identical (difflib ratio of at least 0.9) and hold the same numbers
  ("Branch 1" and "Branch 2" are two branches).

All of it in Python over two queries per kind of record. Exact matches are looked up by key.
Near-identical names are compared only within blocks of names that share their numbers and
their first or their last four letters; a block of more than 150 names (a common surname) only
within a window of 12 neighbours in alphabetical order (from the end, for last letters). So
20,000 people never make 200 million comparisons, at the price of missing a near pair that a
dozen similar names separate in both orders.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backoffice.models import NotDuplicate, RecordKind
from people.models import Person, PersonAlias
from registry.models import Institution, InstitutionAlias
from registry.text import normalise_name

NEAR = 0.9
# Below this many letters a ratio of 0.9 allows no difference at all: equal names, found above.
NEAR_MIN_LENGTH = 10
BLOCK = 4
WHOLE_BLOCK = 150
WINDOW = 12
NOT_WORD = re.compile(r"[^\w]+")
NUMBER = re.compile(r"\d+")

# Reasons, strongest first: a pair shows its strongest first and sorts by it.
SAME_NAME = "same_name"
OTHER_NAME = "other_name"
SAME_NATIVE = "same_native"
ACRONYM = "acronym"
SAME_WORDS = "same_words"
NEAR_NAME = "near_name"
REASONS = {
    SAME_NAME: _("the same name written differently"),
    OTHER_NAME: _("one's other name (native-script name or alias) is the other's name"),
    SAME_NATIVE: _("the same native-script name"),
    ACRONYM: _("one's acronym is the other's name"),
    SAME_WORDS: _("the same words in another order or punctuation"),
    NEAR_NAME: _("nearly identical names"),
}
STRENGTH = {reason: rank for rank, reason in enumerate(REASONS)}


@dataclass
class Record:
    pk: int
    name: str
    native_name: str = ""
    acronym: str = ""
    aliases: list = field(default_factory=list)


@dataclass
class Pair:
    first: int
    second: int
    reasons: set = field(default_factory=set)

    @property
    def strongest(self):
        return min(self.reasons, key=STRENGTH.__getitem__)

    def described(self):
        return [REASONS[reason] for reason in sorted(self.reasons, key=STRENGTH.__getitem__)]


def words(normalised):
    return NOT_WORD.sub(" ", normalised).split()


def find_pairs(records, *, around=None):
    """{(lower pk, higher pk): Pair} among `records` (a list of Record); with `around` (a pk),
    only the pairs that record is in, without comparing the others among themselves."""
    pairs = {}

    def add(one, other, reason):
        if one == other or around is not None and around not in (one, other):
            return
        key = (one, other) if one < other else (other, one)
        pairs.setdefault(key, Pair(*key)).reasons.add(reason)

    def pairs_within(index, reason):
        for pks in index.values():
            if len(pks) > 1 and (around is None or around in pks):
                ordered = sorted(pks)
                for i, one in enumerate(ordered):
                    for other in ordered[i + 1 :]:
                        add(one, other, reason)

    def pairs_across(index, others, reason):
        for key, pks in others.items():
            for one in pks:
                for other in index.get(key, ()):
                    add(one, other, reason)

    by_name, by_words, by_native = defaultdict(set), defaultdict(set), defaultdict(set)
    by_other, by_acronym = defaultdict(set), defaultdict(set)
    names = {}
    for record in records:
        name = normalise_name(record.name)
        names[record.pk] = name
        by_name[name].add(record.pk)
        by_words[" ".join(sorted(words(name)))].add(record.pk)
        if record.native_name:
            by_native[normalise_name(record.native_name)].add(record.pk)
        for other in [record.native_name, *record.aliases]:
            if other:
                by_other[normalise_name(other)].add(record.pk)
        if record.acronym:
            by_acronym[normalise_name(record.acronym)].add(record.pk)
    by_name.pop("", None)
    by_words.pop("", None)
    pairs_within(by_name, SAME_NAME)
    pairs_across(by_name, by_other, OTHER_NAME)
    pairs_within(by_native, SAME_NATIVE)
    pairs_across(by_name, by_acronym, ACRONYM)
    pairs_across(by_other, by_acronym, ACRONYM)
    pairs_within(by_words, SAME_WORDS)
    for one, other in near_names(names, around=around):
        add(one, other, NEAR_NAME)
    return pairs


def near_names(names, *, around=None):
    """Pairs of pks whose names ({pk: normalised name}) are nearly identical, by blocks; with
    `around`, only its pairs, compared with every name of its blocks."""
    blocks = defaultdict(list)
    for pk, name in names.items():
        letters = " ".join(words(NUMBER.sub(" ", name)))
        if len(letters) < NEAR_MIN_LENGTH:
            continue
        numbers = tuple(NUMBER.findall(name))
        text = " ".join(words(name))
        blocks[(numbers, "<", letters[:BLOCK])].append((text, pk))
        blocks[(numbers, ">", letters[-BLOCK:])].append((text[::-1], pk))
    found = set()
    matcher = SequenceMatcher(autojunk=False)

    def near(other_text):
        """Whether `other_text` is nearly the matcher's second text (set once for many)."""
        matcher.set_seq1(other_text)
        return (
            matcher.real_quick_ratio() >= NEAR
            and matcher.quick_ratio() >= NEAR
            and matcher.ratio() >= NEAR
        )

    for block in blocks.values():
        if len(block) < 2:
            continue
        if around is not None:
            for text in [text for text, pk in block if pk == around]:
                matcher.set_seq2(text)
                found.update(
                    (min(pk, around), max(pk, around))
                    for other_text, pk in block
                    if pk != around and other_text != text and near(other_text)
                )
            continue
        # A small block is compared whole; a large one (a common surname) only within a window
        # of its names in order, read from the end in the block of shared last letters.
        block.sort()
        window = len(block) if len(block) <= WHOLE_BLOCK else WINDOW
        for i, (text, pk) in enumerate(block):
            matcher.set_seq2(text)
            for other_text, other_pk in block[i + 1 : i + 1 + window]:
                key = (pk, other_pk) if pk < other_pk else (other_pk, pk)
                if key in found or text == other_text:
                    continue  # equal texts are found as the same name
                if near(other_text):
                    found.add(key)
    return found


def institution_records():
    aliases = defaultdict(list)
    for institution, name in InstitutionAlias.objects.values_list("institution", "name"):
        aliases[institution].append(name)
    return [
        Record(pk, name, native_name, acronym, aliases[pk])
        for pk, name, native_name, acronym in Institution.objects.values_list(
            "pk", "name", "native_name", "acronym"
        )
    ]


def person_records():
    aliases = defaultdict(list)
    for person, name in PersonAlias.objects.values_list("person", "name"):
        aliases[person].append(name)
    return [
        Record(pk, name, native_name, "", aliases[pk])
        for pk, name, native_name in Person.objects.values_list("pk", "name", "native_name")
    ]


RECORDS = {RecordKind.INSTITUTION: institution_records, RecordKind.PERSON: person_records}


def likely_same_as(kind, pk):
    """The pairs of `kind` that record `pk` is in, as likely_duplicates() finds them (those
    nobody dismissed), strongest reason first: for the warning on adding a record."""
    pairs = find_pairs(RECORDS[kind](), around=pk)
    dismissed = (
        NotDuplicate.objects.filter(kind=kind)
        .filter(Q(first_pk=pk) | Q(second_pk=pk))
        .values_list("first_pk", "second_pk")
    )
    for key in dismissed:
        pairs.pop(tuple(key), None)
    return sorted(pairs.values(), key=lambda pair: (STRENGTH[pair.strongest], pair.first))


def likely_duplicates(kind):
    """The likely pairs of `kind` that nobody dismissed, strongest reason first."""
    pairs = find_pairs(RECORDS[kind]())
    dismissed = NotDuplicate.objects.filter(kind=kind).values_list("first_pk", "second_pk")
    for key in dismissed:
        pairs.pop(tuple(key), None)
    return sorted(pairs.values(), key=lambda pair: (STRENGTH[pair.strongest], pair.first))
