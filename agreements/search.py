"""Spelling suggestions for searches that find nothing ("Huawai" -> "Huawei")."""

import difflib
import re

from django.db.models import Q

from agreements.filters import search_terms
from people.models import Person
from registry.models import FocusArea, Institution

WORD = re.compile(r"\w+")


def public_vocabulary(agreements):
    """Words of the names the public can already see: those of published agreements only,
    so that a suggestion never reveals a draft."""
    institutions = Institution.objects.filter(
        Q(parties__agreement__in=agreements) | Q(parties_as_unit__agreement__in=agreements)
    ).distinct()
    names = list(institutions.values_list("name", "native_name", "acronym", "aliases__name"))
    names += list(
        FocusArea.objects.filter(agreements__in=agreements).values_list("name").distinct()
    )
    names += list(
        Person.objects.filter(participations__agreement__in=agreements)
        .values_list("name", "aliases__name")
        .distinct()
    )
    return {
        word.casefold(): word
        for row in names
        for name in row
        if name
        for word in WORD.findall(name)
    }


def suggest(text, agreements):
    """`text` with each unknown word replaced by the closest known one, or None."""
    vocabulary = public_vocabulary(agreements)
    corrected, changed = [], False
    for term in search_terms(text):
        if term.casefold() in vocabulary:
            corrected.append(term)
            continue
        close = difflib.get_close_matches(term.casefold(), vocabulary, n=1, cutoff=0.75)
        corrected.append(vocabulary[close[0]] if close else term)
        changed |= bool(close)
    return " ".join(corrected) if changed else None
