"""Names as people type them: the same name in other case, accents or character widths."""

import re
import unicodedata

from django.utils.text import slugify

WHITESPACE = re.compile(r"\s+")


def normalise_name(name):
    """The form two names share when they are the same name: `Ｈｕａｗｅｉ`, ` huawei ` and
    `HUAWEI` give one key; so do `Zürich` and `Zurich`. Only Latin diacritics are dropped, so
    that marks which change a letter in other scripts (Japanese dakuten) are kept."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
    text = "".join(c for c in text if not ("\u0300" <= c <= "\u036f"))
    return WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def unique_slug(model, text, *, max_length=80):
    """A slug for `text` not yet used by `model`; `slugify` keeps non-Latin names readable."""
    base = slugify(text, allow_unicode=True)[:max_length].strip("-") or model._meta.model_name
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug = f"{base[: max_length - 4]}-{number}"
        number += 1
    return slug
