"""Spelling suggestions for searches that find nothing ("Huawai" -> "Huawei")."""

import difflib
import re

from agreements.filters import search_terms
from agreements.models import Agreement
from agreements.public import (
    agreement_counts,
    link_counts,
    public_institution_ids,
    public_lab_ids,
    public_person_ids,
)
from agreements.search_index import FOCUS_AREA
from people.models import Person, PersonAlias
from registry.cache import cached
from registry.models import FocusArea, Institution, InstitutionAlias

WORD = re.compile(r"\w+")


def public_vocabulary():
    """Words of the names the public can already see, which the search matches: those of the
    institutions with a public page (parties, and those someone acted for, a witnessing
    government say), focus areas, people and labs of published agreements only, so that a
    suggestion never reveals a draft. Read through the search's counts and each record's
    first part in a published agreement, rather than a DISTINCT over every party and
    participation (seconds at 100,000 agreements)."""
    institutions = list(public_institution_ids(agreement_counts()))
    areas = [int(pk) for pk in link_counts(None, FOCUS_AREA)]
    people = public_person_ids()
    labs = Agreement._meta.get_field("labs").related_model.objects.filter(pk__in=public_lab_ids())
    names = [
        *Institution.objects.filter(pk__in=institutions).values_list(
            "name", "native_name", "acronym"
        ),
        *InstitutionAlias.objects.filter(institution__in=institutions).values_list("name"),
        *FocusArea.objects.filter(pk__in=areas).values_list("name"),
        *Person.objects.filter(pk__in=people).values_list("name", "native_name"),
        *PersonAlias.objects.filter(person__in=people).values_list("name"),
        *labs.values_list("name"),
    ]
    return {
        word.casefold(): word
        for row in names
        for name in row
        if name
        for word in WORD.findall(name)
    }


def suggest(text):
    """`text` with each unknown word replaced by the closest known one, or None."""
    vocabulary = cached("vocabulary", "", public_vocabulary)
    corrected, changed = [], False
    for term in search_terms(text):
        if term.casefold() in vocabulary:
            corrected.append(term)
            continue
        close = difflib.get_close_matches(term.casefold(), vocabulary, n=1, cutoff=0.75)
        corrected.append(vocabulary[close[0]] if close else term)
        changed |= bool(close)
    return " ".join(corrected) if changed else None
