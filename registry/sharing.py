"""What a public page tells search engines and the sites its address is shared on: its
canonical address, a description, Open Graph and Twitter card tags, and schema.org data where
one of its types fits the record (templates/components/sharing.html writes them).

A view builds it from what its page already read, so that it costs no query: `sharing(...)`
goes into the page's context as `share`. Only what the page itself shows the public goes in;
a staff preview of a draft has none (agreements.pages.agreement_detail)."""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from registry.models import InstitutionKind

DESCRIPTION_LENGTH = 160  # what search engines show of a description, about
WHITESPACE = re.compile(r"\s+")
# Open Graph names a locale by language and territory; Simplified Chinese is that of China.
OG_LOCALES = {"en": "en_GB", "zh-hans": "zh_CN"}
# As Django's json_script: no "<", ">" or "&" in the data, so that no value ends the element.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
ORGANIZATION_TYPES = {
    InstitutionKind.UNIVERSITY: "CollegeOrUniversity",
    InstitutionKind.COMPANY: "Corporation",
    InstitutionKind.GOVERNMENT: "GovernmentOrganization",
}


@dataclass
class Share:
    url: str
    title: str
    description: str
    type: str = "website"
    image: str = ""
    image_alt: str = ""
    data: dict | None = None
    locale: str = field(init=False)
    other_locales: list = field(init=False)

    def __post_init__(self):
        language = get_language()
        self.locale = OG_LOCALES.get(language, language)
        self.other_locales = [
            OG_LOCALES.get(code, code) for code, _name in settings.LANGUAGES if code != language
        ]

    def structured_data(self):
        """The schema.org data as a <script> element whose text no value can end early."""
        if not self.data:
            return ""
        text = json.dumps(self.data, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
        return format_html(
            '<script type="application/ld+json">{}</script>',
            mark_safe(text),  # noqa: S308 - escaped above, as json_script escapes
        )


def sharing(
    request, *, path, title, description, query=(), page=1, image=None, image_alt="", **more
):
    """The page's `share`: its canonical address is `path` with the parameters of `query`
    ((name, value) pairs, in the order given: those that choose what the page shows, never
    an empty one) and `page` when past the first; `image` a file field of a file the public
    may see. Addresses are absolute, by the request's host (one ALLOWED_HOSTS lets through)
    and scheme (behind the proxy, SECURE_PROXY_SSL_HEADER's)."""
    query = [(name, value) for name, value in query if value]
    if page > 1:
        query.append(("page", page))
    url = request.build_absolute_uri(f"{path}?{urlencode(query)}" if query else path)
    return Share(
        url=url,
        title=title,
        description=trimmed(description),
        image=request.build_absolute_uri(image.url) if image else "",
        image_alt=trimmed(image_alt) if image else "",
        **more,
    )


def trimmed(text, limit=DESCRIPTION_LENGTH):
    """`text` on one line, cut at the last whole word within `limit` characters."""
    text = WHITESPACE.sub(" ", str(text)).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]  # the ellipsis takes the place of the space before the cut word
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[: limit - 1]
    return cut.rstrip(" ,;:–—-") + "…"


def organization(request, institution):
    """An institution as schema.org has it: its kind's Organization type, its other names,
    its logo and place, its website, ROR and Wikidata records, and the institution it is part
    of."""
    names = [institution.native_name, institution.acronym]
    names += [alias.name for alias in institution.aliases.all()]
    # Its own website and its records elsewhere say which organisation this is; its page
    # here is its `url`, as a person's is.
    same_as = [institution.website] if institution.website else []
    if institution.ror:
        same_as.append(f"https://ror.org/{institution.ror}")
    if institution.wikidata:
        same_as.append(f"https://www.wikidata.org/wiki/{institution.wikidata}")
    data = {
        "@context": "https://schema.org",
        "@type": ORGANIZATION_TYPES.get(institution.kind, "Organization"),
        "name": institution.name,
        "alternateName": unique(names, institution.name),
        "url": request.build_absolute_uri(institution.get_absolute_url()),
        "sameAs": same_as,
    }
    if institution.logo:
        data["logo"] = request.build_absolute_uri(institution.logo.url)
    if institution.country or institution.city:
        data["address"] = without_empty(
            {
                "@type": "PostalAddress",
                "addressLocality": institution.city,
                "addressCountry": str(institution.country),
            }
        )
    if parent := institution.parent:
        data["parentOrganization"] = {
            "@type": ORGANIZATION_TYPES.get(parent.kind, "Organization"),
            "name": parent.name,
            "url": request.build_absolute_uri(parent.get_absolute_url()),
        }
    return without_empty(data)


def person(request, person):
    """A person as schema.org has it: the names only. What they did is each agreement's, at
    the time (a title, an organisation), not the person's now."""
    names = [person.native_name, *(alias.name for alias in person.aliases.all())]
    return without_empty(
        {
            "@context": "https://schema.org",
            "@type": "Person",
            "name": person.name,
            "alternateName": unique(names, person.name),
            "url": request.build_absolute_uri(person.get_absolute_url()),
        }
    )


def unique(names, besides):
    """`names` that are not empty, each once, in order, without `besides`."""
    return list(dict.fromkeys(name for name in names if name and name != besides))


def without_empty(data):
    return {key: value for key, value in data.items() if value}
