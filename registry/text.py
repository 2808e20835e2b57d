"""Names as people type them (the same name in other case, accents or character widths), and
the names the registry makes of them: slugs, and the file names of downloads."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Trim
from django.db.models.lookups import Exact
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

WHITESPACE = re.compile(r"\s+")


def normalise_name(name):
    """The form two names share when they are the same name: `Ｈｕａｗｅｉ`, ` huawei ` and
    `HUAWEI` give one key; so do `Zürich` and `Zurich`. Only Latin diacritics are dropped, so
    that marks which change a letter in other scripts (Japanese dakuten) are kept."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
    text = "".join(c for c in text if not ("\u0300" <= c <= "\u036f"))
    return WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def shows_something(text):
    """Whether `text` holds a letter, digit, punctuation mark or symbol (an emoji is one):
    zero-width and other format characters, spaces other than ASCII's, which strip() keeps
    where it drops " ", and combining marks with nothing to combine with show nothing."""
    return any(unicodedata.category(character)[0] in "LNPS" for character in text)


def visible(text):
    """The validator of a record's name or title: one of zero-width spaces only ("\u200b")
    was a link with nothing to click on every page naming the record."""
    if not shows_something(text):
        raise ValidationError(
            _(
                "Give a name that shows: this holds no letter, digit or symbol, only spaces, "
                "invisible characters or combining marks."
            ),
            code="invisible",
        )


def not_blank_constraint(field, model_name, *, optional=False):
    """The database's share of `visible` (and of a slug being required): a text is not empty
    nor spaces alone, or, where the field is optional, is empty rather than spaces. Which
    characters show is Unicode's to say, which neither database's checks can ask."""
    blank = models.Q(Exact(Trim(field), ""))
    condition = models.Q(**{field: ""}) | ~blank if optional else ~blank
    return models.CheckConstraint(condition=condition, name=f"{model_name}_{field}_not_blank")


def unique_slug(model, text, *, max_length=80):
    """A slug for `text` not yet used by `model`; `slugify` keeps non-Latin names readable."""
    base = slugify(text, allow_unicode=True)[:max_length].strip("-") or model._meta.model_name
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug = f"{base[: max_length - 4]}-{number}"
        number += 1
    return slug


# The most characters of a file's name that say what it holds.
FILE_WORDS_LENGTH = 80


def file_name(*words, extension):
    """A download's name from the words that say what it holds (a report, its filters' values,
    a day): `companies-2026-12-07-huawei.csv`, Chinese kept, long ones cut at a word."""
    name = slugify(" ".join(str(word) for word in words if word), allow_unicode=True)
    if len(name) > FILE_WORDS_LENGTH:
        # Up to the last hyphen within one character more: a word ending at the limit stays.
        cut = name[: FILE_WORDS_LENGTH + 1]
        name = cut.rsplit("-", 1)[0] if "-" in cut else cut[:FILE_WORDS_LENGTH]
    return f"{name}.{extension}"


def attachment(response, *words, extension):
    """`response`, sent as a file named by `words` (file_name), as RFC 6266 says: a Chinese
    name with a plain fallback."""
    response["Content-Disposition"] = content_disposition_header(
        True, file_name(*words, extension=extension)
    )
    return response
